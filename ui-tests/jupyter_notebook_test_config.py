"""Server configuration for the integration tests in Notebook 7 (the `notebook` project).

The JupyterLab configuration (jupyter_server_test_config.py), on its own port, with the
Notebook 7 application exposed to Galata. Never use it in production: it removes every
security protection.
"""

from pathlib import Path
from typing import Any, cast

c = cast(Any, globals()["c"])
load_subconfig = globals()["load_subconfig"]
load_subconfig(str(Path(__file__).resolve().parent / "jupyter_server_test_config.py"))

c.ServerApp.port = 8892
c.JupyterNotebookApp.expose_app_in_browser = True
