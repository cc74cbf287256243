"""Server configuration for the integration tests.

Never use it in production: it removes every security protection.
"""

from pathlib import Path
from typing import Any, cast

from jupyterlab.galata import configure_jupyter_server

c = cast(Any, globals()["c"])
configure_jupyter_server(c)

c.ServerApp.allow_root = True
# Collaboration and this extension are enabled by their installed configuration.
c.YDocExtension.document_cleanup_delay = 2
c.CollabExecApp.flush_interval = 0.05
c.SQLiteYStore.db_path = str(Path(c.ServerApp.root_dir) / ".jupyter_ystore.db")
