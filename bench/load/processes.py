"""A process of load clients (bench/load/client.py), driven over its standard input and
output from the harness."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from jupyterlab_collab_exec.tests.clients import ServerProcess


class ClientProcess:
    """One process of load clients, driven over its standard input and output."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, server: ServerProcess, room: str, session: str, count: int, first: int
    ) -> ClientProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.load.client",
            f"--url={server.url}",
            f"--token={server.token}",
            f"--room={room}",
            f"--session={session}",
            f"--clients={count}",
            f"--first={first}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        return cls(process)

    async def line(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 300)
        if not line:
            raise RuntimeError("A load client process ended early.")
        return line.decode().strip()

    async def command(self, command: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return json.loads(await self.line())

    async def stop(self) -> dict[str, Any]:
        result = await self.command("stop")
        await self.process.wait()
        return dict(result)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
