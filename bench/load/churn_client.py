"""A process of load clients that come and go on command, as browsers do: each joins a
notebook's room with the real sync protocol (pycrdt's provider over a websocket), applies
every update, never writes into the doc, keeps its awareness alive, and leaves when told.

    python -m bench.load.churn_client --url http://127.0.0.1:8888 --token T --room R \
        --session S

Commands, one a line on standard input; each is answered, once done, by one JSON line on
standard output that repeats the command and its client (answers of concurrent commands come
in the order they finish):
- `join <n>`: client n joins with a new doc → `{"command": "join", "client": n, "port": p}`,
  p being the local TCP port of its websocket
- `leave <n>`: client n closes its websocket (with a close frame) and keeps its doc
- `rejoin <n>`: client n joins again with the doc it kept, so that it syncs from a stale
  state vector; answered as `join` is
- `digest`: → `{"command": "digest", "digests": {n: digest}}`, for the clients joined now
- `stop`, or the end of the input: every client leaves
A command that fails is answered with its `"error"`.

A connection dropped without a close frame is no command: the harness kills or freezes the
whole process (bench/load/churn.py starts a process of its own for a client it will drop).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from httpx_ws import aconnect_ws
from pycrdt import Provider

from bench.load.client import LoadClient, keep_awareness
from bench.load.processes import room_address, room_parser
from jupyterlab_collab_exec.tests.clients import ListeningChannel

SYNC_TIMEOUT = 120.0


def say(answer: dict[str, Any]) -> None:
    print(json.dumps(answer), flush=True)


class ComingAndGoing:
    """One client and its connection, which it can close and open again over the same doc."""

    def __init__(self, number: int) -> None:
        self.client = LoadClient(number)
        self.connected = False
        self._leave = asyncio.Event()
        self._connection: asyncio.Task[None] | None = None

    async def join(self, url: str, headers: dict[str, str], room: str) -> int:
        """Connect and sync (from whatever the doc holds); returns the local TCP port."""
        assert self._connection is None, f"client {self.client.number} is joined already"
        self._leave.clear()
        port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._connection = asyncio.create_task(self._connect(url, headers, room, port))
        # Whichever comes first: the port once synced, or the connection's failure.
        connection = self._connection
        either: list[asyncio.Future[Any]] = [port, connection]
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        if not port.done():
            self._connection = None
            connection.result()
            raise RuntimeError("the connection ended before it was synced")
        return port.result()

    async def _connect(
        self, url: str, headers: dict[str, str], room: str, port: asyncio.Future[int]
    ) -> None:
        try:
            async with aconnect_ws(url, headers=headers) as websocket:  # type: ignore[var-annotated]
                channel = ListeningChannel(websocket, room)
                async with Provider(self.client.notebook.ydoc, channel) as provider:
                    await asyncio.wait_for(provider.synced.wait(), SYNC_TIMEOUT)
                    self.connected = True
                    _, local_port = websocket.stream.get_extra_info("client_addr")
                    port.set_result(int(local_port))
                    awareness = asyncio.create_task(keep_awareness(self.client, channel))
                    await self._leave.wait()
                    awareness.cancel()
        finally:
            self.connected = False

    async def leave(self) -> None:
        """Close the websocket with a close frame; the doc stays as it was."""
        assert self._connection is not None, f"client {self.client.number} is not joined"
        self._leave.set()
        connection, self._connection = self._connection, None
        await connection


class ChurnProcess:
    def __init__(self, arguments: argparse.Namespace) -> None:
        self.url, self.headers = room_address(arguments)
        self.room = arguments.room
        self.clients: dict[int, ComingAndGoing] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def _command(self, command: str, number: int) -> None:
        answer: dict[str, Any] = {"command": command, "client": number}
        try:
            if command == "join":
                assert number not in self.clients, f"client {number} exists already"
                self.clients[number] = ComingAndGoing(number)
            if command in ("join", "rejoin"):
                answer["port"] = await self.clients[number].join(self.url, self.headers, self.room)
            elif command == "leave":
                await self.clients[number].leave()
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as error:
            answer["error"] = repr(error)
        say(answer)

    def digests(self) -> dict[int, str]:
        return {n: c.client.digest() for n, c in self.clients.items() if c.connected}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
            if not line or line[0] == "stop":
                break
            if line[0] == "digest":
                say({"command": "digest", "digests": self.digests()})
                continue
            # Commands run at once, side by side: a join may take a while.
            task = asyncio.create_task(self._command(line[0], int(line[1])))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await asyncio.gather(*self._tasks)
        for client in self.clients.values():
            if client.connected:
                await client.leave()
        say({"command": "stop"})


def main() -> None:
    parser = room_parser(__doc__.splitlines()[0])
    asyncio.run(ChurnProcess(parser.parse_args()).run())


if __name__ == "__main__":
    main()
