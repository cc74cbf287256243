"""A server stopped in the middle of a run, then started again, shows no stuck `[*]`.

The server runs as a real `jupyter server` process, stopped cleanly (SIGTERM) or killed
(SIGKILL), and started again on the same root, YStore and file id database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import socket
import sqlite3
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
from httpx_ws import aconnect_ws
from pycrdt import Provider
from pycrdt.websocket.websocket import HttpxWebsocket

from .conftest import RoomClient, statuses, wait_for

ACTIVE = {"queued", "running", "awaiting_input"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.token = uuid.uuid4().hex
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        arguments = [
            f"--ServerApp.port={self.port}",
            "--ServerApp.ip=127.0.0.1",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            f"--SQLiteYStore.db_path={self.root / '.ystore.db'}",
            f"--BaseFileIdManager.db_path={self.root / '.fileid.db'}",
            f"--BaseFileIdManager.root_dir={self.root}",
            "--YDocExtension.document_save_delay=0.2",
        ]
        with (self.root / "server.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "jupyter_server",
                *arguments,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.root,
            )
        deadline = asyncio.get_running_loop().time() + 60
        async with httpx.AsyncClient() as http:
            while True:
                try:
                    response = await http.get(f"{self.url}/api/collab-exec", headers=self.headers)
                    if response.status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError("the server did not start")
                await asyncio.sleep(0.1)

    def stored_updates(self) -> int:
        """How many document updates the server's SQLite YStore holds."""
        database = self.root / ".ystore.db"
        if not database.exists():
            return 0
        with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
            try:
                row = connection.execute("SELECT COUNT(*) FROM yupdates").fetchone()
            except sqlite3.OperationalError:
                return 0
        return int(row[0])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    async def stop(self, how: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(how)
        try:
            await asyncio.wait_for(self.process.wait(), 60)
        except asyncio.TimeoutError:
            self.process.kill()
            raise AssertionError("the server did not stop") from None

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        async with httpx.AsyncClient(timeout=30) as http:
            response = await http.request(
                method, f"{self.url}/{path}", headers=self.headers, json=body
            )
            response.raise_for_status()
            return response.json()

    async def session(self, path: str) -> tuple[str, str]:
        data = await self.request(
            "PUT", f"api/collaboration/session/{path}", {"format": "json", "type": "notebook"}
        )
        return f"json:notebook:{data['fileId']}", data["sessionId"]

    @asynccontextmanager
    async def join(self, room_id: str, session_id: str) -> AsyncIterator[RoomClient]:
        url = (
            f"{self.url}/api/collaboration/room/{room_id}?sessionId={session_id}&token={self.token}"
        )
        client = RoomClient()
        async with (
            aconnect_ws(url) as websocket,  # type: ignore[var-annotated]
            Provider(client.notebook.ydoc, HttpxWebsocket(websocket, room_id)) as provider,
        ):
            await asyncio.wait_for(provider.synced.wait(), 60)
            await client.wait_until(lambda: client.notebook.cell_number > 0)
            yield client


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_restarted_server_shows_no_stuck_cell(tmp_path: Path, how: signal.Signals) -> None:
    root = tmp_path / "root"
    root.mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import time\nprint('started', flush=True)\ntime.sleep(120)", id="cell-0"
        ),
        nbformat.v4.new_code_cell("print('queued')", id="cell-1"),
    ]
    (root / "restart.ipynb").write_text(nbformat.writes(notebook), "utf-8")
    server = ServerProcess(root)
    await server.start()
    try:
        room_id, session_id = await server.session("restart.ipynb")
        kernel = await server.request("POST", "api/kernels", {})
        async with server.join(room_id, session_id) as client:
            accepted = await server.request(
                "POST",
                "api/collab-exec/execute",
                {
                    "document_id": room_id,
                    "kernel_id": kernel["id"],
                    "cells": [{"cell_id": "cell-0"}, {"cell_id": "cell-1"}],
                },
            )
            request_ids = [request["request_id"] for request in accepted["requests"]]
            await client.wait_until(
                lambda: bool(client.cell("cell-0")["outputs"]), what="the cell to start"
            )
            # The YStore holds the queued and running entries before the server goes.
            written = server.stored_updates()
            await wait_for(lambda: server.stored_updates() > written, what="a YStore write")
        await server.stop(how)

        if how == signal.SIGTERM:
            saved = nbformat.read(root / "restart.ipynb", as_version=4)
            assert saved.cells[0].outputs[0]["text"] == "started\n"

        await server.start()
        room_id, session_id = await server.session("restart.ipynb")
        async with server.join(room_id, session_id) as client:

            def settled() -> bool:
                cells_idle = all(
                    client.cell(f"cell-{index}")["execution_state"] != "running"
                    for index in range(2)
                )
                return cells_idle and not any(
                    entry.get("status") in ACTIVE for entry in client.requests().values()
                )

            await client.wait_until(settled, what="stale work to be settled")
            found = [status for status in statuses(client, *request_ids) if status is not None]
            assert set(found) <= {"interrupted", "cancelled"}, found
            print(json.dumps({"how": how.name, "statuses after restart": found}))
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop(signal.SIGTERM)
