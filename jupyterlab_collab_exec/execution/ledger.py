"""The request ledger: the only writer of request status, in memory and in the doc.

Each request has one phase. It is accepted `queued`, becomes `sent` when its
execute_request goes to the kernel (still `queued` in the doc: the kernel has not started
it), `running` when the kernel starts it, `awaiting_input` while the kernel waits on stdin,
and ends once, through `end`, in one of the final statuses. Ending a request settles
everything that hangs on it: its outputs, its pending inputs, its cell, the pruning of old
records and the room lease taken for it.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_ydoc import YNotebook

from ..common.errors import DocumentNotFound
from ..common.tasks import BackgroundTasks
from ..doc import cells, schema
from ..doc.cells import ResolvedCell
from ..doc.collab_map import ORIGIN, Person, now_ms, requests_map
from ..doc.rooms import NotebookRooms, parse_notebook_room_id
from ..history.recorder import RunRecorder
from ..history.records import AnsweredInput, RunRecord
from ..inputs import records as inputs
from ..inputs.records import InputRegistry
from ..outputs.desk import CellRun, OutputDesk
from . import request_records

IN_KERNEL = frozenset({"sent", "running", "awaiting_input"})
# Pruning scans every entry, so it runs only once the map is a quarter over its size.
PRUNE_SLACK_FRACTION = 0.25
REASON_LIMIT = 300


def new_request_id() -> str:
    return uuid.uuid4().hex


class AcceptanceClock:
    """`submitted_at` stamps that strictly increase in acceptance order, so that ordering
    requests by it gives the queue's FIFO order, within a batch too."""

    def __init__(self) -> None:
        self._last = 0.0

    def stamp(self) -> float:
        self._last = max(now_ms(), self._last + 0.001)
        return self._last


@dataclass(eq=False)
class Request:
    """One accepted cell execution."""

    request_id: str
    document_id: str
    kernel_id: str
    cell_id: str
    code: str
    batch_id: str
    record_timing: bool
    submitted_by: Person
    submitted_at: float
    phase: str = "queued"
    started_at: float | None = None
    # The inputs answered during it, for the run history.
    answered: list[AnsweredInput] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The status the doc shows."""
        return "queued" if self.phase == "sent" else self.phase

    @property
    def in_kernel(self) -> bool:
        return self.phase in IN_KERNEL

    @property
    def ended(self) -> bool:
        return self.phase in schema.FINAL_STATUSES

    @property
    def run(self) -> CellRun:
        return CellRun(self.document_id, self.cell_id, self.request_id, self.kernel_id)


@dataclass(frozen=True)
class KernelReply:
    """What the kernel's execute_reply gives the cell."""

    execution_count: int | None
    timing: dict[str, str] = field(default_factory=dict)


class RequestLedger:
    def __init__(
        self,
        rooms: NotebookRooms,
        inputs_registry: InputRegistry,
        outputs: OutputDesk,
        tasks: BackgroundTasks,
        *,
        retained_requests: int,
        history: RunRecorder | None = None,
    ) -> None:
        self._rooms = rooms
        self._inputs = inputs_registry
        self._outputs = outputs
        self._tasks = tasks
        self._history = history
        self._retained = retained_requests
        self._clock = AcceptanceClock()
        self._active: dict[str, Request] = {}

    # Reading

    @property
    def active_ids(self) -> set[str]:
        return set(self._active)

    def get(self, request_id: str) -> Request | None:
        return self._active.get(request_id)

    def active(
        self, *, document_id: str | None = None, kernel_id: str | None = None
    ) -> list[Request]:
        """Active requests in acceptance order, of one document or kernel if asked."""
        return [
            request
            for request in self._active.values()
            if document_id in (None, request.document_id) and kernel_id in (None, request.kernel_id)
        ]

    @contextlib.contextmanager
    def transaction(self, document_id: str) -> Iterator[None]:
        """One doc transaction for several changes, when the document is live."""
        notebook = self._rooms.live_notebook(document_id)
        if notebook is None:
            yield
            return
        with notebook.ydoc.transaction(origin=ORIGIN):
            yield

    # Writing

    def accept(
        self,
        notebook: YNotebook,
        document_id: str,
        kernel_id: str,
        resolved: Sequence[ResolvedCell],
        *,
        record_timing: bool,
        submitted_by: Person,
    ) -> list[Request]:
        """Queue a batch: show every request queued and its cell running, in one update.

        The room must be leased once per request; `end` gives each lease back."""
        batch_id = new_request_id()
        accepted = []
        ydoc = notebook.ydoc
        with ydoc.transaction(origin=ORIGIN):
            for cell in resolved:
                request = Request(
                    request_id=new_request_id(),
                    document_id=document_id,
                    kernel_id=kernel_id,
                    cell_id=cell.cell_id,
                    code=cell.code,
                    batch_id=batch_id,
                    record_timing=record_timing,
                    submitted_by=submitted_by,
                    submitted_at=self._clock.stamp(),
                )
                request_records.add_queued_request(
                    ydoc,
                    request_id=request.request_id,
                    cell_id=request.cell_id,
                    kernel_id=kernel_id,
                    submitted_by=submitted_by,
                    submitted_at=request.submitted_at,
                )
                cells.clear_execution(cell.ycell, running=True)
                self._outputs.take_cell(notebook, request.run, cell.index)
                self._active[request.request_id] = request
                accepted.append(request)
        return accepted

    def sent(self, request: Request) -> None:
        if request.phase == "queued":
            request.phase = "sent"

    def start(self, request: Request) -> None:
        """The kernel works on it now."""
        if request.phase == "sent":
            request.started_at = now_ms()
            self._set_phase(request, "running", **{schema.STARTED_AT: request.started_at})

    def await_input(self, request: Request) -> None:
        if request.phase in ("sent", "running"):
            self._set_phase(request, "awaiting_input")

    def resume(self, request: Request) -> None:
        """Its inputs are answered: it runs again."""
        if request.phase == "awaiting_input" and not self._inputs.pending_for_request(
            request.request_id
        ):
            self._set_phase(request, "running")

    def end(
        self,
        request: Request,
        status: str,
        *,
        reply: KernelReply | None = None,
        reason: str | None = None,
    ) -> bool:
        """The one way a request ends; False when it had already ended."""
        if self._active.pop(request.request_id, None) is None:
            return False
        assert status in schema.FINAL_STATUSES, status
        request.phase = status
        run = request.run
        finished_at = now_ms()
        reason = reason[:REASON_LIMIT] if reason else None
        try:
            notebook = self._rooms.live_notebook(request.document_id)
            if notebook is not None:
                with notebook.ydoc.transaction(origin=ORIGIN):
                    # The last outputs and the final status reach every client in one update.
                    self._outputs.flush(run)
                    self._write_end(notebook, request, reply, reason, finished_at)
                    self.cancel_inputs(request)
            else:
                self.cancel_inputs(request)
        finally:
            outputs = self._outputs.outputs(run)
            self._outputs.finish(run)
            self._tasks.spawn(
                self._rooms.release(request.document_id), f"Releasing {request.document_id}"
            )
        self._record(request, reply, reason, finished_at, outputs)
        return True

    def answered(self, request: Request, answered: AnsweredInput) -> None:
        """An input of the request was answered (its value left out for a password)."""
        request.answered.append(answered)

    def cancel_inputs(self, request: Request) -> None:
        """What a request still waits for will never be answered."""
        cancelled = self._inputs.cancel_for_request(request.request_id)
        notebook = self._rooms.live_notebook(request.document_id) if cancelled else None
        if notebook is not None:
            with notebook.ydoc.transaction(origin=ORIGIN):
                for pending in cancelled:
                    inputs.mark_cancelled(notebook.ydoc, pending.input_id)

    def _write_end(
        self,
        notebook: YNotebook,
        request: Request,
        reply: KernelReply | None,
        reason: str | None,
        finished_at: float,
    ) -> None:
        ydoc = notebook.ydoc
        fields: dict[str, Any] = {schema.STATUS: request.phase, schema.FINISHED_AT: finished_at}
        if reply is not None and reply.execution_count is not None:
            fields[schema.EXECUTION_COUNT] = reply.execution_count
        if reason:
            fields[schema.REASON] = reason
        request_records.update_request(ydoc, request.request_id, **fields)
        found = cells.find_cell(notebook.ycells, request.cell_id)
        if found is not None:
            ycell = found[1]
            if reply is not None and self._outputs.owns_cell(request.run):
                cells.set_execution_count(ycell, reply.execution_count)
                if request.record_timing:
                    cells.set_execution_metadata(ycell, reply.timing)
            if not any(
                (other.document_id, other.cell_id) == (request.document_id, request.cell_id)
                for other in self._active.values()
            ):
                cells.set_execution_state(ycell, "idle")
        slack = max(1, int(self._retained * PRUNE_SLACK_FRACTION))
        if len(requests_map(ydoc)) > self._retained + slack:
            request_records.prune_finished(ydoc, self._retained)

    def _record(
        self,
        request: Request,
        reply: KernelReply | None,
        reason: str | None,
        finished_at: float,
        outputs: list[dict[str, Any]] | None,
    ) -> None:
        """Hand the settled request to the run history, which writes it later."""
        if self._history is None or not self._history.enabled:
            return
        try:
            file_id = parse_notebook_room_id(request.document_id)
        except DocumentNotFound:
            return
        self._history.record(
            RunRecord(
                run_id=request.request_id,
                file_id=file_id,
                cell_id=request.cell_id,
                source=request.code,
                execution_count=reply.execution_count if reply is not None else None,
                status=request.phase,
                reason=reason,
                submitted_by=request.submitted_by.to_json(),
                submitted_at=request.submitted_at,
                started_at=request.started_at,
                finished_at=finished_at,
                outputs=outputs or [],
                output_count=len(outputs or []),
                inputs=list(request.answered),
            )
        )

    def _set_phase(self, request: Request, phase: str, **fields: Any) -> None:
        request.phase = phase
        notebook = self._rooms.live_notebook(request.document_id)
        if notebook is not None:
            with notebook.ydoc.transaction(origin=ORIGIN):
                request_records.update_request(
                    notebook.ydoc, request.request_id, status=request.status, **fields
                )
