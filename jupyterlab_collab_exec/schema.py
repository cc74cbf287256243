"""The `collab_exec` root map of a notebook's Y.Doc, written down once for Python.

docs/ydoc-schema.md describes it; src/schema.ts mirrors it for the frontend.
"""

from __future__ import annotations

from typing import Final, Literal

ROOT: Final = "collab_exec"
KERNEL: Final = "kernel"
REQUESTS: Final = "requests"
INPUTS: Final = "inputs"

RequestStatus = Literal[
    "queued", "running", "awaiting_input", "ok", "error", "cancelled", "interrupted"
]
ACTIVE_STATUSES: Final[frozenset[str]] = frozenset({"queued", "running", "awaiting_input"})
FINAL_STATUSES: Final[frozenset[str]] = frozenset({"ok", "error", "cancelled", "interrupted"})

KernelExecutionState = Literal["idle", "busy", "starting", "restarting", "dead"]

InputStatus = Literal["pending", "answered", "cancelled"]

# Keys of one entry of `requests`.
CELL_ID: Final = "cell_id"
KERNEL_ID: Final = "kernel_id"
STATUS: Final = "status"
SUBMITTED_BY: Final = "submitted_by"
SUBMITTED_AT: Final = "submitted_at"
STARTED_AT: Final = "started_at"
FINISHED_AT: Final = "finished_at"
EXECUTION_COUNT: Final = "execution_count"

# Keys of `kernel`.
EXECUTION_STATE: Final = "execution_state"
