"""One cell's outputs during and after a request: messages in, coalesced doc writes out."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Map

from ..doc import cells
from ..doc.collab_map import ORIGIN
from ..trust.records import TrustRecords
from .reducer import OutputReducer


class CellOutputWriter:
    """The outputs of one request's cell: feeds messages to a reducer and flushes it into
    the cell, at most once per flush interval.

    It outlives its request while its cell shows a display that later executions may
    update, as JupyterLab keeps an output area's future until the cell runs again. Once
    closed (the cell ran again), it writes nothing more.
    """

    def __init__(
        self,
        notebook: YNotebook,
        document_id: str,
        cell_id: str,
        request_id: str,
        *,
        flush_interval: float,
        max_output_bytes: int | None,
        trust: TrustRecords,
        index: int | None = None,
    ) -> None:
        self.request_id = request_id
        self._notebook = notebook
        self._document_id = document_id
        self._cell_id = cell_id
        self._trust = trust
        self._interval = flush_interval
        self._reducer = OutputReducer(max_output_bytes)
        self._timer: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._index = index
        self._closed = False

    def begin(self) -> None:
        """The kernel started the request: its first outputs wait one interval, so a quick
        cell's outputs reach clients in the same update as its final status."""
        self._last_flush = time.monotonic()

    @property
    def drops_streams(self) -> bool:
        """Whether stream output would be dropped now: the cap is reached."""
        return self._reducer.drops_streams

    def on_message(self, msg_type: str, content: dict[str, Any]) -> None:
        if self._reducer.add_message(msg_type, content):
            self._schedule()

    def update_display(self, display_id: str, output: dict[str, Any]) -> None:
        if self._reducer.update_display(display_id, output):
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None or self._closed:
            return
        delay = max(0.0, self._last_flush + self._interval - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed or not self._reducer.has_pending:
            return
        ycell = self.cell()
        if ycell is None:
            return
        with self._notebook.ydoc.transaction(origin=ORIGIN):
            self._reducer.flush(cells.cell_outputs(ycell))
        # What browsers may trust: exactly what was written now.
        self._trust.cell_written(self._document_id, self._cell_id, self._reducer.digests())
        self._last_flush = time.monotonic()

    def outputs(self) -> list[dict[str, Any]]:
        """The request's outputs as its cell shows them, in nbformat."""
        return self._reducer.outputs()

    def cell(self) -> Map[Any] | None:
        """The cell in the shared notebook, where it is now."""
        found = cells.find_cell(self._notebook.ycells, self._cell_id, self._index)
        if found is None:
            self._index = None
            return None
        self._index, ycell = found
        return ycell

    def close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
