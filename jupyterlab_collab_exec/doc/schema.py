"""The `collab_exec` root map of a notebook's Y.Doc, written down once for Python.

docs/ydoc-schema.md describes it; src/schema.ts mirrors it for the frontend.
"""

from __future__ import annotations

from typing import Final

ROOT: Final = "collab_exec"
KERNEL: Final = "kernel"
REQUESTS: Final = "requests"
INPUTS: Final = "inputs"
# Per cell id, how many runs of the cell the run history recorded while the room was live:
# views refresh their history when it changes. Never outputs or sources.
HISTORY: Final = "history"

FINAL_STATUSES: Final[frozenset[str]] = frozenset({"ok", "error", "cancelled", "interrupted"})

# Keys of one entry of `requests`.
CELL_ID: Final = "cell_id"
KERNEL_ID: Final = "kernel_id"
STATUS: Final = "status"
SUBMITTED_BY: Final = "submitted_by"
SUBMITTED_AT: Final = "submitted_at"
STARTED_AT: Final = "started_at"
FINISHED_AT: Final = "finished_at"
EXECUTION_COUNT: Final = "execution_count"
REASON: Final = "reason"

# Keys of one entry of `inputs` (with CELL_ID and STATUS).
REQUEST_ID: Final = "request_id"
PROMPT: Final = "prompt"
PASSWORD: Final = "password"
VALUE: Final = "value"
ANSWERED_BY: Final = "answered_by"
ANSWERED_AT: Final = "answered_at"

# Keys of `kernel`.
EXECUTION_STATE: Final = "execution_state"

# The `collab_widgets` root map: the ipywidgets models of the notebook's kernel.
WIDGETS_ROOT: Final = "collab_widgets"
KERNEL_SESSION: Final = "kernel_session"
WIDGET_MODELS: Final = "models"
WIDGET_NOTICE: Final = "notice"

# Keys of one entry of `models`.
MODEL_NAME: Final = "model_name"
MODEL_MODULE: Final = "model_module"
MODEL_MODULE_VERSION: Final = "model_module_version"
WIDGET_STATE: Final = "state"
WIDGET_BUFFERS: Final = "buffers"
WIDGET_LIVE: Final = "live"
WIDGET_CLOSED: Final = "closed"
# The kernel's header date of the last message applied to the model, in microseconds.
WIDGET_KERNEL_TIME: Final = "kernel_time"
