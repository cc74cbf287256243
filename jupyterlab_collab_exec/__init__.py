"""jupyterlab-collab-exec: durable, shared, server-side notebook execution for JupyterLab RTC."""

from __future__ import annotations

from typing import Any

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only outside an installed or editable package
    import warnings

    warnings.warn("Importing 'jupyterlab_collab_exec' outside a proper installation.", stacklevel=2)
    __version__ = "dev"


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "jupyterlab-collab-exec"}]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import CollabExecApp

    return [{"module": "jupyterlab_collab_exec.app", "app": CollabExecApp}]
