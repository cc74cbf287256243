"""A real Jupyter Enterprise Gateway in its local mode on loopback, for the tests of remote
kernels.

It runs from a virtual environment of its own that `make` installs (Enterprise Gateway 3.3
pins jupyter_server 1 and jupyter_client 6, which this project's environment cannot share),
and starts its kernels from a kernelspec pointing at this environment's python, with
ipykernel and ipywidgets: the gateway and the kernels are separate environments, as in a
deployment. The command line and the server's settings are the recipe of
docs/remote-kernels.md.
"""

from __future__ import annotations

import os
from pathlib import Path

from ipykernel.kernelspec import install as install_kernelspec

from .gateway import GatewayProcess

REPOSITORY = Path(__file__).resolve().parents[2]
# The Makefile's ENTERPRISE_GATEWAY_VENV.
ENTERPRISE_GATEWAY_VENV = REPOSITORY / ".venv-enterprise-gateway"
ENTERPRISE_GATEWAY_COMMAND = ENTERPRISE_GATEWAY_VENV / "bin" / "jupyter-enterprisegateway"
# The user the server names when it starts a kernel. The gateway refuses `root`, which it
# assumes when the server names nobody.
KERNEL_USERNAME = "collab-exec-tests"


class EnterpriseGatewayProcess(GatewayProcess):
    """`jupyter enterprisegateway` in its local mode: kernels are processes on this machine."""

    name = "enterprise-gateway"

    def command(self) -> list[str]:
        if not ENTERPRISE_GATEWAY_COMMAND.exists():
            raise RuntimeError(
                f"Enterprise Gateway is not installed in {ENTERPRISE_GATEWAY_VENV.name}:"
                " run `make enterprise-gateway`"
            )
        return [
            str(ENTERPRISE_GATEWAY_COMMAND),
            "--EnterpriseGatewayApp.ip=127.0.0.1",
            f"--EnterpriseGatewayApp.port={self.port}",
            "--EnterpriseGatewayApp.port_retries=0",
            f"--EnterpriseGatewayApp.auth_token={self.token}",
            # jupyter_server lists the gateway's kernels; the gateway answers 403 otherwise.
            "--EnterpriseGatewayApp.list_kernels=True",
            *self.arguments,
        ]

    def environment(self) -> dict[str, str]:
        kernels_prefix = self.root / "kernels"
        install_kernelspec(prefix=str(kernels_prefix), kernel_name="python3")
        # Only what the server sends names the kernel's user, as with a gateway elsewhere.
        inherited = {
            name: value for name, value in os.environ.items() if not name.startswith("KERNEL_")
        }
        return {
            **inherited,
            "JUPYTER_PATH": str(kernels_prefix / "share" / "jupyter"),
            "JUPYTER_RUNTIME_DIR": str(self.root / "runtime"),
        }
