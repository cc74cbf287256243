"""JupyterHub with collaboration accounts for the integration tests (the `hub` project).

The Hub of the pytest deployment tests (jupyterlab_collab_exec/tests/hub.py), which runs
examples/jupyterhub/jupyterhub_config.py, on a fixed port. The single-user servers expose
JupyterLab's app to the page, and keep their workspaces apart. Once the account `collab`
has its server running, the file that `UI_TESTS_HUB_STATE_FILE` names gets the shared
password, alice's API token and the display names; the tests wait for it.

Playwright stops this script as it stops any webServer (SIGTERM); the Hub is then stopped
by its process id, and it stops the proxy and the single-user servers.

Never use it in production: the password is a shared one, for the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from start_gateway_lab import STOP_SIGNALS, Stop, on_signal

from jupyterlab_collab_exec.tests.hub import COLLAB_ACCOUNT, HubProcess

HUB_PORT = int(os.environ.get("UI_TESTS_HUB_PORT", "8893"))
STATE_FILE = Path(os.environ.get("UI_TESTS_HUB_STATE_FILE", "hub-state.json"))
PEOPLE = ("alice", "bob")


def main() -> int:
    for signum in STOP_SIGNALS:
        signal.signal(signum, on_signal)
    root = Path(tempfile.mkdtemp(prefix="ui-tests-hub-"))
    hub = HubProcess(
        root,
        port=HUB_PORT,
        spawner_args=[
            "--LabApp.expose_app_in_browser=True",
            f"--LabApp.workspaces_dir={root / 'workspaces'}",
        ],
    )
    STATE_FILE.unlink(missing_ok=True)
    status = 0
    try:
        hub.start()
        print(f"JupyterHub (process {hub.process.pid if hub.process else '?'}) on {hub.url}")
        # Logged in before a token is minted, so that their display names are set.
        for username in PEOPLE:
            hub.log_in(username).close()
        state = {
            "password": hub.password,
            # The token that creates the tests' notebooks; people use their browsers.
            "alice_token": hub.token_for("alice"),
            "display_names": {username: hub.display_name(username) for username in PEOPLE},
        }
        hub.start_server(COLLAB_ACCOUNT)
        STATE_FILE.write_text(json.dumps(state))
        print("The collab account's server is ready.", flush=True)
        assert hub.process is not None
        status = hub.process.wait()
        print(f"JupyterHub exited with status {status}.", flush=True)
    except Stop:
        pass
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        hub.stop()
        STATE_FILE.unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
