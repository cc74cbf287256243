"""The execution service: accepts requests, runs them one at a time per kernel, and writes
everything they produce into the shared notebook."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Map

from . import cells, lifecycle
from .errors import InvalidRequest, NotFound
from .kernel_conversation import ExecutionOutcome, KernelConversation, KernelGone
from .lifecycle import KernelQueue, Person, QueuedRequest
from .outputs import OutputReducer
from .room_access import RoomAccess

ORIGIN = "collab_exec"


@dataclass(frozen=True)
class CellSpec:
    cell_id: str
    source: str | None = None


@dataclass(frozen=True)
class ExecutionSettings:
    flush_interval: float = 0.05
    retained_requests: int = 200


@dataclass(frozen=True)
class _ResolvedCell:
    cell_id: str
    ycell: Map[Any]
    code: str


def resolve_cells(
    notebook: YNotebook, document_id: str, specs: Sequence[CellSpec]
) -> list[_ResolvedCell]:
    """Find every cell of a batch and the code to run, or raise before anything changes."""
    resolved = []
    for spec in specs:
        ycell = cells.find_cell(notebook.ycells, spec.cell_id)
        if ycell is None:
            raise NotFound(f"Unknown cell {spec.cell_id!r} in document {document_id!r}.")
        if not cells.is_code_cell(ycell):
            raise InvalidRequest(f"Cell {spec.cell_id!r} is not a code cell.")
        code = spec.source if spec.source is not None else cells.cell_source(ycell)
        resolved.append(_ResolvedCell(cell_id=spec.cell_id, ycell=ycell, code=code))
    return resolved


class CellOutputWriter:
    """Feeds one execution's messages to a reducer and flushes it into the cell, at most
    once per flush interval."""

    def __init__(
        self,
        notebook: YNotebook,
        cell_id: str,
        interval: float,
        may_write: Callable[[], bool],
    ) -> None:
        self._notebook = notebook
        self._cell_id = cell_id
        self._interval = interval
        self._may_write = may_write
        self._reducer = OutputReducer()
        self._timer: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self.flush_count = 0

    def on_message(self, msg_type: str, content: dict[str, Any], msg: dict[str, Any]) -> None:
        if self._reducer.add_message(msg_type, content):
            self._schedule()

    def _schedule(self) -> None:
        if self._timer is not None:
            return
        delay = max(0.0, self._last_flush + self._interval - time.monotonic())
        self._timer = asyncio.get_running_loop().call_later(delay, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._reducer.has_pending or not self._may_write():
            return
        ycell = cells.find_cell(self._notebook.ycells, self._cell_id)
        if ycell is None:
            return
        with self._notebook.ydoc.transaction(origin=ORIGIN):
            self._reducer.flush(cells.cell_outputs(ycell))
        self._last_flush = time.monotonic()
        self.flush_count += 1


class ExecutionService:
    def __init__(
        self,
        kernel_manager: Any,
        rooms: RoomAccess,
        settings: ExecutionSettings,
        log: logging.Logger,
    ) -> None:
        self._kernel_manager = kernel_manager
        self._rooms = rooms
        self._settings = settings
        self._log = log
        self._queues: dict[str, KernelQueue] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._conversations: dict[str, KernelConversation] = {}
        self._conversation_locks: dict[str, asyncio.Lock] = {}
        # The latest accepted request of a cell owns its outputs, as in JupyterLab, where
        # scheduling a cell again replaces the output area's future.
        self._cell_owner: dict[tuple[str, str], str] = {}
        self._active_per_cell: Counter[tuple[str, str]] = Counter()

    def has_kernel(self, kernel_id: str) -> bool:
        return kernel_id in self._kernel_manager

    async def submit(
        self,
        document_id: str,
        kernel_id: str,
        specs: Sequence[CellSpec],
        *,
        record_timing: bool,
        submitted_by: Person,
    ) -> list[QueuedRequest]:
        """Accept a batch: queue its requests and show them in the doc at once."""
        if not specs:
            raise InvalidRequest("'cells' must list at least one cell.")
        if not self.has_kernel(kernel_id):
            raise NotFound(f"Unknown kernel {kernel_id!r}.")
        # One lease per request, each released when its request ends.
        notebook = await self._rooms.acquire(document_id, count=len(specs))
        try:
            resolved = resolve_cells(notebook, document_id, specs)
        except Exception:
            await self._rooms.release(document_id, count=len(specs))
            raise

        # From here on nothing awaits, so the cells cannot change before they are queued.
        batch_id = lifecycle.new_request_id()
        accepted = [
            QueuedRequest(
                request_id=lifecycle.new_request_id(),
                document_id=document_id,
                kernel_id=kernel_id,
                cell_id=cell.cell_id,
                code=cell.code,
                batch_id=batch_id,
                record_timing=record_timing,
                submitted_by=submitted_by,
            )
            for cell in resolved
        ]
        submitted_at = lifecycle.now_ms()
        ydoc = notebook.ydoc
        with ydoc.transaction(origin=ORIGIN):
            for request, cell in zip(accepted, resolved, strict=True):
                lifecycle.add_queued_request(
                    ydoc,
                    request_id=request.request_id,
                    cell_id=request.cell_id,
                    kernel_id=kernel_id,
                    submitted_by=submitted_by,
                    submitted_at=submitted_at,
                )
                cells.clear_execution(cell.ycell, running=True)
                key = (document_id, request.cell_id)
                self._cell_owner[key] = request.request_id
                self._active_per_cell[key] += 1
        self._queues.setdefault(kernel_id, KernelQueue()).extend(accepted)
        worker = self._workers.get(kernel_id)
        if worker is None or worker.done():
            self._workers[kernel_id] = asyncio.create_task(self._drain(kernel_id))
        return accepted

    async def _drain(self, kernel_id: str) -> None:
        queue = self._queues[kernel_id]
        while (request := queue.pop()) is not None:
            try:
                status = await self._run(request)
            except Exception:
                self._log.exception("Running request %s failed", request.request_id)
                status = "error"
                await self._finish(request, "error", None)
            if status == "error":
                for skipped in queue.remove_batch(request.batch_id):
                    await self._finish(skipped, "cancelled", None)

    async def _conversation(self, kernel_id: str) -> KernelConversation:
        lock = self._conversation_locks.setdefault(kernel_id, asyncio.Lock())
        async with lock:
            conversation = self._conversations.get(kernel_id)
            if conversation is not None and conversation.alive:
                return conversation
            if conversation is not None:
                await conversation.stop()
            kernel = self._kernel_manager.get_kernel(kernel_id)
            conversation = KernelConversation(kernel_id, kernel.client(), self._log)
            await conversation.start()
            self._conversations[kernel_id] = conversation
            return conversation

    def _owns_cell(self, request: QueuedRequest) -> bool:
        key = (request.document_id, request.cell_id)
        return self._cell_owner.get(key) == request.request_id

    async def _run(self, request: QueuedRequest) -> str:
        notebook = await self._rooms.open(request.document_id)
        ydoc = notebook.ydoc
        if not request.code.strip():
            # JupyterLab does not send blank cells to the kernel.
            await self._finish(request, "ok", None)
            return "ok"
        with ydoc.transaction(origin=ORIGIN):
            lifecycle.update_request(
                ydoc, request.request_id, status="running", started_at=lifecycle.now_ms()
            )
        writer = CellOutputWriter(
            notebook,
            request.cell_id,
            self._settings.flush_interval,
            lambda: self._owns_cell(request),
        )
        try:
            if not self.has_kernel(request.kernel_id):
                raise KernelGone("The kernel no longer exists.")
            conversation = await self._conversation(request.kernel_id)
            outcome = await conversation.execute(request.code, writer.on_message)
        except KernelGone as gone:
            self._log.warning("Request %s: %s", request.request_id, gone)
            writer.flush()
            await self._finish(request, "interrupted", None)
            return "interrupted"
        writer.flush()
        status = "ok" if outcome.status == "ok" else "error"
        await self._finish(request, status, outcome)
        return status

    async def _finish(
        self, request: QueuedRequest, status: str, outcome: ExecutionOutcome | None
    ) -> None:
        """Record a final status, settle the cell, and release the room."""
        key = (request.document_id, request.cell_id)
        try:
            notebook = await self._rooms.open(request.document_id)
        except Exception:
            self._log.exception("Document of request %s is gone", request.request_id)
            notebook = None
        if notebook is not None:
            ydoc = notebook.ydoc
            with ydoc.transaction(origin=ORIGIN):
                fields: dict[str, Any] = {"status": status, "finished_at": lifecycle.now_ms()}
                count = outcome.execution_count if outcome is not None else None
                if count is not None:
                    fields["execution_count"] = count
                lifecycle.update_request(ydoc, request.request_id, **fields)
                ycell = cells.find_cell(notebook.ycells, request.cell_id)
                if ycell is not None:
                    if outcome is not None and self._owns_cell(request):
                        cells.set_execution_count(ycell, count)
                        if request.record_timing:
                            cells.set_execution_metadata(ycell, outcome.timing)
                    if self._active_per_cell[key] <= 1:
                        cells.set_execution_state(ycell, "idle")
                lifecycle.prune_finished(ydoc, self._settings.retained_requests)
        self._active_per_cell[key] -= 1
        if self._active_per_cell[key] <= 0:
            del self._active_per_cell[key]
            if self._cell_owner.get(key) == request.request_id:
                del self._cell_owner[key]
        await self._rooms.release(request.document_id)

    async def close(self) -> None:
        for worker in self._workers.values():
            worker.cancel()
        for conversation in self._conversations.values():
            await conversation.stop()
        self._conversations.clear()
