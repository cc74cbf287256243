"""The harness's helper processes (a bench module each, told the server's URL and token),
what they read of their command line, and the process of load clients
(bench/load/client.py), driven over its standard input and output."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import IO, Any

from jupyterlab_collab_exec.tests.clients import ServerProcess

# A line of the load clients' results holds every lag they measured.
LONGEST_LINE = 1 << 26


async def start_module(
    module: str,
    server: ServerProcess,
    options: dict[str, str | int],
    *,
    stderr: IO[bytes] | None = None,
) -> asyncio.subprocess.Process:
    """Run `python -m <module>` for the server, with its standard input and output piped."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        f"--url={server.url}",
        f"--token={server.token}",
        *(f"--{name}={value}" for name, value in options.items()),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=stderr,
        limit=LONGEST_LINE,
    )


def room_parser(description: str) -> argparse.ArgumentParser:
    """The command line of a helper that joins a room: what `start_module` gives it, and the
    room and session it joins."""
    parser = argparse.ArgumentParser(description=description)
    for name in ("url", "token", "room", "session"):
        parser.add_argument(f"--{name}", required=True)
    return parser


def room_address(arguments: argparse.Namespace) -> tuple[str, dict[str, str]]:
    """The room's websocket URL and the headers that authenticate it, from `room_parser`."""
    url = f"{arguments.url}/api/collaboration/room/{arguments.room}?sessionId={arguments.session}"
    return url, {"Authorization": f"token {arguments.token}"}


class ClientProcess:
    """One process of load clients, driven over its standard input and output."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls,
        server: ServerProcess,
        room: str,
        session: str,
        count: int,
        first: int,
        kernel: str = "",
    ) -> ClientProcess:
        """`count` clients of the room; with `kernel`, each holds the kernel's websocket too."""
        options: dict[str, str | int] = {
            "room": room,
            "session": session,
            "clients": count,
            "first": first,
            "kernel": kernel,
        }
        return cls(await start_module("bench.load.client", server, options))

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
