"""What the churn scenario drives and watches from outside: a process of coming-and-going
clients (bench/load/churn_client.py) over its pipes, and the TCP connections that the
server's process still holds (from /proc, Linux)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path
from typing import Any

from bench.load.processes import start_module
from jupyterlab_collab_exec.tests.clients import ServerProcess

ANSWER_TIMEOUT = 180.0


class ChurnClients:
    """One process of clients that join, leave and rejoin on command."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._waiting: dict[tuple[str, int | None], asyncio.Future[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, server: ServerProcess, room: str, session: str) -> ChurnClients:
        options: dict[str, str | int] = {"room": room, "session": session}
        return cls(await start_module("bench.load.churn_client", server, options))

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            answer = json.loads(line)
            waiting = self._waiting.pop((answer["command"], answer.get("client")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(answer)
        for waiting in self._waiting.values():
            if not waiting.done():
                waiting.set_exception(RuntimeError("the churn client process ended"))

    async def _ask(self, command: str, client: int | None = None) -> dict[str, Any]:
        assert self.process.stdin is not None
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[(command, client)] = answer
        self.process.stdin.write(f"{command} {'' if client is None else client}\n".encode())
        await self.process.stdin.drain()
        result = await asyncio.wait_for(answer, ANSWER_TIMEOUT)
        if "error" in result:
            raise RuntimeError(f"{command} {client}: {result['error']}")
        return result

    async def join(self, client: int, *, stale: bool = False) -> int:
        """The client joins (with the doc it kept, if `stale`); returns its local port."""
        return int((await self._ask("rejoin" if stale else "join", client))["port"])

    async def leave(self, client: int) -> None:
        await self._ask("leave", client)

    async def digests(self) -> dict[int, str]:
        answer = await self._ask("digest")
        return {int(number): str(digest) for number, digest in answer["digests"].items()}

    async def stop(self) -> None:
        """Every client leaves with a close frame, and the process ends."""
        if self.process.returncode is None:
            await self._ask("stop")
            await self.process.wait()
        await self._reader

    def freeze(self) -> None:
        """Stop the process: its connections stay open and silent."""
        self.process.send_signal(signal.SIGSTOP)

    async def kill(self) -> None:
        """The connections end without a close frame; the kernel closes the sockets."""
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()
        await self._reader


def held_peer_ports(pid: int, port: int) -> set[int]:
    """The remote ports of the TCP connections that process `pid` holds open on its local
    `port` (a server's clients)."""
    inodes = set()
    fds = Path(f"/proc/{pid}/fd")
    for fd in fds.iterdir() if fds.exists() else []:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    peers = set()
    for table in ("tcp", "tcp6"):
        try:
            rows = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if inode in inodes and int(local.rsplit(":", 1)[1], 16) == port:
                peers.add(int(remote.rsplit(":", 1)[1], 16))
    return peers
