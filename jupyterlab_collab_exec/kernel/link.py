"""A runner's link to its kernel: the current conversation, connecting to it, and probing it.

Each loss of the kernel starts a new attempt, so that a connection made for an earlier one
is told apart and closed. A request that was sent but does not start may mean that the
kernel is busy with someone else's work, or that it (or its gateway) stopped answering: the
control channel, which a kernel answers even while it runs code, tells which.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ..common.tasks import BackgroundTasks
from .connections import KernelConnector
from .conversation import EventSink, KernelConversation
from .events import Connecting, Stalled


class KernelLink:
    def __init__(
        self,
        kernel_id: str,
        connector: KernelConnector,
        tasks: BackgroundTasks,
        sink: EventSink,
        response_timeout: float,
    ) -> None:
        self._kernel_id = kernel_id
        self._connector = connector
        self._tasks = tasks
        self._sink = sink
        self._response_timeout = response_timeout
        self._conversation: KernelConversation | None = None
        self._connecting: asyncio.Task[Any] | None = None
        self._attempt = 0
        self._probe: tuple[str, float] | None = None

    @property
    def conversation(self) -> KernelConversation | None:
        """The conversation requests can be sent through now, if any."""
        conversation = self._conversation
        return conversation if conversation is not None and conversation.alive else None

    def is_current(self, conversation: object) -> bool:
        return conversation is not None and conversation is self._conversation

    def connect(self) -> None:
        """Connect, unless a connection is being made already; the outcome comes to the
        sink as `Connecting`."""
        if self._connecting is None or self._connecting.done():
            self._connecting = self._tasks.spawn(
                self._connect(self._attempt), f"Connecting to kernel {self._kernel_id}"
            )

    async def _connect(self, attempt: int) -> None:
        try:
            conversation = await self._connector.connect(self._kernel_id, self._sink)
        except Exception as error:
            self._sink.put_nowait(Connecting(attempt, error=str(error)))
            return
        self._sink.put_nowait(Connecting(attempt, conversation))

    def accept(self, event: Connecting) -> bool:
        """Take a new connection, unless it is stale: then it is closed."""
        conversation: KernelConversation = event.conversation
        if event.attempt != self._attempt or self._conversation is not None:
            self._tasks.spawn(conversation.stop(), "Closing a stale kernel connection")
            return False
        self._conversation = conversation
        return True

    def is_stale(self, event: Connecting) -> bool:
        return event.attempt != self._attempt

    def drop(self) -> None:
        """Close the current conversation: nothing more is read from it."""
        conversation, self._conversation = self._conversation, None
        self._probe = None
        if conversation is not None:
            self._tasks.spawn(conversation.stop(), "Closing a kernel connection")

    def restart(self) -> None:
        """The kernel was lost: whatever connects from now on is a new attempt."""
        self._attempt += 1
        if self._connecting is not None:
            self._connecting.cancel()
            self._connecting = None
        self.drop()

    def watch(self, msg_id: str) -> None:
        """Check on a sent request after the response timeout."""
        asyncio.get_running_loop().call_later(
            self._response_timeout, self._sink.put_nowait, Stalled(msg_id)
        )

    def check(self, msg_id: str) -> str | None:
        """A request has not started since it was sent: probe the kernel, and watch it
        again. Returns why the connection is to be given up, when a probe went unanswered."""
        conversation = self._conversation
        if conversation is None:
            return None
        now = asyncio.get_running_loop().time()
        if self._probe is not None and now - self._probe[1] >= self._response_timeout:
            return (
                f"The kernel answered nothing for {self._response_timeout:g} s, "
                "not even on its control channel."
            )
        if self._probe is None:
            self._probe = (conversation.probe(), now)
        self.watch(msg_id)
        return None

    def probe_answered(self, parent_id: str) -> bool:
        if self._probe is not None and parent_id == self._probe[0]:
            self._probe = None
            return True
        return False

    async def close(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        conversation, self._conversation = self._conversation, None
        if conversation is not None:
            await conversation.stop()
