"""A real Jupyter Kernel Gateway on loopback, for the tests of remote kernels.

The server under test reaches it through `GatewayClient.url` and `GatewayClient.auth_token`,
as a deployment would reach a Kernel Gateway or an Enterprise Gateway (`enterprise_gateway.py`
starts the latter on the same model).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from .clients import free_port

STARTUP_TIMEOUT = 60.0


class GatewayProcess:
    """A gateway in a process of its own, stopped by its process id."""

    # Names the gateway in its log file and in errors.
    name = "gateway"

    def __init__(self, root: Path, *arguments: str) -> None:
        self.root = root
        self.token = uuid.uuid4().hex
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.arguments = list(arguments)
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / f"{self.name}-{self.port}.log"

    def command(self) -> list[str]:
        """The command line that starts the gateway, `self.arguments` last."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """The gateway's environment; called once the root folder exists."""
        raise NotImplementedError

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.root,
                env=self.environment(),
            )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"The {self.name} exited; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/api", headers=self.headers, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"The {self.name} did not start; see {self.log_path}")
            time.sleep(0.1)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    def server_config(self) -> dict[str, Any]:
        """What a jupyter_server needs to run its kernels on this gateway."""
        return {"url": self.url, "auth_token": self.token, "request_timeout": 60.0}

    def pause(self) -> None:
        """The gateway stops answering, its connections left open."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def delete_kernel(self, kernel_id: str) -> None:
        """Shut a kernel down on the gateway itself, behind the server's back."""
        response = httpx.delete(
            f"{self.url}/api/kernels/{kernel_id}", headers=self.headers, timeout=30
        )
        response.raise_for_status()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


class KernelGatewayProcess(GatewayProcess):
    """`jupyter kernelgateway` of this environment, whose kernels run this environment's
    ipykernel."""

    name = "kernel-gateway"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "kernel_gateway",
            "--KernelGatewayApp.ip=127.0.0.1",
            f"--KernelGatewayApp.port={self.port}",
            "--KernelGatewayApp.port_retries=0",
            f"--KernelGatewayApp.auth_token={self.token}",
            # jupyter_server lists the gateway's kernels; the gateway refuses otherwise.
            "--JupyterWebsocketPersonality.list_kernels=True",
            *self.arguments,
        ]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            # The kernelspec runs `python`: this environment's, with ipykernel.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
            "JUPYTER_RUNTIME_DIR": str(self.root / "runtime"),
        }
