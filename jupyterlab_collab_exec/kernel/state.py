"""The kernel's execution state, as `collab_exec.kernel` shows it.

It comes from the server's own conversation with the kernel, not from the kernel manager
(whose state stays `starting` for a gateway kernel). A kernel reports busy and idle for
every message it handles, whoever sent it: browsers send kernel_info, comm_info and debug
requests, some on the control channel while a cell runs. Like JupyterLab, the tracker
ignores the status of the message types jupyter_server does not track as activity, and it
counts the requests in progress, so that a short request handled during a long one does not
make the kernel look idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from ..doc.collab_map import ORIGIN, set_kernel_state
from ..doc.rooms import NotebookRooms
from .events import KernelStatus

LIFECYCLE_STATES = frozenset({"starting", "restarting", "dead"})
# The kernel's state flips for every cell: write it at most every few flush intervals.
KERNEL_STATE_DELAY_FACTOR = 4


class KernelStateTracker:
    """Busy while any tracked request is in progress; pure, fed with status messages."""

    def __init__(self, untracked: Iterable[str]) -> None:
        self._untracked = frozenset(untracked)
        self._in_progress: set[str] = set()
        self.state = "starting"
        # Whether the state is known (from the kernel, or from a local kernel's manager),
        # rather than guessed: a gateway kernel the server just met may have run for hours.
        self.known = False

    def reset(self, state: str) -> None:
        self._in_progress.clear()
        self.state = state
        self.known = True

    def update(self, status: KernelStatus) -> bool:
        """Apply one status message; returns whether the state changed."""
        before = self.state
        self.known = True
        if status.state in LIFECYCLE_STATES:
            if status.parent_id is None:
                self.reset(status.state)
        elif status.parent_type in self._untracked:
            # As jupyter_server does, a kernel that answers anything has started.
            if self.state == "starting":
                self.state = "idle"
        elif status.state in ("busy", "idle"):
            key = status.parent_id or ""
            if status.state == "busy":
                self._in_progress.add(key)
            elif key:
                self._in_progress.discard(key)
            else:
                self._in_progress.clear()
            self.state = "busy" if self._in_progress else "idle"
        return self.state != before

    def settled(self, msg_id: str) -> bool:
        """A request of ours ended: an idle it never reported must not keep the kernel
        busy. Returns whether the state changed."""
        if msg_id not in self._in_progress:
            return False
        self._in_progress.discard(msg_id)
        self.state = "busy" if self._in_progress else "idle"
        return self.state != "busy"


class KernelStateMirror:
    """Writes each kernel's state into the documents that run on it, throttled."""

    def __init__(
        self, rooms: NotebookRooms, flush_interval: float, untracked: Iterable[str]
    ) -> None:
        self._rooms = rooms
        self._untracked = frozenset(untracked)
        self._delay = KERNEL_STATE_DELAY_FACTOR * flush_interval
        self._trackers: dict[str, KernelStateTracker] = {}
        self._kernel_of_document: dict[str, str] = {}
        self._due: dict[str, asyncio.TimerHandle] = {}

    def tracker(self, kernel_id: str) -> KernelStateTracker:
        tracker = self._trackers.get(kernel_id)
        if tracker is None:
            tracker = self._trackers[kernel_id] = KernelStateTracker(self._untracked)
        return tracker

    def attach(self, document_id: str, kernel_id: str, fallback: str | None = None) -> None:
        """A document runs on a kernel now; its state shows there at once. Until the
        server talks to the kernel, `fallback` (the kernel manager's state) is shown."""
        self._kernel_of_document[document_id] = kernel_id
        tracker = self.tracker(kernel_id)
        if not tracker.known and fallback is not None:
            tracker.state = fallback
            tracker.known = True
        self.repair(document_id)

    def on_status(self, kernel_id: str, status: KernelStatus) -> None:
        tracker = self.tracker(kernel_id)
        if not tracker.update(status):
            return
        if tracker.state == "busy" and kernel_id not in self._due:
            # A run starts: shown at once, before its first outputs. Only the way back
            # to idle is throttled, which is where a flurry of short messages flaps.
            self._write(kernel_id)
        else:
            self._write_soon(kernel_id)

    def set_now(self, kernel_id: str, state: str) -> None:
        self.tracker(kernel_id).reset(state)
        due = self._due.pop(kernel_id, None)
        if due is not None:
            due.cancel()
        self._write(kernel_id)

    def settled(self, kernel_id: str, msg_id: str) -> None:
        if self.tracker(kernel_id).settled(msg_id):
            self._write_soon(kernel_id)

    def _write_soon(self, kernel_id: str) -> None:
        """The latest state, at most once per delay."""
        if kernel_id not in self._due:
            self._due[kernel_id] = asyncio.get_running_loop().call_later(
                self._delay, self._write_due, kernel_id
            )

    def repair(self, document_id: str) -> None:
        """Write the state of a document's kernel into it, if known."""
        kernel_id = self._kernel_of_document.get(document_id)
        notebook = self._rooms.live_notebook(document_id)
        # A state not known yet is not written: views say what they know themselves.
        if kernel_id is None or notebook is None or not self.tracker(kernel_id).known:
            return
        with notebook.ydoc.transaction(origin=ORIGIN):
            set_kernel_state(notebook.ydoc, kernel_id, self.tracker(kernel_id).state)

    def _write_due(self, kernel_id: str) -> None:
        self._due.pop(kernel_id, None)
        self._write(kernel_id)

    def _write(self, kernel_id: str) -> None:
        for document_id, document_kernel in self._kernel_of_document.items():
            if document_kernel == kernel_id:
                self.repair(document_id)

    def close(self) -> None:
        for due in self._due.values():
            due.cancel()
        self._due.clear()
