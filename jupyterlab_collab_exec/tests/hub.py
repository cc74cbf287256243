"""A real JupyterHub on loopback with collaboration accounts, for the deployment tests.

The Hub runs `examples/jupyterhub/jupyterhub_config.py`, the configuration that the docs give
operators, with this test's ports, folders and spawner added: configurable-http-proxy from
the project's node_modules, and single-user servers (`jupyterhub-singleuser` of this
environment) as local processes of this user. It is stopped by its process id; it stops the
proxy and the single-user servers itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .clients import free_port

STARTUP_TIMEOUT = 90.0
REPOSITORY = Path(__file__).resolve().parents[2]
EXAMPLE_CONFIG = REPOSITORY / "examples" / "jupyterhub" / "jupyterhub_config.py"
PROXY_COMMAND = REPOSITORY / "node_modules" / ".bin" / "configurable-http-proxy"
COLLAB_ACCOUNT = "collab"

# What the test adds to the example: ports, folders, a service that mints tokens, and a
# spawner of local processes. The single-user server ignores SIGINT when its stdin is not
# a terminal, so it is told to ignore it outright and the spawner moves on to SIGTERM.
TEST_CONFIG = """
import signal
from jupyterhub.spawner import SimpleLocalProcessSpawner

load_subconfig({example!r})


class TestSpawner(SimpleLocalProcessSpawner):
    def make_preexec_fn(self, name):
        prepare = super().make_preexec_fn(name)

        def preexec():
            prepare()
            signal.signal(signal.SIGINT, signal.SIG_IGN)

        return preexec


c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.JupyterHub.db_url = "sqlite:///{root}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{root}/jupyterhub_cookie_secret"
c.JupyterHub.spawner_class = TestSpawner
c.SimpleLocalProcessSpawner.home_dir_template = "{root}/home/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = {spawner_args!r}
c.Spawner.interrupt_timeout = 1
c.Spawner.term_timeout = 10
c.Spawner.start_timeout = 90
c.Spawner.http_timeout = 90
c.JupyterHub.services = [{{"name": "collab-exec-tests", "api_token": {service_token!r}}}]
c.JupyterHub.load_roles.append(
    {{
        "name": "collab-exec-tests",
        "scopes": ["admin:users", "admin:servers", "tokens", "read:users"],
        "services": ["collab-exec-tests"],
    }}
)
"""


# How long the Hub may take to stop its servers before its whole session is killed.
STOP_TIMEOUT = 30.0


class HubProcess:
    """`jupyterhub` in a process of its own, with the example's users and groups."""

    def __init__(
        self, root: Path, *, port: int | None = None, spawner_args: list[str] | None = None
    ) -> None:
        self.root = root
        self.port = port or free_port()
        self.extra_spawner_args = list(spawner_args or [])
        self.hub_port = free_port()
        self.proxy_api_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.service_token = uuid.uuid4().hex
        self.password = uuid.uuid4().hex
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "jupyterhub.log"

    # Life

    def start(self) -> None:
        if not PROXY_COMMAND.exists():
            raise RuntimeError("configurable-http-proxy is missing: `jlpm install` installs it.")
        self.root.mkdir(parents=True, exist_ok=True)
        spawner_args = ["--YDocExtension.document_save_delay=0.2", *self.extra_spawner_args]
        if os.geteuid() == 0:
            spawner_args.append("--ServerApp.allow_root=True")
        config = self.root / "jupyterhub_config.py"
        config.write_text(
            TEST_CONFIG.format(
                example=str(EXAMPLE_CONFIG),
                port=self.port,
                hub_port=self.hub_port,
                proxy_api_port=self.proxy_api_port,
                proxy=str(PROXY_COMMAND),
                root=self.root,
                singleuser=str(Path(sys.executable).parent / "jupyterhub-singleuser"),
                spawner_args=spawner_args,
                service_token=self.service_token,
            )
        )
        environment = {
            **os.environ,
            "DEMO_PASSWORD": self.password,
            "CONFIGPROXY_AUTH_TOKEN": uuid.uuid4().hex,
            # The spawner and the proxy are found on the PATH of this environment.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "jupyterhub", "-f", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=environment,
                start_new_session=True,
            )
        self._wait(lambda: self.api("GET", "").status_code == 200, "the Hub answers")

    def stop(self) -> None:
        """Stop the Hub, and then whatever of its session is left (the proxy, single-user
        servers and their kernels). The wait fits within the 60 s that Playwright gives the
        launcher before it kills it: a Hub that outlived its launcher would hold the port
        for the next run."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # The Hub's API, as the test's service

    def api(self, method: str, path: str, body: Any = None) -> httpx.Response:
        try:
            return httpx.request(
                method,
                f"{self.url}/hub/api/{path}",
                headers={"Authorization": f"token {self.service_token}"},
                json=body,
                timeout=30,
            )
        except httpx.TransportError:
            return httpx.Response(599)

    def log_in(self, username: str) -> httpx.Client:
        """Log a user in through the login form, as a browser does: the authenticator sets
        their display name then. Returns the client with their Hub cookies."""
        client = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        page = client.get("/hub/login")
        page.raise_for_status()
        xsrf = form_value(page.text, "_xsrf") or client.cookies.get("_xsrf", "")
        response = client.post(
            "/hub/login",
            data={"username": username, "password": self.password, "_xsrf": xsrf},
        )
        if response.status_code != 302:
            raise AssertionError(f"{username} could not log in: {response.status_code}")
        return client

    def browser_for(self, username: str, server_url: str) -> httpx.Client:
        """A user's cookies for another user's server, as a browser gets them: log in, open
        the server, authorize access on the Hub's page, and come back with the cookie."""
        browser = self.log_in(username)
        response = browser.get(f"{server_url}/lab")
        for _ in range(10):
            if response.is_redirect:
                response = browser.get(response.url.join(response.headers["location"]))
            elif response.status_code == 200 and "oauth2" in response.url.path:
                # The Hub asks the user to authorize access to the other user's server.
                scopes = re.findall(r'name="scopes"\s+value="([^"]+)"', response.text)
                xsrf = form_value(response.text, "_xsrf") or ""
                response = browser.post(response.url, data={"_xsrf": xsrf, "scopes": scopes})
            else:
                break
        if response.status_code != 200 or not str(response.url).startswith(server_url):
            raise AssertionError(f"{username} did not reach {server_url}: {response.url}")
        return browser

    def display_name(self, username: str) -> str | None:
        """The display name that the Hub holds for a user, from their last login."""
        response = self.api("GET", f"users/{username}")
        response.raise_for_status()
        user_info = response.json().get("user_info") or {}
        return user_info.get("display_name")

    def token_for(self, username: str) -> str:
        """A new API token of a user (log them in first: the Hub's auth caches a token's
        user for minutes)."""
        response = self.api(
            "POST", f"users/{username}/tokens", {"note": "collab-exec tests", "expires_in": 3600}
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def start_server(self, username: str) -> str:
        """Start a user's single-user server; returns its URL through the proxy."""
        response = self.api("POST", f"users/{username}/server")
        if response.status_code not in (201, 202, 400):
            raise AssertionError(f"starting {username}'s server: {response.status_code}")

        def ready() -> bool:
            model = self.api("GET", f"users/{username}").json()
            return bool(model.get("servers", {}).get("", {}).get("ready"))

        self._wait(ready, f"{username}'s server is ready")
        return f"{self.url}/user/{username}"

    # Helpers

    def _wait(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited:\n{self.log_tail()}")
            try:
                if condition():
                    return
            except (httpx.TransportError, ValueError, KeyError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Timed out waiting until {what}:\n{self.log_tail()}")
            time.sleep(0.2)


def form_value(html: str, name: str) -> str | None:
    """The value of a hidden field of an HTML form."""
    match = re.search(rf'name="{re.escape(name)}"\s+value="([^"]+)"', html)
    return match.group(1) if match else None
