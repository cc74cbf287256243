"""Kernel conversation: the server's own jupyter_client connection to one kernel.

It is separate from the browsers' websockets, so jupyter_server's IOPub rate limits never
drop a message here, and it lives as long as the kernel does, whoever is connected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jupyter_client.asynchronous.client import AsyncKernelClient

READY_TIMEOUT = 60.0

MessageHandler = Callable[[str, dict[str, Any], dict[str, Any]], None]
StatusHandler = Callable[[str], None]
InputRequestHandler = Callable[["InputRequest"], None]
StreamFilter = Callable[[], bool]


class KernelGone(RuntimeError):
    """The kernel stopped answering: it died, restarted or was shut down."""


def message_date(msg: dict[str, Any]) -> str:
    """A message header's date as the ISO string JupyterLab records."""
    date = msg.get("header", {}).get("date")
    if isinstance(date, datetime):
        return date.isoformat().replace("+00:00", "Z")
    if isinstance(date, str) and date:
        return date
    return datetime.now().astimezone().isoformat().replace("+00:00", "Z")


@dataclass
class ExecutionOutcome:
    """How one execute_request ended."""

    reply: dict[str, Any]
    timing: dict[str, str] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.reply.get("content", {}).get("status", "error"))

    @property
    def execution_count(self) -> int | None:
        count = self.reply.get("content", {}).get("execution_count")
        return int(count) if isinstance(count, (int, float)) else None


@dataclass
class InputRequest:
    """The kernel waits on stdin: `reply` answers it, once."""

    prompt: str
    password: bool
    message: dict[str, Any]
    conversation: KernelConversation

    def reply(self, value: str) -> None:
        self.conversation.send_input_reply(value, self.message)


@dataclass
class _Execution:
    on_message: MessageHandler
    reply: asyncio.Future[dict[str, Any]]
    on_input_request: InputRequestHandler | None = None
    on_started: Callable[[], None] | None = None
    drops_streams: StreamFilter | None = None
    reply_hooks: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    idle: asyncio.Event = field(default_factory=asyncio.Event)
    timing: dict[str, str] = field(default_factory=dict)


class KernelConversation:
    def __init__(
        self,
        kernel_id: str,
        client: AsyncKernelClient,
        log: logging.Logger,
        on_status: StatusHandler | None = None,
    ) -> None:
        self.kernel_id = kernel_id
        self._client = client
        self._log = log
        self._on_status = on_status
        self._executions: dict[str, _Execution] = {}
        self._readers: list[asyncio.Task[None]] = []
        self._starting: asyncio.Future[Any] | None = None
        self._stopped = False

    async def start(self) -> None:
        """Connect and wait until the kernel answers; `stop` cuts the wait short."""
        self._client.start_channels()
        self._starting = asyncio.ensure_future(self._client.wait_for_ready(timeout=READY_TIMEOUT))
        try:
            await self._starting
        except asyncio.CancelledError:
            if self._stopped:
                raise KernelGone("The connection closed while the kernel was starting.") from None
            raise
        if self._stopped:
            raise KernelGone("The connection closed while the kernel was starting.")
        self._readers = [
            asyncio.create_task(self._read_iopub()),
            asyncio.create_task(self._read_shell()),
            asyncio.create_task(self._read_stdin()),
        ]

    @property
    def alive(self) -> bool:
        return bool(self._readers) and not any(task.done() for task in self._readers)

    async def execute(
        self,
        code: str,
        on_message: MessageHandler,
        on_input_request: InputRequestHandler | None = None,
    ) -> ExecutionOutcome:
        """Run code; returns once its reply and its idle status have both arrived."""
        return await self.finish(self.send(code, on_message, on_input_request))

    def send(
        self,
        code: str,
        on_message: MessageHandler,
        on_input_request: InputRequestHandler | None = None,
        on_started: Callable[[], None] | None = None,
        stop_on_error: bool = False,
        drops_streams: StreamFilter | None = None,
    ) -> str:
        """Send an execute_request now; `finish` waits for its end. Returns its msg_id.

        With `on_input_request`, the kernel may ask for input on stdin; `on_started` is
        called when the kernel starts it. `stop_on_error` asks the kernel to abort what
        is queued behind it if it fails, as JupyterLab does for a run of several cells.
        While `drops_streams` says so (the cell's output reached its cap), the execution's
        stream messages are discarded unread, before they are verified and decoded.
        """
        loop = asyncio.get_running_loop()
        msg_id: str = self._client.execute(
            code, allow_stdin=on_input_request is not None, stop_on_error=stop_on_error
        )
        self._executions[msg_id] = _Execution(
            on_message=on_message,
            reply=loop.create_future(),
            on_input_request=on_input_request,
            on_started=on_started,
            drops_streams=drops_streams,
        )
        return msg_id

    def reply_future(self, msg_id: str) -> asyncio.Future[dict[str, Any]]:
        """Done when the execute_reply of a sent execution arrives."""
        return self._executions[msg_id].reply

    def on_reply(self, msg_id: str, hook: Callable[[dict[str, Any]], None]) -> bool:
        """Call `hook` with the execute_reply the moment it is read, before anything else
        runs; False when the reply has already come."""
        execution = self._executions.get(msg_id)
        if execution is None or execution.reply.done():
            return False
        execution.reply_hooks.append(hook)
        return True

    async def finish(self, msg_id: str) -> ExecutionOutcome:
        """Wait until an execution sent by `send` has its reply and its idle status."""
        execution = self._executions[msg_id]
        try:
            reply = await execution.reply
            await execution.idle.wait()
        finally:
            self._executions.pop(msg_id, None)
        timing = dict(execution.timing)
        started = reply.get("metadata", {}).get("started")
        if started:
            timing["shell.execute_reply.started"] = (
                started.isoformat().replace("+00:00", "Z")
                if isinstance(started, datetime)
                else str(started)
            )
        timing["shell.execute_reply"] = message_date(reply)
        return ExecutionOutcome(reply=reply, timing=timing)

    def abandon_all(self, reason: str) -> None:
        """Fail every execution in flight, when the kernel will never answer them."""
        for execution in self._executions.values():
            if not execution.reply.done():
                execution.reply.set_exception(KernelGone(reason))
            execution.idle.set()

    async def stop(self) -> None:
        self._stopped = True
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        self.abandon_all("The connection to the kernel was closed.")
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._readers = []
        self._client.stop_channels()

    async def _read_iopub(self) -> None:
        """Read IOPub as the client's channel does, except that a message that will be
        discarded is neither verified nor decoded.

        A cell that floods its output past the cap would otherwise keep the server busy
        decoding what it drops; when the kernel prints faster than that, its messages
        pile up in this socket's queue, in the server's memory.
        """
        socket = self._client.iopub_channel.socket
        session = self._client.session
        while True:
            frames = await socket.recv_multipart()
            try:
                _, parts = session.feed_identities(frames)
                if self._discardable(session, parts):
                    continue
                msg = session.deserialize(parts)
                self._dispatch_iopub(msg)
            except Exception:
                self._log.exception("Handling an IOPub message of kernel %s failed", self.kernel_id)

    def _discardable(self, session: Any, parts: list[bytes]) -> bool:
        """Whether a raw message is a stream message of an execution that drops them.

        Only its header and parent header are read, unverified: a message that is
        dropped needs no signature, and one that is kept is verified as usual.
        """
        dropping = [
            msg_id
            for msg_id, execution in self._executions.items()
            if execution.drops_streams is not None and execution.drops_streams()
        ]
        if not dropping or len(parts) < 5:
            return False
        try:
            parent = session.unpack(parts[2])
            header = session.unpack(parts[1])
        except Exception:
            return False
        return (
            isinstance(parent, dict)
            and isinstance(header, dict)
            and parent.get("msg_id") in dropping
            and header.get("msg_type") == "stream"
        )

    def _dispatch_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = msg.get("msg_type") or msg.get("header", {}).get("msg_type", "")
        parent_id = msg.get("parent_header", {}).get("msg_id")
        execution = self._executions.get(parent_id) if parent_id else None
        if msg_type == "status":
            state = msg.get("content", {}).get("execution_state", "")
            if self._on_status is not None:
                self._on_status(state)
            if execution is not None:
                execution.timing[f"iopub.status.{state}"] = message_date(msg)
                if state == "busy" and execution.on_started is not None:
                    started, execution.on_started = execution.on_started, None
                    started()
                if state == "idle":
                    execution.idle.set()
            return
        if execution is None:
            return
        if msg_type == "execute_input":
            execution.timing["iopub.execute_input"] = message_date(msg)
            return
        execution.on_message(msg_type, msg.get("content", {}), msg)

    def send_input_reply(self, value: str, request: dict[str, Any]) -> None:
        """One input_reply, addressed to the input_request it answers."""
        reply = self._client.session.msg("input_reply", {"value": value}, parent=request["header"])
        self._client.stdin_channel.send(reply)

    async def _read_stdin(self) -> None:
        while True:
            msg = await self._client.get_stdin_msg()
            if msg.get("msg_type") != "input_request":
                continue
            parent_id = msg.get("parent_header", {}).get("msg_id")
            execution = self._executions.get(parent_id) if parent_id else None
            if execution is None or execution.on_input_request is None:
                # Nobody can answer: a reply keeps the kernel from waiting forever.
                self._log.warning("Unexpected input_request on kernel %s", self.kernel_id)
                self.send_input_reply("", msg)
                continue
            content = msg.get("content", {})
            execution.on_input_request(
                InputRequest(
                    prompt=str(content.get("prompt", "")),
                    password=bool(content.get("password", False)),
                    message=msg,
                    conversation=self,
                )
            )

    async def _read_shell(self) -> None:
        while True:
            msg = await self._client.get_shell_msg()
            parent_id = msg.get("parent_header", {}).get("msg_id")
            execution = self._executions.get(parent_id) if parent_id else None
            if execution is not None and not execution.reply.done():
                execution.reply.set_result(msg)
                for hook in execution.reply_hooks:
                    try:
                        hook(msg)
                    except Exception:
                        self._log.exception("A reply hook of kernel %s failed", self.kernel_id)
                if msg.get("content", {}).get("status") == "aborted":
                    # An aborted request may never get its idle status.
                    execution.idle.set()
