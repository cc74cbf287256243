"""Kernel channels of both kinds, read through one helper.

A local kernel's client has ZeroMQ sockets, which deliver raw frames: a stream message of
a request whose output reached its cap is dropped before it is verified and decoded, so a
flood costs little. A kernel behind a gateway (Kernel Gateway, Enterprise Gateway) is
reached through one websocket whose messages a reader thread has already decoded into
per-channel queues: those queues are read here without busy-waiting and without a timeout,
and the cap applies after decoding.

`GatewayChannelsClient` is jupyter_server's gateway client with three changes: it opens the
websocket with the gateway client's connection arguments (its auth header included), off the
event loop; its queues wake the event loop instead of being polled; and what it sends names
its channel, which the gateway needs to route anything but shell messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import ssl
from queue import Empty
from threading import Thread
from typing import Any, Protocol

import websocket
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.gateway.managers import ChannelQueue, GatewayKernelClient
from jupyter_server.utils import url_escape, url_path_join

CHANNEL_NAMES = ("shell", "iopub", "stdin", "control", "hb")


class StreamMutes:
    """Requests whose stream messages are dropped unread, because their cell's output
    reached its cap. A message of another kind from such a request (a clear_output, say)
    ends the muting, since what follows it may be kept again."""

    def __init__(self) -> None:
        self._muted: set[str] = set()

    def mute(self, msg_id: str) -> None:
        self._muted.add(msg_id)

    def release(self, msg_id: str) -> None:
        self._muted.discard(msg_id)

    def __bool__(self) -> bool:
        return bool(self._muted)

    def drops(self, msg_type: Any, parent_id: Any) -> bool:
        if parent_id not in self._muted:
            return False
        if msg_type == "stream":
            return True
        self._muted.discard(parent_id)
        return False


class ChannelReader(Protocol):
    async def read(self) -> dict[str, Any] | None:
        """The next message, or None for one that was dropped unread."""


class _ZmqReader:
    def __init__(self, client: Any, name: str, mutes: StreamMutes | None) -> None:
        self._socket = getattr(client, f"{name}_channel").socket
        self._session = client.session
        self._mutes = mutes

    async def read(self) -> dict[str, Any] | None:
        frames = await self._socket.recv_multipart()
        session = self._session
        _, parts = session.feed_identities(frames)
        if self._mutes and len(parts) >= 5 and self._dropped_unread(parts):
            return None
        msg: dict[str, Any] = session.deserialize(parts)
        return msg

    def _dropped_unread(self, parts: list[bytes]) -> bool:
        """Reads only the header and the parent header, unverified: a dropped message
        needs no signature, and one that is kept is verified as usual."""
        assert self._mutes is not None
        try:
            header = self._session.unpack(parts[1])
            parent = self._session.unpack(parts[2])
        except Exception:
            return False
        if not isinstance(header, dict) or not isinstance(parent, dict):
            return False
        return self._mutes.drops(header.get("msg_type"), parent.get("msg_id"))


class _QueueReader:
    def __init__(self, client: Any, name: str, mutes: StreamMutes | None) -> None:
        queue = getattr(client, f"{name}_channel")
        if not isinstance(queue, WakingChannelQueue):
            raise TypeError(f"The {name} channel of {type(client).__name__} cannot be awaited.")
        self._queue = queue
        self._mutes = mutes

    async def read(self) -> dict[str, Any] | None:
        msg = await self._queue.next_message()
        if self._mutes and self._mutes.drops(
            msg.get("msg_type") or msg.get("header", {}).get("msg_type"),
            msg.get("parent_header", {}).get("msg_id"),
        ):
            return None
        return msg


def channel_reader(client: Any, name: str, mutes: StreamMutes | None = None) -> ChannelReader:
    """The reader of one channel of a started client, whatever its kind."""
    if isinstance(client, GatewayChannelsClient):
        return _QueueReader(client, name, mutes)
    return _ZmqReader(client, name, mutes)


def acknowledge_quickly(raw_socket: socket.socket | None) -> None:
    """A gateway's kernel websocket leaves Nagle's algorithm on, so the rest of a reply waits
    until its first frame is acknowledged, and Linux delays acknowledgements by up to 40 ms:
    that much per cell run. Asked before each read, the system acknowledges at once."""
    if raw_socket is not None and hasattr(socket, "TCP_QUICKACK"):
        with contextlib.suppress(OSError):
            raw_socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)


class WakingChannelQueue(ChannelQueue):
    """A gateway channel's queue that wakes the event loop when a message arrives."""

    def __init__(
        self, channel_name: str, channel_socket: Any, log: Any, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__(channel_name, channel_socket, log)
        self._loop = loop
        self._arrived = asyncio.Event()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        # Called by the gateway client's reader thread.
        super().put(item, block, timeout)
        self._wake()

    def finish(self) -> None:
        """No more messages will come."""
        self.response_router_finished = True
        self._wake()

    def _wake(self) -> None:
        # The loop is closed when the server has stopped: nobody waits any more.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._arrived.set)

    async def next_message(self) -> dict[str, Any]:
        while True:
            try:
                msg: dict[str, Any] = self.get_nowait()
                return msg
            except Empty:
                pass
            if self.response_router_finished:
                raise ConnectionError("The connection to the gateway closed.")
            self._arrived.clear()
            if self.empty() and not self.response_router_finished:
                await self._arrived.wait()

    def send(self, msg: dict[str, Any]) -> None:
        # The gateway routes a message without a channel to shell.
        super().send({**msg, "channel": self.channel_name})


class GatewayChannelsClient(GatewayKernelClient):
    """A gateway kernel client that connects with the gateway's auth, off the event loop."""

    async def start_channels(  # type: ignore[override]
        self,
        shell: bool = True,
        iopub: bool = True,
        stdin: bool = True,
        hb: bool = True,
        control: bool = True,
    ) -> None:
        gateway = GatewayClient.instance()
        url = url_path_join(
            gateway.ws_url or "",
            gateway.kernels_endpoint,
            url_escape(self.kernel_id),
            "channels",
        )
        arguments = gateway.load_connection_args()  # type: ignore[no-untyped-call]
        sslopt: dict[str, Any] = {
            key: value
            for key, value in (
                ("ca_certs", gateway.ca_certs),
                ("certfile", gateway.client_cert),
                ("keyfile", gateway.client_key),
            )
            if value
        }
        if not gateway.validate_cert:
            sslopt["cert_reqs"] = ssl.CERT_NONE
        # websocket-client connects synchronously: in a thread, so the server keeps serving.
        try:
            self.channel_socket = await asyncio.to_thread(
                websocket.create_connection,
                url,
                timeout=gateway.connect_timeout,
                enable_multithread=True,
                sslopt=sslopt,
                header=arguments.get("headers") or {},
            )
        except websocket.WebSocketBadStatusException as error:
            # Its message carries every response header; the status says what matters.
            gone = " (the gateway has no such kernel)" if error.status_code == 404 else ""
            raise ConnectionError(
                f"The gateway answered HTTP {error.status_code} to the kernel's websocket{gone}."
            ) from None
        # Idle channels are normal: only a closed connection ends the reader thread.
        self.channel_socket.settimeout(None)
        loop = asyncio.get_running_loop()
        queues = {
            name: WakingChannelQueue(name, self.channel_socket, self.log, loop)
            for name in CHANNEL_NAMES
        }
        self._channel_queues = dict(queues)
        for name, queue in queues.items():
            setattr(self, f"_{name}_channel", queue)
        self.allow_stdin = stdin
        self.response_router = Thread(
            target=self._route_until_closed,
            args=(queues,),
            name=f"gateway-channels-{self.kernel_id}",
            daemon=True,
        )
        self.response_router.start()

    def _route_until_closed(self, queues: dict[str, WakingChannelQueue]) -> None:
        """Each message from the gateway into its channel's queue, until the websocket
        closes (jupyter_server's router, asking the system to acknowledge at once)."""
        channel_socket = self.channel_socket
        assert channel_socket is not None
        try:
            while not self._channels_stopped:
                acknowledge_quickly(channel_socket.sock)
                frame = channel_socket.recv()
                if not frame:
                    break
                msg = json.loads(frame)
                queue = queues.get(msg.get("channel"))
                if queue is not None:
                    queue.put_nowait(msg)
        except websocket.WebSocketConnectionClosedException:
            pass
        except Exception as error:
            if not self._channels_stopped:
                self.log.warning(
                    "Reading from the gateway of kernel %s failed: %s", self.kernel_id, error
                )
        finally:
            for queue in queues.values():
                queue.finish()

    async def close(self) -> None:
        """Close the websocket; joining the reader thread happens off the event loop."""
        if self.channel_socket is None:
            return
        await asyncio.to_thread(self.stop_channels)
