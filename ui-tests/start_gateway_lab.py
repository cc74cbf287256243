"""JupyterLab for the integration tests, with its kernels behind a Kernel Gateway.

A jupyter-kernel-gateway listens on a free loopback port with an auth token of its own, and
JupyterLab, configured as `jlpm start` configures it (jupyter_server_test_config.py) but on
its own port, runs its kernels there through `GatewayClient.url` and
`GatewayClient.auth_token`. The kernels get `UI_TESTS_KERNEL_HOST=gateway` in their
environment, so that a test can tell where its kernel runs.

The gateway has a process group of its own: this script stops it by its process id once
JupyterLab has stopped, whether JupyterLab exits or this script is told to stop (Playwright
signals the webServer's process group, SIGTERM first). Should this script be killed
outright, Linux still ends the gateway (PR_SET_PDEATHSIG).

Never use it in production: the server configuration removes every security protection.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
LAB_PORT = int(os.environ.get("UI_TESTS_GATEWAY_LAB_PORT", "8890"))
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class Stop(Exception):
    """This script was told to stop."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def end_with_parent() -> None:
    """In the gateway's process, before it starts: SIGTERM once this script is gone."""
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # Not Linux: the signal handlers below still stop the gateway.


def wait_until_ready(url: str, token: str, gateway: subprocess.Popen[bytes]) -> None:
    request = urllib.request.Request(f"{url}/api", headers={"Authorization": f"token {token}"})
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if gateway.poll() is not None:
            raise SystemExit(f"The kernel gateway exited with status {gateway.returncode}.")
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit(f"The kernel gateway did not answer within {STARTUP_TIMEOUT:.0f} s.")
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def on_signal(signum: int, _frame: object) -> None:
    raise Stop(signum)


def main() -> int:
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    token = secrets.token_hex(16)
    url = f"http://127.0.0.1:{free_port()}"
    workdir = tempfile.TemporaryDirectory(prefix="ui-tests-kernel-gateway-")
    gateway_env = {
        **os.environ,
        # The kernelspec runs `python`: this environment's, which has ipykernel.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "JUPYTER_RUNTIME_DIR": str(Path(workdir.name) / "runtime"),
        "UI_TESTS_KERNEL_HOST": "gateway",
    }
    gateway = lab = None
    status = 0
    try:
        gateway = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kernel_gateway",
                "--KernelGatewayApp.ip=127.0.0.1",
                f"--KernelGatewayApp.port={url.rsplit(':', 1)[1]}",
                "--KernelGatewayApp.port_retries=0",
                f"--KernelGatewayApp.auth_token={token}",
                # jupyter_server lists the gateway's kernels; the gateway refuses otherwise.
                "--JupyterWebsocketPersonality.list_kernels=True",
                # Kernels inherit only the variables listed from the gateway's environment.
                "--KernelGatewayApp.env_process_whitelist=UI_TESTS_KERNEL_HOST",
            ],
            cwd=workdir.name,
            env=gateway_env,
            start_new_session=True,
            preexec_fn=end_with_parent,
        )
        print(f"Kernel gateway (process {gateway.pid}) on {url}", flush=True)
        wait_until_ready(url, token, gateway)
        lab = subprocess.Popen(
            [
                "jupyter",
                "lab",
                "--config",
                str(HERE / "jupyter_server_test_config.py"),
                f"--ServerApp.port={LAB_PORT}",
                f"--GatewayClient.url={url}",
                f"--GatewayClient.auth_token={token}",
                "--GatewayClient.request_timeout=60",
            ],
            cwd=HERE,
        )
        status = lab.wait()
        print(f"JupyterLab exited with status {status}.", flush=True)
    except Stop:
        pass
    finally:
        # Stop in order, whatever else arrives meanwhile.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        stop(lab)
        stop(gateway)
        workdir.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
