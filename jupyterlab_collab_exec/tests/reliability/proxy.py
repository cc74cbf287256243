"""A loopback TCP proxy that a test controls: it delays what it forwards, and it can cut
every connection, leaving a websocket frame half-sent."""

from __future__ import annotations

import asyncio
import contextlib
import random

# The start of a masked binary frame that announces 4 KiB of payload and never sends it:
# what the server reads from a client whose lid closed in the middle of a write.
HALF_A_FRAME = bytes([0x82, 0xFE, 0x10, 0x00, 0x12, 0x34])
CHUNK = 64 * 1024


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server

    def cut(self, mid_frame: bool) -> None:
        if mid_frame and not self.server.is_closing():
            self.server.write(HALF_A_FRAME)
        for writer in (self.client, self.server):
            transport = writer.transport
            if not transport.is_closing():
                transport.abort()


class LoopbackProxy:
    """Forwards 127.0.0.1:<port> to the target port, with an optional random delay per
    chunk; `cut_all` aborts every connection as a crash or a lost network would."""

    def __init__(self, target_port: int, *, seed: int | None = None) -> None:
        self.target_port = target_port
        self.max_delay = 0.0
        self.cuts = 0
        self._random = random.Random(seed)
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> LoopbackProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cut_all(mid_frame=False)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def open_connections(self) -> int:
        return len(self._links)

    def cut_all(self, *, mid_frame: bool = True) -> int:
        """Abort every connection now; returns how many there were."""
        links = list(self._links)
        for link in links:
            link.cut(mid_frame)
        self._links.clear()
        self.cuts += len(links)
        return len(links)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.target_port
            )
        except OSError:
            writer.transport.abort()
            return
        link = _Link(writer, upstream_writer)
        self._links.add(link)
        for source, target in ((reader, upstream_writer), (upstream_reader, writer)):
            task = asyncio.ensure_future(self._pipe(link, source, target))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self, link: _Link, source: asyncio.StreamReader, target: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, RuntimeError):
            while link in self._links:
                data = await source.read(CHUNK)
                if not data or link not in self._links:
                    break
                if self.max_delay:
                    await asyncio.sleep(self._random.uniform(0, self.max_delay))
                    if link not in self._links:
                        break
                target.write(data)
                await target.drain()
        if link in self._links:
            # One side closed cleanly: close the other side too.
            self._links.discard(link)
            link.cut(mid_frame=False)
