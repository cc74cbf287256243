"""The execution service: what the REST handlers and jupyter_server's events call.

It accepts and cancels requests, answers inputs and passes kernel actions on; the work
itself is done by one runner per kernel, and every request's status is written by the
request ledger alone.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_ydoc import YNotebook

from ..common.errors import Conflict, InvalidRequest, KernelUnavailable, NotFound
from ..common.tasks import BackgroundTasks
from ..doc import schema
from ..doc.cells import CellSpec, resolve_cells
from ..doc.collab_map import ORIGIN, Person, now_ms
from ..doc.rooms import RoomAccess
from ..history.recorder import RunRecorder
from ..history.records import AnsweredInput
from ..inputs import records as inputs
from ..inputs.records import InputRegistry, PendingInput
from ..kernel.connections import KernelConnector
from ..kernel.events import Interrupted, KernelLost, KernelRestarted
from ..kernel.state import KernelStateMirror
from ..outputs.desk import OutputDesk, OutputSettings
from ..trust.authority import TrustAnswer, TrustAuthority, TrustQuery
from ..widgets.blobs import WidgetBlobStore
from ..widgets.kernel_mirror import WidgetSettings
from ..widgets.mirror import WidgetMirror
from .guard import RootMapGuard, pending_input_typing
from .history import RunHistory
from .ledger import Request, RequestLedger
from .reconcile import reconcile
from .runner import KernelRunner, RunnerParts


@dataclass(frozen=True)
class ExecutionSettings:
    flush_interval: float = 0.05
    retained_requests: int = 200
    max_output_bytes: int | None = 20 * 1024 * 1024
    response_timeout: float = 60.0
    widget_snapshot_interval: float = 5.0
    max_widget_bytes: int | None = 64 * 1024 * 1024
    # Where large binary widget values are kept out of the docs (None: in the docs).
    widget_blob_dir: Path | None = None
    widget_blob_threshold: int = 16 * 1024


class ExecutionService:
    def __init__(
        self,
        kernel_manager: Any,
        rooms: RoomAccess,
        settings: ExecutionSettings,
        trust: TrustAuthority,
        log: logging.Logger,
        history: RunRecorder | None = None,
    ) -> None:
        self._rooms = rooms
        self._log = log
        self._tasks = BackgroundTasks(log)
        self._inputs = InputRegistry()
        self._trust = trust
        outputs = OutputDesk(
            OutputSettings(settings.flush_interval, settings.max_output_bytes), trust.records
        )
        self._ledger = RequestLedger(
            rooms,
            self._inputs,
            outputs,
            self._tasks,
            retained_requests=settings.retained_requests,
            history=history,
        )
        self._outputs = outputs
        # The run history's reads and restores, for the handlers.
        self.history = RunHistory(history, rooms, self._ledger, outputs, log)
        untracked = getattr(kernel_manager, "untracked_message_types", ())
        self._kernel_state = KernelStateMirror(rooms, settings.flush_interval, untracked)
        self._connector = KernelConnector(kernel_manager, log, settings.response_timeout)
        self._widgets = WidgetMirror(
            rooms,
            WidgetSettings(
                flush_interval=settings.flush_interval,
                snapshot_interval=settings.widget_snapshot_interval,
                max_widget_bytes=settings.max_widget_bytes,
                max_output_bytes=settings.max_output_bytes,
                blob_threshold=settings.widget_blob_threshold,
            ),
            trust.records,
            log,
            WidgetBlobStore(settings.widget_blob_dir, log)
            if settings.widget_blob_dir is not None
            else None,
        )
        # What clients write into the server's maps is put back, at any time.
        self._guards = (
            RootMapGuard(schema.ROOT, pending_input_typing),
            RootMapGuard(schema.WIDGETS_ROOT),
        )
        self._parts = RunnerParts(
            connector=self._connector,
            ledger=self._ledger,
            outputs=outputs,
            inputs=self._inputs,
            kernel_state=self._kernel_state,
            rooms=rooms,
            tasks=self._tasks,
            widgets=self._widgets,
            log=log,
            response_timeout=settings.response_timeout,
        )
        self._runners: dict[str, KernelRunner] = {}
        self._closing = False

    @property
    def active_request_ids(self) -> set[str]:
        return self._ledger.active_ids

    async def submit(
        self,
        document_id: str,
        kernel_id: str,
        specs: Sequence[CellSpec],
        *,
        record_timing: bool,
        submitted_by: Person,
    ) -> list[Request]:
        """Accept a batch: queue its requests and show them in the doc at once."""
        if not specs:
            raise InvalidRequest("'cells' must list at least one cell.")
        self._check_open()
        if not self._connector.has_kernel(kernel_id):
            raise NotFound(f"Unknown kernel {kernel_id!r}.")
        # One lease per request, each released when its request ends.
        notebook = await self._rooms.acquire(document_id, count=len(specs))
        try:
            resolved = resolve_cells(notebook, document_id, specs)
            self._check_open()
        except Exception:
            # Nothing changed: saving now would write `state.dirty` and `state.hash`.
            await self._rooms.release(document_id, count=len(specs), save=False)
            raise
        # From here on nothing awaits, so the cells cannot change before they are queued.
        with notebook.ydoc.transaction(origin=ORIGIN):
            accepted = self._ledger.accept(
                notebook,
                document_id,
                kernel_id,
                resolved,
                record_timing=record_timing,
                submitted_by=submitted_by,
            )
            self._kernel_state.attach(
                document_id, kernel_id, fallback=self._connector.manager_state(kernel_id)
            )
        self._widgets.attach(document_id, notebook, kernel_id)
        self._guard_maps(document_id, notebook)
        self.history.follow_recorded()
        self._runner(kernel_id).enqueue(accepted)
        return accepted

    async def cancel(self, document_id: str, request_ids: set[str] | None) -> list[str]:
        """Cancel queued requests of a document; those in the kernel are left alone."""
        self._rooms.check_known(document_id)
        cancelled = [
            request
            for request in self._ledger.active(document_id=document_id)
            if request.phase == "queued"
            and (request_ids is None or request.request_id in request_ids)
        ]
        for request in cancelled:
            self._ledger.end(request, "cancelled")
        return [request.request_id for request in cancelled]

    async def answer_input(
        self, document_id: str, input_id: str, value: str, answered_by: Person
    ) -> None:
        """Send the first answer to the kernel; later ones get a Conflict."""
        try:
            pending = self._inputs.claim(document_id, input_id, answered_by)
        except NotFound:
            # An unknown document says so, rather than that its input is unknown.
            self._rooms.check_known(document_id)
            raise
        runner = self._runners.get(pending.kernel_id)
        try:
            if runner is None:
                raise KernelUnavailable("The kernel is gone.")
            runner.reply_input(pending, value)
        except Exception as error:
            pending.status = "cancelled"
            self._mark_input(pending, None, now_ms())
            raise Conflict(
                "The kernel can no longer take this input.", status="cancelled"
            ) from error
        request = self._ledger.get(pending.request_id)
        kept = None if pending.password else value
        answered_at = now_ms()
        # The answer, the request running again and JupyterLab's echo: one update.
        with self._ledger.transaction(document_id):
            self._mark_input(pending, kept, answered_at)
            if request is not None:
                self._ledger.answered(
                    request,
                    AnsweredInput(
                        pending.prompt, pending.password, kept, answered_by.to_json(), answered_at
                    ),
                )
                self._ledger.resume(request)
                echo = inputs.echo_text(pending.prompt, value, pending.password)
                self._outputs.add(request.run, "stream", {"name": "stdin", "text": echo})
                self._outputs.flush(request.run)

    def _mark_input(self, pending: PendingInput, value: str | None, at: float) -> None:
        notebook = self._rooms.live_notebook(pending.document_id)
        if notebook is None:
            return
        with notebook.ydoc.transaction(origin=ORIGIN):
            if pending.status == "answered" and pending.answered_by is not None:
                inputs.mark_answered(
                    notebook.ydoc,
                    pending.input_id,
                    value=value,
                    answered_by=pending.answered_by,
                    answered_at=at,
                )
            else:
                inputs.mark_cancelled(notebook.ydoc, pending.input_id)

    # jupyter_server's kernel actions

    def on_kernel_action(self, kernel_id: str, action: str) -> None:
        runner = self._runners.get(kernel_id)
        if action == "interrupt":
            if runner is not None:
                runner.post(Interrupted())
        elif action == "restart":
            if runner is not None:
                runner.post(KernelRestarted())
        elif action == "shutdown":
            self._connector.unwatch(kernel_id)
            if runner is not None:
                del self._runners[kernel_id]
                runner.post(KernelLost("dead", "The kernel was shut down.", retire=True))

    # Rooms

    def reconcile(
        self, document_id: str, notebook: YNotebook, *, cells_replaced: bool = False
    ) -> list[str]:
        """Settle the stale entries and the stuck cells of a room that was just loaded;
        `cells_replaced` when its cells came from the file and `collab_exec` did not."""
        active_cells = {request.cell_id for request in self._ledger.active()}
        with notebook.ydoc.transaction(origin=ORIGIN):
            self._widgets.restore(document_id, notebook)
            settled = reconcile(
                notebook.ydoc,
                active_request_ids=self._ledger.active_ids,
                pending_input_ids=self._inputs.pending_ids(),
                now=now_ms(),
                ycells=notebook.ycells,
                active_cell_ids=active_cells,
                cells_replaced=cells_replaced,
            )
        self._trust.start()
        self._trust.room_loaded(
            document_id, lambda: self._rooms.read_file(document_id), again=cells_replaced
        )
        self._guard_maps(document_id, notebook)
        return settled

    def _guard_maps(self, document_id: str, notebook: YNotebook) -> None:
        """Guard the server's maps of a loaded document; and no longer those of rooms that
        are gone."""
        for guard in self._guards:
            guard.keep_only(self._rooms.live_notebook)
            guard.watch(document_id, notebook)

    # Trust

    async def verify_trust(self, query: TrustQuery) -> TrustAnswer:
        """Whether what a browser holds is exactly what the server wrote."""
        self._rooms.check_known(query.document_id)
        self._trust.start()
        if not self._trust.records.knows_file(query.document_id):
            # A browser may ask before the server heard that the room loaded.
            self._trust.room_loaded(
                query.document_id, lambda: self._rooms.read_file(query.document_id), again=False
            )
        return await self._trust.answer(query)

    def widget_blob(self, document_id: str, digest: str) -> bytes:
        """A binary widget value that a document's `collab_widgets` names by digest."""
        self._rooms.check_known(document_id)
        data = self._widgets.read_blob(document_id, digest)
        if data is None:
            raise NotFound(f"No widget value {digest} in document {document_id!r}.")
        return data

    async def close(self) -> None:
        """At server shutdown: what is in flight is interrupted, what is queued cancelled."""
        self._closing = True
        for request in self._ledger.active():
            if request.phase == "queued":
                self._ledger.end(request, "cancelled", reason="The server stopped.")
        for request in self._ledger.active():
            self._ledger.end(request, "interrupted", reason="The server stopped.")
        for runner in self._runners.values():
            await runner.close()
        self._runners.clear()
        for guard in self._guards:
            guard.close()
        self._widgets.close()
        self._kernel_state.close()
        await self.history.close()
        await self._tasks.close()
        await self._trust.close()

    def _check_open(self) -> None:
        if self._closing:
            raise KernelUnavailable("The server is shutting down.")

    def _runner(self, kernel_id: str) -> KernelRunner:
        runner = self._runners.get(kernel_id)
        if runner is None:
            runner = self._runners[kernel_id] = KernelRunner(kernel_id, self._parts)
        return runner
