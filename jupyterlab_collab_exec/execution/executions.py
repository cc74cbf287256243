"""A request while it is in the kernel: what the kernel has said about it so far."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..inputs import records as inputs
from ..inputs.records import PendingInput
from ..kernel.conversation import message_date
from ..kernel.events import InputRequested
from .ledger import KernelReply, Request


@dataclass(eq=False)
class Execution:
    """Sent to the kernel, and not yet both replied to and idle."""

    request: Request
    msg_id: str
    started: bool = False
    reply: dict[str, Any] | None = None
    idle: bool = False
    interrupted: bool = False
    captured: bool = False
    """An Output widget took some of its output, or was entered to take it."""
    timing: dict[str, str] = field(default_factory=dict)
    """The timestamps JupyterLab's recordTiming writes."""

    def replied(self, reply: dict[str, Any]) -> str | None:
        """Record the execute_reply; returns its status."""
        self.reply = reply
        started = reply.get("metadata", {}).get("started")
        if started:
            self.timing["shell.execute_reply.started"] = (
                started.isoformat().replace("+00:00", "Z")
                if isinstance(started, datetime)
                else str(started)
            )
        self.timing["shell.execute_reply"] = message_date(reply)
        content = reply.get("content", {})
        status = content.get("status")
        if status == "error" and content.get("ename") == "KeyboardInterrupt":
            # Interrupted, whoever did it: jupyter_client interrupts a kernel before it
            # restarts or shuts it down, and that reply can come before the restart's news.
            self.interrupted = True
        if status == "aborted":
            # An aborted request may never get its idle status.
            self.idle = True
        return status if isinstance(status, str) else None

    def holds_next(self) -> bool:
        """Whether the next request waits: until the reply; and, for a request that entered
        an Output widget, until the idle too. Its output can come on IOPub after the reply,
        and the server sends the widget's outputs to the kernel only between requests, so
        that the next cell finds them there. A live Output widget that the request did not
        enter holds nothing: that kept run-all 1.4x slower for good (JupyterLab itself sends
        a run-all's cells at once)."""
        return self.reply is None or (self.captured and not self.idle)

    @property
    def done(self) -> bool:
        return self.reply is not None and self.idle

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        status = (self.reply or {}).get("content", {}).get("status")
        if status == "ok":
            return "ok"
        # The kernel dropped it after an earlier request of its batch failed.
        return "cancelled" if status == "aborted" else "error"

    def pending_input(self, kernel_id: str, event: InputRequested) -> PendingInput:
        """The input that the kernel asks for while it runs this request."""
        request = self.request
        return PendingInput(
            input_id=inputs.new_input_id(),
            document_id=request.document_id,
            request_id=request.request_id,
            cell_id=request.cell_id,
            prompt=event.prompt,
            password=event.password,
            kernel_id=kernel_id,
            message=event.message,
        )

    def kernel_reply(self) -> KernelReply | None:
        """What the cell gets from the reply; nothing for a request the kernel dropped."""
        if self.reply is None or self.status == "cancelled":
            return None
        count = self.reply.get("content", {}).get("execution_count")
        return KernelReply(
            execution_count=int(count) if isinstance(count, (int, float)) else None,
            timing=self.timing,
        )
