"""JupyterLab for the integration tests that restart the server.

JupyterLab runs as `jlpm start` configures it (jupyter_server_test_config.py), on its own
port and with a root folder that outlives it. On SIGUSR1 this script stops it (SIGTERM,
as an operator's restart does: kernels are shut down, rooms saved) and starts it again
on the same port and folder. A test finds this script's process id in the file that
`UI_TESTS_RESTART_PID_FILE` names.

Playwright stops this script as it stops any webServer (SIGTERM to its process group);
JupyterLab is then stopped and the folder removed.

Never use it in production: the server configuration removes every security protection.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from start_gateway_lab import STOP_SIGNALS, Stop, on_signal, stop

HERE = Path(__file__).resolve().parent
LAB_PORT = int(os.environ.get("UI_TESTS_RESTART_LAB_PORT", "8891"))
PID_FILE = Path(os.environ.get("UI_TESTS_RESTART_PID_FILE", HERE / "restartable-lab.pid"))


class Restart(Exception):
    """This script was told to restart JupyterLab."""


def on_restart(_signum: int, _frame: object) -> None:
    raise Restart


def start_lab(root: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            "jupyter",
            "lab",
            "--config",
            str(HERE / "jupyter_server_test_config.py"),
            f"--ServerApp.port={LAB_PORT}",
        ],
        cwd=HERE,
        # The test configuration serves this folder, and keeps its YStore there.
        env={**os.environ, "JUPYTERLAB_GALATA_ROOT_DIR": root},
    )


def main() -> int:
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    root = tempfile.mkdtemp(prefix="ui-tests-restartable-lab-")
    lab = None
    status = 0
    PID_FILE.write_text(str(os.getpid()))
    try:
        while True:
            signal.signal(signal.SIGUSR1, on_restart)
            lab = start_lab(root)
            print(f"JupyterLab (process {lab.pid}) on port {LAB_PORT}", flush=True)
            try:
                status = lab.wait()
                print(f"JupyterLab exited with status {status}.", flush=True)
                return status
            except Restart:
                # One restart at a time: a second request during this one is dropped.
                signal.signal(signal.SIGUSR1, signal.SIG_IGN)
                print("Restarting JupyterLab.", flush=True)
                stop(lab)
    except Stop:
        pass
    finally:
        # Stop in order, whatever else arrives meanwhile.
        for signum in (*STOP_SIGNALS, signal.SIGUSR1):
            signal.signal(signum, signal.SIG_IGN)
        stop(lab)
        PID_FILE.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
