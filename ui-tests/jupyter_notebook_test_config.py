"""Server configuration for the integration tests in Notebook 7 (the `notebook` project).

The JupyterLab configuration (jupyter_server_test_config.py), with the Notebook 7
application exposed to Galata; playwright.config.js gives it its own port. Never use it in
production: it removes every security protection.
"""

from pathlib import Path
from typing import Any, cast

c = cast(Any, globals()["c"])
load_subconfig = globals()["load_subconfig"]
load_subconfig(str(Path(__file__).resolve().parent / "jupyter_server_test_config.py"))

c.JupyterNotebookApp.expose_app_in_browser = True
