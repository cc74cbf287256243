"""The runner of one kernel: its FIFO queue, and its events routed to requests.

One task per kernel takes the events of its inbox one at a time: what the conversation
reads, what the connections detect, and the kernel actions of jupyter_server. Requests go
to the kernel one at a time, in order: the next one the moment the previous reply arrives
(or its idle, for one that entered an Output widget: Execution.holds_next), so cancelling
and stop-on-error keep their meaning. Whatever goes wrong while handling an event is
logged with its traceback and ends the requests it touched as `interrupted`, with the
reason in their record; the runner goes on with the next event, and the next request.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..common.tasks import BackgroundTasks
from ..doc.rooms import NotebookRooms
from ..inputs import records as inputs
from ..inputs.records import InputRegistry, PendingInput
from ..kernel.connections import KernelConnector
from ..kernel.conversation import KernelConversation, KernelGone
from ..kernel.events import (
    CommMessage,
    Connecting,
    ConnectionLost,
    InputRequested,
    Interrupted,
    KernelEvent,
    KernelLost,
    KernelRestarted,
    KernelStatus,
    MessagesDropped,
    Output,
    Replied,
    ShuttingDown,
    Stalled,
    Wake,
)
from ..kernel.link import KernelLink
from ..kernel.state import KernelStateMirror
from ..outputs.desk import OutputDesk
from ..widgets.mirror import WidgetMirror
from .executions import Execution
from .ledger import KernelReply, Request, RequestLedger


@dataclass(frozen=True)
class RunnerParts:
    """What every runner of the service shares."""

    connector: KernelConnector
    ledger: RequestLedger
    outputs: OutputDesk
    inputs: InputRegistry
    kernel_state: KernelStateMirror
    rooms: NotebookRooms
    tasks: BackgroundTasks
    widgets: WidgetMirror
    log: logging.Logger
    response_timeout: float


class KernelRunner:
    def __init__(self, kernel_id: str, parts: RunnerParts) -> None:
        self.kernel_id = kernel_id
        self._parts = parts
        self._ledger = parts.ledger
        self._outputs = parts.outputs
        self._widgets = parts.widgets
        self._log = parts.log
        self.inbox: asyncio.Queue[KernelEvent] = asyncio.Queue()
        self._waiting: deque[Request] = deque()
        self._executions: dict[str, Execution] = {}
        self._link = KernelLink(
            kernel_id, parts.connector, parts.tasks, self.inbox, parts.response_timeout
        )
        # A death noticed as it happened, whose restart jupyter_server has not reported.
        self._restart_pending = False
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._handlers: dict[type, Callable[[Any], None]] = {
            Wake: lambda event: None,
            Connecting: self._on_connecting,
            KernelStatus: self._on_status,
            Output: self._on_output,
            CommMessage: self._on_comm,
            MessagesDropped: lambda event: self._widgets.messages_dropped(kernel_id),
            InputRequested: self._on_input_requested,
            Replied: self._on_replied,
            ConnectionLost: self._on_connection_lost,
            Interrupted: self._on_interrupted,
            KernelLost: self._lose_kernel,
            KernelRestarted: self._on_kernel_restarted,
            Stalled: self._on_stalled,
            ShuttingDown: self._on_shutting_down,
        }

    # Commands

    def enqueue(self, requests: Sequence[Request]) -> None:
        self._waiting.extend(requests)
        self.post(Wake())

    def post(self, event: KernelEvent) -> None:
        if self._closed:
            return
        self.inbox.put_nowait(event)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"collab-exec-{self.kernel_id}")

    def reply_input(self, pending: PendingInput, value: str) -> None:
        """Send an answer to the kernel that asked, on the connection that asked."""
        conversation = self._link.conversation
        asking = any(
            execution.request.request_id == pending.request_id
            for execution in self._executions.values()
        )
        if not asking or conversation is None:
            raise KernelGone("The kernel can no longer take this input.")
        conversation.reply_input(value, pending.message)

    async def close(self) -> None:
        self._closed = True
        if self._task is not None:
            self._task.cancel()
        await self._link.close()

    # The loop

    async def _run(self) -> None:
        while not self._closed:
            event = await self.inbox.get()
            try:
                self._handlers[type(event)](event)
                self._advance()
            except Exception as error:
                self._recover(event, error)

    def _recover(self, event: KernelEvent, error: Exception) -> None:
        self._log.error(
            "Handling %s of kernel %s failed", type(event).__name__, self.kernel_id, exc_info=error
        )
        parent_id = getattr(event, "parent_id", None) or getattr(event, "msg_id", None)
        execution = self._executions.get(parent_id) if parent_id else None
        affected = [execution] if execution is not None else list(self._executions.values())
        for touched in affected:
            try:
                self._end_execution(touched, "interrupted", f"Server error: {error}")
            except Exception:
                # Ending it failed too: it is not tracked any more, so the queue goes on.
                self._executions.pop(touched.msg_id, None)
                self._log.exception("Ending request %s failed", touched.request.request_id)
        self._advance()

    def _advance(self) -> None:
        """Send the next request, unless one of ours holds it back (see `holds_next`)."""
        if self._closed or any(e.holds_next() for e in self._executions.values()):
            return
        while self._waiting:
            request = self._waiting[0]
            if request.ended:
                self._waiting.popleft()
                continue
            try:
                if not request.code.strip():
                    # JupyterLab does not send blank cells to the kernel.
                    self._waiting.popleft()
                    self._ledger.end(request, "ok")
                    continue
                conversation = self._link.conversation
                if conversation is None:
                    self._link.connect()
                    return
                self._waiting.popleft()
                self._send(conversation, request)
                return
            except Exception as error:
                self._log.error("Starting request %s failed", request.request_id, exc_info=True)
                if self._waiting and self._waiting[0] is request:
                    self._waiting.popleft()
                self._end(request, "interrupted", f"Server error: {error}")

    def _send(self, conversation: KernelConversation, request: Request) -> None:
        self._widgets.between_requests(self.kernel_id)
        try:
            msg_id = conversation.execute(request.code)
        except Exception as error:
            self._log.error(
                "Sending request %s to kernel %s failed",
                request.request_id,
                self.kernel_id,
                exc_info=True,
            )
            self._end(request, "interrupted", f"Could not send it to the kernel: {error}")
            return
        self._ledger.sent(request)
        self._executions[msg_id] = Execution(request, msg_id)
        self._link.watch(msg_id)

    # Connections

    def _on_connecting(self, event: Connecting) -> None:
        if event.error is None:
            if self._link.accept(event):
                # It has just answered a kernel_info_request.
                self._parts.kernel_state.set_now(self.kernel_id, "idle")
                self._widgets.connected(self.kernel_id, event.conversation)
            return
        if self._link.is_stale(event):
            return
        self._log.warning("Kernel %s: %s", self.kernel_id, event.error)
        head = next((request for request in self._waiting if not request.ended), None)
        if head is None:
            return
        self._end(head, "interrupted", event.error)
        self._cancel_waiting(lambda request: request.batch_id == head.batch_id, event.error)

    def _on_connection_lost(self, event: ConnectionLost) -> None:
        if self._link.is_current(event.conversation):
            self._lose_connection(event.reason)

    def _lose_connection(self, reason: str) -> None:
        self._log.warning("Kernel %s: %s", self.kernel_id, reason)
        self._link.drop()
        self._widgets.connected(self.kernel_id, None)
        for execution in list(self._executions.values()):
            self._end_execution(execution, "interrupted", reason)

    # Kernel traffic

    def _on_status(self, event: KernelStatus) -> None:
        self._parts.kernel_state.on_status(self.kernel_id, event)
        if event.state == "idle":
            self._widgets.kernel_idle(self.kernel_id, ours_done=not self._executions)
        if event.parent_id is None and event.state in ("restarting", "dead"):  # via a gateway
            restarting = event.state == "restarting"
            reason = "The kernel restarted." if restarting else "The kernel died."
            self._lose_kernel(KernelLost(event.state, reason, reconnect=restarting))
            return
        execution = self._executions.get(event.parent_id or "")
        if execution is None:
            return
        if event.state == "busy":
            execution.timing.setdefault("iopub.status.busy", event.date)
            execution.started = True
            self._ledger.start(execution.request)
            self._outputs.begin(execution.request.run)
        elif event.state == "idle":
            execution.timing["iopub.status.idle"] = event.date
            execution.idle = True
            if execution.reply is None:
                # Its reply is overdue if it has not come after the response timeout.
                self._link.watch(execution.msg_id)
            self._end_when_done(execution)

    def _on_comm(self, event: CommMessage) -> None:
        self._widgets.on_comm(self.kernel_id, event)
        execution = self._executions.get(event.parent_id) if event.parent_id else None
        # An Output widget entered for one of ours (`with out:` sets its msg_id).
        if execution is not None and (
            self._widgets.capture_target(self.kernel_id, execution.msg_id) is not None
        ):
            execution.captured = True

    def _on_output(self, event: Output) -> None:
        execution = self._executions.get(event.parent_id)
        if execution is None:
            return
        if event.msg_type == "execute_input":
            execution.timing["iopub.execute_input"] = event.date
            return
        capturing = self._widgets.capture_target(self.kernel_id, event.parent_id)
        if capturing is not None:
            execution.captured = True
            self._widgets.capture(self.kernel_id, capturing, event.msg_type, event.content)
            return
        run = execution.request.run
        self._widgets.before_output(self.kernel_id, event.content)
        self._outputs.add(run, event.msg_type, event.content)
        conversation = self._link.conversation
        if conversation is not None and self._outputs.drops_streams(run):
            conversation.mute_streams(execution.msg_id)

    def _on_input_requested(self, event: InputRequested) -> None:
        execution = self._executions.get(event.parent_id)
        conversation = self._link.conversation
        if execution is None or execution.request.ended:
            # Nobody can answer: a reply keeps the kernel from waiting forever.
            self._log.warning("Unexpected input_request on kernel %s", self.kernel_id)
            if conversation is not None:
                conversation.reply_input("", event.message)
            return
        request = execution.request
        pending = execution.pending_input(self.kernel_id, event)
        self._parts.inputs.add(pending)
        notebook = self._parts.rooms.live_notebook(request.document_id)
        with self._ledger.transaction(request.document_id):
            # What the cell printed before asking comes first, as in JupyterLab; and in the
            # same update as the prompt.
            self._outputs.flush(request.run)
            if notebook is not None:
                inputs.add_pending_input(notebook.ydoc, pending)
            self._ledger.await_input(request)

    def _on_replied(self, event: Replied) -> None:
        if self._link.probe_answered(event.parent_id):
            return
        execution = self._executions.get(event.parent_id)
        if execution is None or execution.reply is not None:
            return
        if execution.replied(event.reply) == "error":
            # An interrupted kernel ends the whole queue; an error, the rest of its batch.
            batch = None if execution.interrupted else execution.request.batch_id
            self._cancel_waiting(lambda request: batch in (None, request.batch_id))
        self._advance()
        self._end_when_done(execution)

    def _end_when_done(self, execution: Execution) -> None:
        if execution.done:
            self._end_execution(execution, execution.status)

    def _end_execution(self, execution: Execution, status: str, reason: str | None = None) -> None:
        """End a request in the kernel: with what its reply gives the cell, if it came."""
        reply = execution.kernel_reply() if execution.done else None
        self._executions.pop(execution.msg_id, None)
        conversation = self._link.conversation
        if conversation is not None:
            conversation.forget(execution.msg_id)
        self._parts.kernel_state.settled(self.kernel_id, execution.msg_id)
        request = execution.request
        with self._ledger.transaction(request.document_id):
            self._end(request, status, reason, reply)
            # The kernel starts the next request as soon as this one ends: show it
            # running in the same update rather than in one more.
            for following in self._executions.values():
                if following.request.document_id == request.document_id:
                    self._ledger.start(following.request)
            # Its widgets, and their snapshot in the metadata, in the same update.
            self._widgets.request_ended(self.kernel_id, last=not self._executions)

    def _end(
        self, request: Request, status: str, reason: str | None, reply: KernelReply | None = None
    ) -> None:
        if reason and status == "interrupted":
            self._log.warning("Request %s is interrupted: %s", request.request_id, reason)
        self._ledger.end(request, status, reply=reply, reason=reason)

    def _cancel_waiting(
        self, matches: Callable[[Request], bool], reason: str | None = None
    ) -> None:
        for request in list(self._waiting):
            if not request.ended and matches(request):
                self._end(request, "cancelled", reason)

    # Kernel events

    def _on_interrupted(self, event: Interrupted) -> None:
        """The running request fails as the kernel reports it; the queue is cancelled."""
        for execution in self._executions.values():
            execution.interrupted = True
            self._ledger.cancel_inputs(execution.request)
        self._cancel_waiting(lambda request: True)

    def _on_kernel_restarted(self, event: KernelRestarted) -> None:
        """jupyter_server restarted the kernel. A restart after a death noticed when it
        happened ends what was lost then: what was queued since goes to the new kernel."""
        if not self._restart_pending:
            self._lose_kernel(KernelLost("restarting", "The kernel was restarted.", reconnect=True))
        self._restart_pending = False
        if self._link.conversation is None:
            self._link.connect()

    def _on_shutting_down(self, event: ShuttingDown) -> None:
        if event.restart:
            self._lose_kernel(KernelLost("restarting", "The kernel restarted.", reconnect=True))
        else:
            self._lose_kernel(KernelLost("dead", "The kernel was shut down."))

    def _lose_kernel(self, event: KernelLost) -> None:
        """A restart, a death or a shutdown: nothing queued or running will finish."""
        self._restart_pending = event.state == "restarting"
        self._cancel_waiting(lambda request: True, event.reason)
        self._lose_connection(event.reason)
        self._link.restart()
        self._outputs.forget_kernel(self.kernel_id)
        self._widgets.kernel_lost(self.kernel_id, retire=event.retire)
        self._parts.kernel_state.set_now(self.kernel_id, event.state)
        if event.retire:
            self._closed = True
        elif event.reconnect:
            self._link.connect()

    def _on_stalled(self, event: Stalled) -> None:
        execution = self._executions.get(event.msg_id)
        if execution is not None and execution.idle and execution.reply is None:
            self._end_execution(execution, "interrupted", "The kernel never replied to it.")
            return
        if execution is None or execution.started:
            return
        lost = self._link.check(event.msg_id)
        if lost is not None:
            self._lose_connection(lost)
