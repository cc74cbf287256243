"""Server configuration for the integration tests.

Never use it in production: it removes every security protection.
"""

from typing import Any, cast

from jupyterlab.galata import configure_jupyter_server

c = cast(Any, globals()["c"])
configure_jupyter_server(c)

c.ServerApp.allow_root = True
# Collaboration and this extension are enabled by their installed configuration.
c.YDocExtension.document_cleanup_delay = 2
c.CollabExecApp.flush_interval = 0.05
