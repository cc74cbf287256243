"""A raw kernel websocket, as a browser's kernel connection opens it: it receives every
IOPub message that jupyter_server forwards, and sends comm messages on shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from itertools import pairwise
from typing import Any

from httpx_ws import AsyncWebSocketSession, aconnect_ws

from .clients import DEFAULT_TIMEOUT, wait_for


def decode_frame(frame: str | bytes) -> dict[str, Any]:
    """A message of jupyter_server's default websocket protocol: JSON text, or (with
    binary buffers) offsets, the JSON message and its buffers."""
    if isinstance(frame, str):
        message: dict[str, Any] = json.loads(frame)
        return message
    count = struct.unpack("!I", frame[:4])[0]
    offsets = [*struct.unpack(f"!{count}I", frame[4 : 4 + 4 * count]), len(frame)]
    message = json.loads(frame[offsets[0] : offsets[1]].decode())
    message["buffers"] = [frame[start:end] for start, end in pairwise(offsets[1:])]
    return message


class KernelWebsocket:
    def __init__(self, websocket: AsyncWebSocketSession, session: str | None = None) -> None:
        self._websocket = websocket
        self.session = session or uuid.uuid4().hex
        self.received: list[dict[str, Any]] = []

    async def read(self) -> None:
        with contextlib.suppress(Exception):
            while True:
                event = await self._websocket.receive()
                data = getattr(event, "data", None)
                if isinstance(data, str | bytes | bytearray):
                    self.received.append(
                        decode_frame(data if isinstance(data, str) else bytes(data))
                    )

    def comm_opens(self) -> dict[str, dict[str, Any]]:
        """The `comm_open` messages received, by comm id."""
        return {
            message["content"]["comm_id"]: message
            for message in self.received
            if message.get("msg_type") == "comm_open"
        }

    async def send_comm(self, comm_id: str, data: dict[str, Any]) -> str:
        return await self.send_shell("comm_msg", {"comm_id": comm_id, "data": data})

    async def send_shell(self, msg_type: str, content: dict[str, Any]) -> str:
        """Send a message on shell, as this websocket's session; returns its msg_id."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": msg_type,
            "session": self.session,
            "username": "browser",
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
            "buffers": [],
        }
        await self._websocket.send_text(json.dumps(message))
        return msg_id

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> None:
        await wait_for(predicate, timeout, what)


@asynccontextmanager
async def kernel_websocket(url: str, session: str | None = None) -> AsyncIterator[KernelWebsocket]:
    """A kernel websocket at `url`; `session` is the session id that the url names, if any,
    which the messages it sends carry too."""
    async with aconnect_ws(url) as websocket:  # type: ignore[var-annotated]
        client = KernelWebsocket(websocket, session)
        reader = asyncio.create_task(client.read())
        try:
            yield client
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
