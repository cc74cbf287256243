"""Kernel conversation: the server's own connection to one kernel, as a stream of events.

It is separate from the browsers' websockets, so jupyter_server's IOPub rate limits never
drop a message here, and it lives as long as the kernel does, whoever is connected.

Readers turn channel traffic into typed events (kernel_events) and put them into one sink;
they call nothing else and send nothing. The conversation takes commands: send an execute
request, reply to an input request, probe the control channel, mute a request's streams.
When a reader ends, for whatever reason, the sink gets `ConnectionLost` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ..common.errors import KernelUnavailable
from .channels import GatewayChannelsClient, StreamMutes, channel_reader
from .events import (
    CommMessage,
    ConnectionLost,
    InputRequested,
    KernelEvent,
    KernelStatus,
    MessagesDropped,
    Output,
    Replied,
    ShuttingDown,
)

COMM_MESSAGE_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})
# How jupyter_server's IOPub rate limit begins the notice it sends instead of messages.
RATE_LIMIT_NOTICES = ("IOPub message rate exceeded.", "IOPub data rate exceeded.")


class EventSink(Protocol):
    def put_nowait(self, item: KernelEvent, /) -> None: ...


class KernelGone(KernelUnavailable):
    """The kernel cannot be reached: it died, restarted, was shut down, or its connection
    is lost."""


def message_date(msg: dict[str, Any]) -> str:
    """A message header's date as the ISO string JupyterLab records."""
    date = msg.get("header", {}).get("date")
    if isinstance(date, datetime):
        return date.isoformat().replace("+00:00", "Z")
    if isinstance(date, str) and date:
        return date
    return datetime.now().astimezone().isoformat().replace("+00:00", "Z")


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def kernel_time(date: Any) -> int | None:
    """A header date (a datetime, or the ISO text as the kernel wrote it) in microseconds
    since the epoch, exactly; None when it is neither."""
    if isinstance(date, str):
        try:
            date = datetime.fromisoformat(date)
        except ValueError:
            return None
    if not isinstance(date, datetime):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    micros: int = (date - EPOCH) // timedelta(microseconds=1)
    return micros


def _msg_type(msg: dict[str, Any]) -> str:
    return str(msg.get("msg_type") or msg.get("header", {}).get("msg_type") or "")


def _comm_message(msg_type: str, msg: dict[str, Any], parent_id: Any) -> CommMessage:
    content = msg.get("content")
    content = content if isinstance(content, dict) else {}
    data = content.get("data")
    target = content.get("target_name")
    header = msg.get("header")
    session = header.get("session") if isinstance(header, dict) else None
    return CommMessage(
        msg_type=msg_type,
        comm_id=str(content.get("comm_id", "")),
        data=data if isinstance(data, dict) else {},
        target_name=target if isinstance(target, str) else None,
        buffers=tuple(bytes(buffer) for buffer in msg.get("buffers") or ()),
        session=session if isinstance(session, str) else "",
        parent_id=parent_id if isinstance(parent_id, str) else None,
        kernel_time=kernel_time(header.get("date")) if isinstance(header, dict) else None,
    )


def _is_rate_limit_notice(content: Any) -> bool:
    text = content.get("text") if isinstance(content, dict) else None
    return isinstance(text, str) and text.startswith(RATE_LIMIT_NOTICES)


def _parent(msg: dict[str, Any]) -> dict[str, Any]:
    parent = msg.get("parent_header")
    return parent if isinstance(parent, dict) else {}


class KernelConversation:
    def __init__(self, kernel_id: str, client: Any, sink: EventSink, log: logging.Logger) -> None:
        self.kernel_id = kernel_id
        self._client = client
        self._sink = sink
        self._log = log
        self._mutes = StreamMutes()
        self._readers: list[asyncio.Task[None]] = []
        self._lost = False

    def start(self) -> None:
        """Start reading; the client's channels are started and the kernel answers."""
        self._readers = [
            asyncio.create_task(self._read("iopub", self._on_iopub, self._mutes)),
            asyncio.create_task(self._read("shell", self._on_reply)),
            asyncio.create_task(self._read("control", self._on_reply)),
            asyncio.create_task(self._read("stdin", self._on_stdin)),
        ]

    @property
    def alive(self) -> bool:
        return bool(self._readers) and not self._lost

    # Commands

    def execute(self, code: str) -> str:
        """Send an execute_request that may ask for input; returns its msg_id."""
        self._check_alive()
        msg_id: str = self._client.execute(code, allow_stdin=True, stop_on_error=False)
        return msg_id

    def reply_input(self, value: str, request: dict[str, Any]) -> None:
        """One input_reply, addressed to the input_request it answers."""
        self._check_alive()
        reply = self._client.session.msg("input_reply", {"value": value}, parent=request["header"])
        self._client.stdin_channel.send(reply)

    def probe(self) -> str:
        """A kernel_info_request on control, which a kernel answers even while it runs code."""
        self._check_alive()
        msg = self._client.session.msg("kernel_info_request")
        self._client.control_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def send_comm(self, comm_id: str, data: dict[str, Any]) -> str:
        """A `comm_msg` to the kernel, on shell, as a browser sends one; returns its msg_id."""
        self._check_alive()
        msg = self._client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self._client.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    def mute_streams(self, msg_id: str) -> None:
        """Drop a request's stream messages unread, until it sends something else."""
        self._mutes.mute(msg_id)

    def forget(self, msg_id: str) -> None:
        self._mutes.release(msg_id)

    async def stop(self) -> None:
        self._lost = True
        for task in self._readers:
            task.cancel()
        for task in self._readers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._readers = []
        if isinstance(self._client, GatewayChannelsClient):
            await self._client.close()
        else:
            self._client.stop_channels()

    def _check_alive(self) -> None:
        if self._lost:
            raise KernelGone("The connection to the kernel is closed.")

    # Readers

    async def _read(self, channel: str, translate: Any, mutes: StreamMutes | None = None) -> None:
        reader = channel_reader(self._client, channel, mutes)
        try:
            while True:
                msg = await reader.read()
                if msg is not None:
                    translate(msg)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if self._lost:
                return
            self._lost = True
            self._log.error(
                "Reading the %s channel of kernel %s failed", channel, self.kernel_id, exc_info=True
            )
            self._sink.put_nowait(
                ConnectionLost(self, f"Lost the connection to the kernel ({channel}: {error}).")
            )

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        msg_type = _msg_type(msg)
        parent = _parent(msg)
        parent_id = parent.get("msg_id")
        if msg_type == "status":
            state = msg.get("content", {}).get("execution_state")
            if isinstance(state, str):
                self._sink.put_nowait(
                    KernelStatus(
                        state=state,
                        parent_id=parent_id if isinstance(parent_id, str) else None,
                        parent_type=parent.get("msg_type"),
                        date=message_date(msg),
                    )
                )
        elif msg_type in COMM_MESSAGE_TYPES:
            self._sink.put_nowait(_comm_message(msg_type, msg, parent_id))
        elif msg_type == "shutdown_reply":
            self._sink.put_nowait(ShuttingDown(bool(msg.get("content", {}).get("restart"))))
        elif isinstance(parent_id, str) and parent_id:
            content = msg.get("content")
            if msg_type == "stream" and _is_rate_limit_notice(content):
                self._sink.put_nowait(MessagesDropped())
            self._sink.put_nowait(
                Output(
                    parent_id=parent_id,
                    msg_type=msg_type,
                    content=content if isinstance(content, dict) else {},
                    date=message_date(msg),
                )
            )

    def _on_reply(self, msg: dict[str, Any]) -> None:
        parent_id = _parent(msg).get("msg_id")
        if isinstance(parent_id, str) and parent_id:
            self._sink.put_nowait(Replied(parent_id=parent_id, reply=msg))

    def _on_stdin(self, msg: dict[str, Any]) -> None:
        if _msg_type(msg) != "input_request":
            return
        parent_id = _parent(msg).get("msg_id")
        content = msg.get("content", {})
        self._sink.put_nowait(
            InputRequested(
                parent_id=parent_id if isinstance(parent_id, str) else "",
                prompt=str(content.get("prompt", "")),
                password=bool(content.get("password", False)),
                message=msg,
            )
        )
