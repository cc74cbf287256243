"""Real clients of a collaboration server, shared by the tests and the benchmarks: a pycrdt
client joined to a notebook room, and a `jupyter server` process."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import nbformat
from httpx_ws import aconnect_ws
from jupyter_ydoc import YNotebook
from pycrdt import Doc, Map, Provider, YMessageType, YSyncMessageType
from pycrdt.websocket.websocket import HttpxWebsocket

DEFAULT_TIMEOUT = 60.0
PYTHON_KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


async def wait_for(
    predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = "condition"
) -> None:
    """Poll a condition on the event loop until it holds or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"Timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)


def write_notebook(root: Path, name: str, sources: Sequence[str]) -> str:
    """Write a notebook whose code cells `cell-0`, `cell-1`, … have the given sources;
    returns its name."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = dict(PYTHON_KERNELSPEC)
    notebook.cells = [
        nbformat.v4.new_code_cell(source, id=f"cell-{index}")
        for index, source in enumerate(sources)
    ]
    (root / name).write_text(nbformat.writes(notebook), encoding="utf-8")
    return name


def saved_cell(path: Path) -> dict[str, Any]:
    """The first cell of a notebook file, or nothing while the server is writing it."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (ValueError, OSError):
        return {}
    return dict(notebook.cells[0])


class RoomClient:
    """A pycrdt client joined to a notebook's collaboration room."""

    def __init__(self, track_statuses: bool = True) -> None:
        self.notebook = YNotebook()
        self._changed = asyncio.Event()
        self.status_history: dict[str, list[str]] = {}
        self.update_count = 0
        self.update_times: list[float] = []
        # Tests follow every status a request goes through; benchmarks only count updates.
        self._track_statuses = track_statuses
        self._replica: Doc[Any] = Doc()
        self.notebook.ydoc.observe(self._on_transaction)

    def _on_transaction(self, event: Any) -> None:
        self.update_count += 1
        self.update_times.append(time.monotonic())
        self._changed.set()
        if not self._track_statuses:
            return
        # The doc cannot be read while it is being changed; a replica can.
        self._replica.apply_update(event.update)
        for request_id, entry in _requests_of(self._replica).items():
            status = entry.get("status")
            history = self.status_history.setdefault(request_id, [])
            if status is not None and (not history or history[-1] != status):
                history.append(status)

    def requests(self) -> dict[str, dict[str, Any]]:
        return _requests_of(self.notebook.ydoc)

    def request_status(self, request_id: str) -> str | None:
        """One request's status, without reading the others."""
        requests = self.notebook.ydoc.get("collab_exec", type=Map).get("requests")
        entry = requests.get(request_id) if isinstance(requests, Map) else None
        status = entry.get("status") if isinstance(entry, Map) else None
        return status if isinstance(status, str) else None

    def inputs(self) -> dict[str, dict[str, Any]]:
        return _entries_of(self.notebook.ydoc, "inputs")

    def pending_input(self, prompt: str | None = None) -> str | None:
        """The id of a pending input, with the given prompt if one is given."""
        for input_id, entry in self.inputs().items():
            if entry.get("status") == "pending" and prompt in (None, entry.get("prompt")):
                return input_id
        return None

    async def wait_for_input(
        self, prompt: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> str:
        """Wait for a pending input, with the given prompt if one is given; returns its id."""
        await self.wait_until(
            lambda: self.pending_input(prompt) is not None,
            timeout,
            what=f"an input asking {prompt!r}" if prompt is not None else "an input",
        )
        input_id = self.pending_input(prompt)
        assert input_id is not None
        return input_id

    def kernel_state(self) -> dict[str, Any] | None:
        kernel = self.notebook.ydoc.get("collab_exec", type=Map).get("kernel")
        return kernel.to_py() if isinstance(kernel, Map) else None

    def widget_models(self) -> dict[str, dict[str, Any]]:
        """The models of `collab_widgets`."""
        models = self.notebook.ydoc.get("collab_widgets", type=Map).get("models")
        if not isinstance(models, Map):
            return {}
        return {
            name: value.to_py() or {} for name, value in models.items() if isinstance(value, Map)
        }

    def metadata(self) -> dict[str, Any]:
        metadata = self.notebook.ydoc.get("meta", type=Map).get("metadata")
        return dict(metadata.to_py() or {}) if isinstance(metadata, Map) else {}

    def cell(self, cell_id: str) -> dict[str, Any]:
        for index in range(self.notebook.cell_number):
            cell = self.notebook.ycells[index].to_py()
            if cell.get("id") == cell_id:
                return dict(cell)
        raise KeyError(cell_id)

    async def wait_until(
        self, predicate: Callable[[], bool], timeout: float = DEFAULT_TIMEOUT, what: str = ""
    ) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"Timed out after {timeout}s waiting for {what or predicate}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                continue


class WidgetUpdateCount:
    """How many transactions of a client's doc change `collab_widgets`, from now on."""

    def __init__(self, client: RoomClient) -> None:
        self.count = 0
        root = client.notebook.ydoc.get("collab_widgets", type=Map)
        # pycrdt unsubscribes when the subscription is collected: keep it.
        self._subscription = root.observe_deep(self._count)

    def _count(self, events: Any) -> None:
        self.count += 1


def _entries_of(ydoc: Doc[Any], key: str) -> dict[str, dict[str, Any]]:
    entries = ydoc.get("collab_exec", type=Map).get(key)
    if not isinstance(entries, Map):
        return {}
    return {name: value.to_py() or {} for name, value in entries.items() if isinstance(value, Map)}


def _requests_of(ydoc: Doc[Any]) -> dict[str, dict[str, Any]]:
    return _entries_of(ydoc, "requests")


class ListeningChannel(HttpxWebsocket):
    """A browser's channel for a client that never edits. pycrdt's Provider sends every
    transaction of its doc, those it applied from the server included; y-websocket skips
    its own. A client that never edits has no update of its own to send, so this drops
    them: the server then gets what a browser sends (its state vector, its sync answer,
    its awareness) instead of every update back from every client."""

    ECHO = bytes([YMessageType.SYNC, YSyncMessageType.SYNC_UPDATE])

    async def send(self, message: bytes) -> None:
        if not message.startswith(self.ECHO):
            await super().send(message)


@asynccontextmanager
async def joined_room(
    url: str,
    room_id: str,
    *,
    track_statuses: bool = True,
    headers: dict[str, str] | None = None,
    listen_only: bool = False,
) -> AsyncIterator[RoomClient]:
    """A client joined to the room behind a websocket URL, once it holds the cells; one that
    `listen_only` sends no update back, as a browser that never edits."""
    client = RoomClient(track_statuses)
    channel_class = ListeningChannel if listen_only else HttpxWebsocket
    async with (
        aconnect_ws(url, headers=headers or {}) as websocket,  # type: ignore[var-annotated]
        Provider(client.notebook.ydoc, channel_class(websocket, room_id)) as provider,
    ):
        await asyncio.wait_for(provider.synced.wait(), DEFAULT_TIMEOUT)
        await client.wait_until(lambda: client.notebook.cell_number > 0, what="cells synced")
        yield client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerClient:
    """REST calls and room clients for a Jupyter server at `url`, with a token."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self._http: httpx.AsyncClient | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, method: str, path: str, body: Any = None) -> httpx.Response:
        """One REST call over a kept-alive connection, as a browser makes it; any status."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=30)
        return await self._http.request(
            method, f"{self.url}/{path}", headers=self.headers, json=body
        )

    async def request(self, method: str, path: str, body: Any = None) -> Any:
        """One REST call that must succeed; returns the decoded answer."""
        response = await self.send(method, path, body)
        response.raise_for_status()
        return response.json() if response.content else None

    async def session(self, path: str) -> tuple[str, str]:
        data = await self.request(
            "PUT", f"api/collaboration/session/{path}", {"format": "json", "type": "notebook"}
        )
        return f"json:notebook:{data['fileId']}", data["sessionId"]

    async def start_kernel(self) -> str:
        kernel = await self.request("POST", "api/kernels", {})
        return str(kernel["id"])

    async def execute(self, room_id: str, kernel_id: str, cell_ids: Sequence[str]) -> list[str]:
        """Queue cells; returns the request ids in order."""
        accepted = await self.request(
            "POST",
            "api/collab-exec/execute",
            {
                "document_id": room_id,
                "kernel_id": kernel_id,
                "cells": [{"cell_id": cell_id} for cell_id in cell_ids],
            },
        )
        return [request["request_id"] for request in accepted["requests"]]

    def join(
        self,
        room_id: str,
        session_id: str,
        *,
        track_statuses: bool = True,
        listen_only: bool = False,
    ) -> contextlib.AbstractAsyncContextManager[RoomClient]:
        url = f"{self.url}/api/collaboration/room/{room_id}?sessionId={session_id}"
        # In the header: a Hub's single-user server takes a token in the URL only from a
        # browser's websocket (Sec-Fetch-Mode).
        return joined_room(
            url,
            room_id,
            track_statuses=track_statuses,
            headers=self.headers,
            listen_only=listen_only,
        )


class ServerProcess(ServerClient):
    """A `jupyter server` process on loopback.

    By default it runs this environment's server with collaboration and this extension;
    `python`, `arguments` and `ready_path` let the benchmarks start other servers.
    """

    def __init__(
        self,
        root: Path,
        *,
        python: Path | str = sys.executable,
        arguments: list[str] | None = None,
        ready_path: str = "api/collab-exec",
    ) -> None:
        self.root = root
        self.python = str(python)
        self.arguments = (
            arguments
            if arguments is not None
            else [
                f"--SQLiteYStore.db_path={root / '.ystore.db'}",
                f"--BaseFileIdManager.db_path={root / '.fileid.db'}",
                f"--BaseFileIdManager.root_dir={root}",
                "--YDocExtension.document_save_delay=0.2",
            ]
        )
        self.ready_path = ready_path
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        super().__init__(f"http://127.0.0.1:{self.port}", uuid.uuid4().hex)

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
            *self.arguments,
        ]
        with (self.root / "server.log").open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                self.python,
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
                    response = await http.get(f"{self.url}/{self.ready_path}", headers=self.headers)
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

    async def stop(self, how: signal.Signals, timeout: float = 60.0) -> None:
        """Signal the server, and kill it if it has not exited within `timeout` seconds."""
        assert self.process is not None
        await self.close()
        self.process.send_signal(how)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except asyncio.TimeoutError:
            self.process.kill()
            raise AssertionError("the server did not stop") from None

    async def stop_gracefully(self, timeout: float = 60.0) -> None:
        await self.stop(signal.SIGTERM, timeout)
