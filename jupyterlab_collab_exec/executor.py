"""The execution service: accepts requests, runs them one at a time per kernel, and writes
everything they produce into the shared notebook."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Map

from . import cells, inputs, lifecycle
from .cell_writer import ORIGIN, CellOutputWriter
from .cells import CellSpec, resolve_cells
from .errors import Conflict, InvalidRequest, NotFound
from .inputs import InputRegistry, PendingInput
from .kernel_conversation import ExecutionOutcome, InputRequest, KernelConversation, KernelGone
from .lifecycle import KernelQueue, Person, QueuedRequest
from .outputs import DisplayRouter
from .room_access import RoomAccess

CONNECT_ATTEMPTS = 3
# Pruning scans every entry, so it runs only once the map is a quarter over its size.
PRUNE_SLACK_FRACTION = 0.25
# The kernel's state flips for every cell: write it at most every few flush intervals.
KERNEL_STATE_DELAY_FACTOR = 4
CellKey = tuple[str, str]


@dataclass(frozen=True)
class ExecutionSettings:
    flush_interval: float = 0.05
    retained_requests: int = 200
    max_output_bytes: int | None = 20 * 1024 * 1024


@dataclass
class _Launch:
    """A request handed to its kernel."""

    replied: asyncio.Future[str]
    """The status of the kernel's reply, as soon as it arrives."""
    riders: list[Callable[[], None]] = field(default_factory=list)
    """Doc edits made in the same transaction as this request's final one."""
    on_reply: Callable[[Callable[[dict[str, Any]], None]], bool] = lambda hook: False
    """Register a hook called the moment the kernel's reply is read."""
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    """The final status, once the doc shows it."""

    @staticmethod
    def ended(status: str) -> _Launch:
        loop = asyncio.get_running_loop()
        launch = _Launch(replied=loop.create_future(), done=loop.create_future())
        launch.replied.set_result(status)
        launch.done.set_result(status)
        return launch


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
        self._active: dict[str, QueuedRequest] = {}
        self._running: dict[str, QueuedRequest] = {}
        # Taken from a kernel's queue and armed to be sent when the running one ends.
        self._armed: dict[str, QueuedRequest] = {}
        self._interrupted: set[str] = set()
        self._sent: set[str] = set()
        self._clock = lifecycle.AcceptanceClock()
        self._inputs = InputRegistry()
        self._watches: dict[str, tuple[YNotebook, Map[Any], Any]] = {}
        self._repairs_due: set[str] = set()
        self._kernel_states_due: dict[str, tuple[str, asyncio.TimerHandle | None]] = {}
        self._routers: dict[str, DisplayRouter] = {}
        # The latest accepted request of a cell owns its outputs, as in JupyterLab, where
        # scheduling a cell again replaces its output area's future.
        self._writers: dict[CellKey, CellOutputWriter] = {}
        self._kernel_of_document: dict[str, str] = {}
        self._watched_kernels: set[str] = set()
        self._background: set[asyncio.Future[Any]] = set()
        self._closing = False

    def has_kernel(self, kernel_id: str) -> bool:
        return kernel_id in self._kernel_manager

    @property
    def active_request_ids(self) -> set[str]:
        return set(self._active)

    # Accepting and cancelling

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
            if self._closing:
                raise KernelGone("The server is shutting down.")
        except Exception:
            # Nothing changed: saving now would write `state.dirty` and `state.hash`.
            await self._rooms.release(document_id, count=len(specs), save=False)
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
        ydoc = notebook.ydoc
        self._kernel_of_document[document_id] = kernel_id
        with ydoc.transaction(origin=ORIGIN):
            for request, cell in zip(accepted, resolved, strict=True):
                request.submitted_at = self._clock.stamp()
                lifecycle.add_queued_request(
                    ydoc,
                    request_id=request.request_id,
                    cell_id=request.cell_id,
                    kernel_id=kernel_id,
                    submitted_by=submitted_by,
                    submitted_at=request.submitted_at,
                )
                cells.clear_execution(cell.ycell, running=True)
                self._take_cell(notebook, request, cell.index)
                self._active[request.request_id] = request
            self._mirror_kernel_state(ydoc, kernel_id)
        self._watch(document_id, notebook)
        self._queues.setdefault(kernel_id, KernelQueue()).extend(accepted)
        worker = self._workers.get(kernel_id)
        if worker is None or worker.done():
            self._workers[kernel_id] = asyncio.create_task(self._drain(kernel_id))
        return accepted

    def _take_cell(self, notebook: YNotebook, request: QueuedRequest, index: int) -> None:
        key = (request.document_id, request.cell_id)
        previous = self._writers.get(key)
        if previous is not None:
            self._router(request.kernel_id).forget(previous)
            previous.close()
        self._writers[key] = CellOutputWriter(
            notebook,
            request.cell_id,
            request.request_id,
            flush_interval=self._settings.flush_interval,
            max_output_bytes=self._settings.max_output_bytes,
            may_write=lambda writer: self._writers.get(key) is writer,
            index=index,
        )

    async def cancel(self, document_id: str, request_ids: set[str] | None) -> list[str]:
        """Cancel queued requests of a document; running ones are left alone."""
        self._rooms.check_known(document_id)

        def matches(request: QueuedRequest) -> bool:
            return request.document_id == document_id and (
                request_ids is None or request.request_id in request_ids
            )

        cancelled: list[QueuedRequest] = []
        for queue in self._queues.values():
            cancelled.extend(queue.remove_matching(matches))
        # A request taken from its queue but not sent yet is still only queued.
        cancelled.extend(
            request
            for request in (*self._running.values(), *self._armed.values())
            if matches(request)
            and request.request_id not in self._sent
            and request.request_id in self._active
        )
        for request in cancelled:
            await self._finish(request, "cancelled", None)
        return [request.request_id for request in cancelled]

    # Running

    async def _drain(self, kernel_id: str) -> None:
        """Run a kernel's queue in order, one request at a time in the kernel.

        While a request runs, the next one is prepared and armed: the kernel reader sends
        it the moment the reply comes, so the kernel does not wait for the server between
        two cells, and a request is never in the kernel before the previous one ended, so
        cancelling and stop-on-error keep their meaning.
        """
        queue = self._queues[kernel_id]
        settling: set[asyncio.Future[str]] = set()
        current: tuple[QueuedRequest, _Launch] | None = None
        while True:
            following = queue.pop()
            if current is None:
                if following is None:
                    if settling:
                        await asyncio.wait(settling)
                        settling.clear()
                        continue
                    return
                prepared = await self._prepare(following)
                launch = prepared if isinstance(prepared, _Launch) else prepared()
                current = (following, self._track(following, launch, settling))
                continue
            request, launch = current
            sent: list[_Launch] = []
            prepared_next: _Launch | Callable[[], _Launch] | None = None
            if following is not None:
                self._armed[kernel_id] = following
                prepared_next = await self._prepare(following)
                if not isinstance(prepared_next, _Launch):
                    launch.on_reply(self._arm(request, following, prepared_next, sent))
                    self._start_with((request, launch), following)
            status = await launch.replied
            self._armed.pop(kernel_id, None)
            if status == "error":
                await asyncio.wait({launch.done})
                for skipped in queue.remove_batch(request.batch_id):
                    await self._finish(skipped, "cancelled", None)
            current = None
            if following is None:
                continue
            if sent:
                next_launch = sent[0]
            elif isinstance(prepared_next, _Launch):
                next_launch = prepared_next
            elif following.request_id not in self._active:
                continue
            elif status == "error" and following.batch_id == request.batch_id:
                await self._finish(following, "cancelled", None)
                continue
            else:
                assert prepared_next is not None
                next_launch = prepared_next()
            current = (following, self._track(following, next_launch, settling))

    def _arm(
        self,
        request: QueuedRequest,
        following: QueuedRequest,
        send: Callable[[], _Launch],
        sent: list[_Launch],
    ) -> Callable[[dict[str, Any]], None]:
        """The reply hook that sends the following request, unless the reply stops it."""

        def on_reply(reply: dict[str, Any]) -> None:
            failed = reply.get("content", {}).get("status") == "error"
            if failed and following.batch_id == request.batch_id:
                return
            if following.request_id in self._active:
                sent.append(send())

        return on_reply

    def _track(
        self, request: QueuedRequest, launch: _Launch, settling: set[asyncio.Future[str]]
    ) -> _Launch:
        settling.add(launch.done)
        launch.done.add_done_callback(self._log_failure(request))
        launch.done.add_done_callback(settling.discard)
        return launch

    def _start_with(self, previous: tuple[QueuedRequest, _Launch], request: QueuedRequest) -> None:
        """The kernel starts a request as soon as the previous one ends: show it running in
        the previous one's final update rather than in one more."""
        earlier, launch = previous
        if launch.done.done() or earlier.document_id != request.document_id:
            return
        notebook = self._rooms.live_notebook(request.document_id)
        if notebook is None:
            return

        def ride() -> None:
            sent = request.request_id in self._sent
            if sent and request.request_id in self._active and request.status == "queued":
                self._mark_running(notebook.ydoc, request)

        launch.riders.append(ride)

    def _mark_running(self, ydoc: Any, request: QueuedRequest) -> None:
        request.status = "running"
        lifecycle.update_request(
            ydoc, request.request_id, status=request.status, started_at=lifecycle.now_ms()
        )

    def _log_failure(self, request: QueuedRequest) -> Callable[[asyncio.Future[str]], None]:
        def log(done: asyncio.Future[str]) -> None:
            if not done.cancelled() and done.exception() is not None:
                self._log.error(
                    "Running request %s failed", request.request_id, exc_info=done.exception()
                )

        return log

    def _router(self, kernel_id: str) -> DisplayRouter:
        return self._routers.setdefault(kernel_id, DisplayRouter())

    async def _conversation(self, kernel_id: str) -> KernelConversation:
        lock = self._conversation_locks.setdefault(kernel_id, asyncio.Lock())
        async with lock:
            conversation = self._conversations.get(kernel_id)
            if conversation is not None and conversation.alive:
                return conversation
            if conversation is not None:
                await conversation.stop()
            if not self.has_kernel(kernel_id):
                raise KernelGone("The kernel no longer exists.")
            kernel = self._kernel_manager.get_kernel(kernel_id)
            conversation = KernelConversation(
                kernel_id,
                kernel.client(),
                self._log,
                on_status=lambda state: self._on_kernel_status(kernel_id, state),
            )
            self._conversations[kernel_id] = conversation
            try:
                await conversation.start()
            except Exception:
                self._conversations.pop(kernel_id, None)
                await conversation.stop()
                raise
            if kernel_id not in self._watched_kernels:
                self._watched_kernels.add(kernel_id)
                kernel.add_restart_callback(
                    lambda: self._on_restarter(kernel_id, "restarting"), "restart"
                )
                kernel.add_restart_callback(lambda: self._on_restarter(kernel_id, "dead"), "dead")
            self._set_kernel_state(kernel_id, getattr(kernel, "execution_state", None) or "idle")
            return conversation

    def _on_restarter(self, kernel_id: str, state: str) -> None:
        """The kernel died: jupyter_client restarts it, or gives up."""
        self.spawn(self.on_kernel_lost(kernel_id, state))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run work in the background, keeping a reference until it is done."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reconnect(self, kernel_id: str) -> None:
        """Talk to a restarted kernel again, so that its state shows in the doc."""
        if not self.has_kernel(kernel_id) or self._closing:
            return
        try:
            await self._conversation(kernel_id)
        except Exception as error:
            self._log.warning("Could not reconnect to kernel %s: %s", kernel_id, error)

    async def _ready_conversation(self, request: QueuedRequest) -> KernelConversation | None:
        """A working conversation for a request that is still wanted, or None.

        A kernel that restarts while we connect gets new ports: connect again, a few times.
        """
        for attempt in range(CONNECT_ATTEMPTS):
            try:
                conversation = await self._conversation(request.kernel_id)
            except (KernelGone, TimeoutError, RuntimeError):
                if attempt == CONNECT_ATTEMPTS - 1 or not self.has_kernel(request.kernel_id):
                    raise
                continue
            if request.request_id not in self._active:
                return None
            if conversation.alive:
                return conversation
        raise KernelGone("Could not connect to the kernel.")

    async def _prepare(self, request: QueuedRequest) -> _Launch | Callable[[], _Launch]:
        """Get everything ready to hand a request to its kernel: returns the function that
        sends it, or, when it ended before (blank code, no kernel), its ended launch."""
        notebook = await self._rooms.open(request.document_id)
        ydoc = notebook.ydoc
        if not request.code.strip():
            # JupyterLab does not send blank cells to the kernel.
            await self._finish(request, "ok", None)
            return _Launch.ended("ok")
        writer = self._writers.get((request.document_id, request.cell_id))
        router = self._router(request.kernel_id)
        updated_elsewhere: set[CellOutputWriter] = set()

        def on_message(msg_type: str, content: dict[str, Any], msg: dict[str, Any]) -> None:
            if writer is None or writer.request_id != request.request_id:
                return
            handled, updated = router.route(writer, msg_type, content)
            updated_elsewhere.update(
                target for target in updated if isinstance(target, CellOutputWriter)
            )
            if not handled:
                writer.on_message(msg_type, content)

        def on_started() -> None:
            # Running means the kernel works on it now.
            self._running[request.kernel_id] = request
            if writer is not None and writer.request_id == request.request_id:
                writer.begin()
            if request.request_id in self._active and request.status == "queued":
                with ydoc.transaction(origin=ORIGIN):
                    self._mark_running(ydoc, request)

        def on_input_request(kernel_request: InputRequest) -> None:
            # What the cell printed before asking comes first, as in JupyterLab.
            if writer is not None:
                writer.flush()
            pending = PendingInput(
                input_id=inputs.new_input_id(),
                document_id=request.document_id,
                request_id=request.request_id,
                cell_id=request.cell_id,
                prompt=kernel_request.prompt,
                password=kernel_request.password,
                reply=kernel_request.reply,
            )
            self._inputs.add(pending)
            with ydoc.transaction(origin=ORIGIN):
                inputs.add_pending_input(
                    ydoc,
                    input_id=pending.input_id,
                    request_id=request.request_id,
                    cell_id=request.cell_id,
                    prompt=pending.prompt,
                    password=pending.password,
                )
                request.status = "awaiting_input"
                lifecycle.update_request(ydoc, request.request_id, status=request.status)

        def drops_streams() -> bool:
            # What on_message would ignore: the kernel conversation need not read it.
            return writer is None or writer.request_id != request.request_id or writer.drops_streams

        riders: list[Callable[[], None]] = []
        handlers = (on_message, on_input_request, on_started, drops_streams)

        async def settle(status: str, outcome: ExecutionOutcome | None) -> str:
            # The last outputs and the final status reach every client in one update,
            # with what rides along (the next request starting).
            with ydoc.transaction(origin=ORIGIN):
                for target in (writer, *updated_elsewhere):
                    if target is not None:
                        target.flush()
                settled = self._settle(request, status, outcome)
                for ride in riders:
                    ride()
            if self._running.get(request.kernel_id) is request:
                del self._running[request.kernel_id]
            if settled:
                await self._release(request)
            return status

        try:
            conversation = await self._ready_conversation(request)
        except (KernelGone, TimeoutError, RuntimeError) as gone:
            self._log.warning("Request %s: %s", request.request_id, gone)
            return _Launch.ended(await settle("interrupted", None))
        if conversation is None:
            return _Launch.ended("cancelled")
        return lambda: self._send(request, conversation, settle, riders, handlers)

    def _send(
        self,
        request: QueuedRequest,
        conversation: KernelConversation,
        settle: Callable[[str, ExecutionOutcome | None], Coroutine[Any, Any, str]],
        riders: list[Callable[[], None]],
        handlers: tuple[Any, Any, Any, Any],
    ) -> _Launch:
        """Send a prepared request now; synchronous, so the kernel reader can call it."""
        on_message, on_input_request, on_started, drops_streams = handlers
        self._sent.add(request.request_id)
        msg_id = conversation.send(
            request.code,
            on_message,
            on_input_request,
            on_started,
            drops_streams=drops_streams,
        )
        launch = _Launch(
            replied=asyncio.get_running_loop().create_future(),
            riders=riders,
            on_reply=lambda hook: conversation.on_reply(msg_id, hook),
        )

        def on_reply(reply: asyncio.Future[dict[str, Any]]) -> None:
            if not launch.replied.done():
                ok = not reply.cancelled() and reply.exception() is None
                status = reply.result().get("content", {}).get("status") if ok else None
                launch.replied.set_result(status if isinstance(status, str) else "interrupted")

        conversation.reply_future(msg_id).add_done_callback(on_reply)

        async def complete() -> str:
            try:
                outcome = await conversation.finish(msg_id)
            except (KernelGone, TimeoutError, RuntimeError) as gone:
                self._log.warning("Request %s: %s", request.request_id, gone)
                return await settle("interrupted", None)
            if request.request_id in self._interrupted:
                status = "interrupted"
            elif outcome.status == "ok":
                status = "ok"
            elif outcome.status == "aborted":
                # The kernel dropped it after an earlier request of its batch failed.
                status = "cancelled"
            else:
                status = "error"
            return await settle(status, outcome if status != "cancelled" else None)

        async def completed() -> str:
            try:
                return await complete()
            finally:
                if not launch.replied.done():
                    launch.replied.set_result("interrupted")

        launch.done = asyncio.ensure_future(completed())
        return launch

    async def _finish(
        self, request: QueuedRequest, status: str, outcome: ExecutionOutcome | None
    ) -> None:
        """Record a final status, settle the cell, and release the room."""
        if self._settle(request, status, outcome):
            await self._release(request)

    async def _release(self, request: QueuedRequest) -> None:
        self._unwatch_when_idle(request.document_id)
        await self._rooms.release(request.document_id)

    def _settle(
        self, request: QueuedRequest, status: str, outcome: ExecutionOutcome | None
    ) -> bool:
        """The doc side of finishing a request; False when it was already finished."""
        if self._active.pop(request.request_id, None) is None:
            return False
        self._cancel_inputs(request)
        self._interrupted.discard(request.request_id)
        self._sent.discard(request.request_id)
        key = (request.document_id, request.cell_id)
        writer = self._writers.get(key)
        owns_cell = writer is not None and writer.request_id == request.request_id
        cell_still_active = any(
            (other.document_id, other.cell_id) == key for other in self._active.values()
        )
        notebook = self._rooms.live_notebook(request.document_id)
        if notebook is not None:
            ydoc = notebook.ydoc
            with ydoc.transaction(origin=ORIGIN):
                fields: dict[str, Any] = {"status": status, "finished_at": lifecycle.now_ms()}
                count = outcome.execution_count if outcome is not None else None
                if count is not None:
                    fields["execution_count"] = count
                lifecycle.update_request(ydoc, request.request_id, **fields)
                ycell = (
                    writer.cell()
                    if writer is not None
                    else cells.find_cell(notebook.ycells, request.cell_id)
                )
                if ycell is not None:
                    if outcome is not None and owns_cell:
                        cells.set_execution_count(ycell, count)
                        if request.record_timing:
                            cells.set_execution_metadata(ycell, outcome.timing)
                    if not cell_still_active:
                        cells.set_execution_state(ycell, "idle")
                retained = self._settings.retained_requests
                slack = max(1, int(retained * PRUNE_SLACK_FRACTION))
                if len(lifecycle.requests_map(ydoc)) > retained + slack:
                    lifecycle.prune_finished(ydoc, retained)
        if owns_cell and writer is not None and not self._router_holds(request.kernel_id, writer):
            # Nothing can update this cell's outputs any more: let the writer go.
            writer.close()
            del self._writers[key]
        return True

    def _router_holds(self, kernel_id: str, writer: CellOutputWriter) -> bool:
        router = self._routers.get(kernel_id)
        return router is not None and router.holds(writer)

    # Inputs

    async def answer_input(
        self, document_id: str, input_id: str, value: str, answered_by: Person
    ) -> None:
        """Send the first answer to the kernel; later ones get a Conflict."""
        self._rooms.check_known(document_id)
        pending = self._inputs.claim(document_id, input_id, answered_by)
        try:
            pending.reply(value)
        except Exception as error:
            pending.status = "cancelled"
            self._mark_inputs_cancelled(document_id, [pending])
            raise Conflict(
                "The kernel can no longer take this input.", status="cancelled"
            ) from error
        notebook = self._rooms.live_notebook(document_id)
        if notebook is not None:
            with notebook.ydoc.transaction(origin=ORIGIN):
                inputs.mark_answered(
                    notebook.ydoc,
                    input_id,
                    value=None if pending.password else value,
                    answered_by=answered_by,
                    answered_at=lifecycle.now_ms(),
                )
                request = self._active.get(pending.request_id)
                if request is not None and not self._inputs.pending_for_request(request.request_id):
                    request.status = "running"
                    lifecycle.update_request(notebook.ydoc, request.request_id, status="running")
        writer = self._writers.get((document_id, pending.cell_id))
        if writer is not None and writer.request_id == pending.request_id:
            echo = inputs.echo_text(pending.prompt, value, pending.password)
            writer.on_message("stream", {"name": "stdin", "text": echo})

    def _cancel_inputs(self, request: QueuedRequest) -> None:
        cancelled = self._inputs.cancel_for_request(request.request_id)
        if cancelled:
            self._mark_inputs_cancelled(request.document_id, cancelled)

    def _mark_inputs_cancelled(self, document_id: str, cancelled: list[PendingInput]) -> None:
        notebook = self._rooms.live_notebook(document_id)
        if notebook is None:
            return
        with notebook.ydoc.transaction(origin=ORIGIN):
            for pending in cancelled:
                inputs.mark_cancelled(notebook.ydoc, pending.input_id)

    # Kernel events

    def _on_kernel_status(self, kernel_id: str, state: str) -> None:
        """A kernel flips between busy and idle for every cell: write its state at most
        once per flush interval, the latest one."""
        if state not in ("idle", "busy", "starting"):
            return
        pending = self._kernel_states_due.get(kernel_id)
        self._kernel_states_due[kernel_id] = (state, pending[1] if pending else None)
        if pending is None or pending[1] is None:
            timer = asyncio.get_running_loop().call_later(
                KERNEL_STATE_DELAY_FACTOR * self._settings.flush_interval,
                self._write_kernel_state,
                kernel_id,
            )
            self._kernel_states_due[kernel_id] = (state, timer)

    def _write_kernel_state(self, kernel_id: str) -> None:
        due = self._kernel_states_due.pop(kernel_id, None)
        if due is not None:
            self._set_kernel_state(kernel_id, due[0])

    def _set_kernel_state(self, kernel_id: str, state: str) -> None:
        for document_id, document_kernel in self._kernel_of_document.items():
            if document_kernel != kernel_id:
                continue
            notebook = self._rooms.live_notebook(document_id)
            if notebook is not None:
                with notebook.ydoc.transaction(origin=ORIGIN):
                    lifecycle.set_kernel_state(notebook.ydoc, kernel_id, state)

    def _mirror_kernel_state(self, ydoc: Any, kernel_id: str) -> None:
        kernel = self._kernel_manager.get_kernel(kernel_id)
        state = getattr(kernel, "execution_state", None) or "idle"
        if state in ("idle", "busy", "starting", "restarting", "dead"):
            lifecycle.set_kernel_state(ydoc, kernel_id, state)

    async def on_kernel_interrupted(self, kernel_id: str) -> None:
        """The running request fails as the kernel reports it; the queue is cancelled."""
        running = self._running.get(kernel_id)
        if running is not None and running.request_id in self._sent:
            self._interrupted.add(running.request_id)
            self._cancel_inputs(running)
        elif running is not None:
            await self._finish(running, "cancelled", None)
        await self._cancel_queue(kernel_id)

    async def on_kernel_lost(self, kernel_id: str, state: str) -> None:
        """A restart, a death or a shutdown: nothing queued or running will finish."""
        await self._cancel_queue(kernel_id)
        running = self._running.get(kernel_id)
        if running is not None:
            self._cancel_inputs(running)
        conversation = self._conversations.pop(kernel_id, None)
        if conversation is not None:
            conversation.abandon_all(f"The kernel is {state}.")
            await conversation.stop()
        router = self._routers.pop(kernel_id, None)
        if router is not None:
            router.clear()
        self._set_kernel_state(kernel_id, state)

    async def _cancel_queue(self, kernel_id: str) -> None:
        armed = self._armed.get(kernel_id)
        if armed is not None and armed.request_id not in self._sent:
            await self._finish(armed, "cancelled", None)
        queue = self._queues.get(kernel_id)
        if queue is None:
            return
        for request in queue.remove_all():
            await self._finish(request, "cancelled", None)

    # Rooms and shutdown

    def reconcile(self, notebook: YNotebook, *, cells_replaced: bool = False) -> list[str]:
        """Settle the stale entries and the stuck cells of a room that was just loaded;
        `cells_replaced` when its cells came from the file and `collab_exec` did not."""
        active_cells = {request.cell_id for request in self._active.values()}
        with notebook.ydoc.transaction(origin=ORIGIN):
            return lifecycle.reconcile(
                notebook.ydoc,
                active_request_ids=self.active_request_ids,
                pending_input_ids=self._inputs.pending_ids(),
                now=lifecycle.now_ms(),
                ycells=notebook.ycells,
                active_cell_ids=active_cells,
                cells_replaced=cells_replaced,
            )

    # Repairing what clients change in collab_exec

    def _watch(self, document_id: str, notebook: YNotebook) -> None:
        """While a document has work, undo what clients write into collab_exec."""
        watched = self._watches.get(document_id)
        if watched is not None and watched[0] is notebook:
            return
        root = lifecycle.collab_exec_root(notebook.ydoc)
        subscription = root.observe_deep(
            lambda events: self._on_collab_exec_change(document_id, events)
        )
        self._watches[document_id] = (notebook, root, subscription)
        # What clients wrote while nobody watched is settled now that the server works here.
        self._schedule_repair(document_id)

    def _unwatch_when_idle(self, document_id: str) -> None:
        if any(request.document_id == document_id for request in self._active.values()):
            return
        watched = self._watches.pop(document_id, None)
        if watched is not None:
            watched[1].unobserve(watched[2])

    def _on_collab_exec_change(self, document_id: str, events: list[Any]) -> None:
        if events and events[0].transaction.origin == ORIGIN:
            return
        self._schedule_repair(document_id)

    def _schedule_repair(self, document_id: str) -> None:
        # The doc cannot change inside its own observer: repair right after.
        if document_id not in self._repairs_due:
            self._repairs_due.add(document_id)
            asyncio.get_running_loop().call_soon(self._repair, document_id)

    def _repair(self, document_id: str) -> None:
        self._repairs_due.discard(document_id)
        watched = self._watches.get(document_id)
        if watched is None:
            return
        ydoc = watched[0].ydoc
        with ydoc.transaction(origin=ORIGIN):
            lifecycle.reconcile(
                ydoc,
                active_request_ids=self.active_request_ids,
                pending_input_ids=self._inputs.pending_ids(),
                now=lifecycle.now_ms(),
            )
            for request in self._active.values():
                if request.document_id == document_id:
                    lifecycle.restore_request(ydoc, request)
            for pending in self._inputs.of_document(document_id):
                inputs.restore_input(ydoc, pending)
            kernel_id = self._kernel_of_document.get(document_id)
            if kernel_id is not None and self.has_kernel(kernel_id):
                self._mirror_kernel_state(ydoc, kernel_id)

    async def close(self) -> None:
        """At server shutdown: what is in flight is interrupted, what is queued cancelled."""
        self._closing = True
        for kernel_id in list(self._queues):
            await self._cancel_queue(kernel_id)
        for request in list(self._active.values()):
            await self._finish(request, "interrupted", None)
        for worker in self._workers.values():
            worker.cancel()
        for conversation in self._conversations.values():
            await conversation.stop()
        self._conversations.clear()
