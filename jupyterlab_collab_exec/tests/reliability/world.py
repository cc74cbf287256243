"""The world of the hostile suites: two notebooks on a real server, the first one with a cell
waiting for input and a request queued behind it, and what reads the server's live
documents to show that a rejected request changed nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from pycrdt import Map

from ..clients import PYTHON_KERNELSPEC, RoomClient, wait_for
from ..conftest import DocumentIdFor, Execute, JoinRoom, StartKernel, statuses

ASK = "print('before', flush=True)\nname = input('Name?')\nprint(f'Hello {name}')"

# Checkpoint saves write `state.dirty` and `state.hash` into a document while work runs in it;
# the fuzzing compares documents around each request, so it runs without them.
QUIET_SERVER = {"CollabExecApp": {"checkpoint_interval": 0.0}}


def write_notebook(root: Path, name: str, cells: list[tuple[str, str, str]]) -> str:
    """A notebook of (cell id, 'code' or 'markdown', source) cells; returns its path."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = dict(PYTHON_KERNELSPEC)
    for cell_id, kind, source in cells:
        if kind == "code":
            notebook.cells.append(nbformat.v4.new_code_cell(source, id=cell_id))
        else:
            notebook.cells.append(nbformat.v4.new_markdown_cell(source, id=cell_id))
    (root / name).write_text(nbformat.writes(notebook), encoding="utf-8")
    return name


def decode_state_vector(encoded: bytes) -> dict[int, int]:
    """A Yjs state vector (client id to clock), independent of its encoding order."""
    position = 0

    def varuint() -> int:
        nonlocal position
        value = shift = 0
        while True:
            byte = encoded[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    entries = varuint()
    return dict((varuint(), varuint()) for _ in range(entries))


class ServerDocs:
    """The live documents of notebook rooms, as the server holds them, and the service's
    work. Read them on the server's event loop."""

    def __init__(self, serverapp: Any, document_ids: list[str]) -> None:
        point = serverapp.extension_manager.extension_points["jupyter_server_ydoc"]
        self._ydoc_extension = point.app
        self.service = serverapp.web_app.settings["collab_exec_service"]
        self.document_ids = document_ids

    async def notebook(self, document_id: str) -> Any:
        notebook = await self._ydoc_extension.get_document(room_id=document_id, copy=False)
        assert notebook is not None, f"the room of {document_id} is not loaded"
        return notebook

    def room(self, document_id: str) -> Any:
        return self._ydoc_extension.ywebsocket_server.rooms[document_id]

    async def snapshot(self) -> dict[str, Any]:
        """Everything a rejected request must leave alone. The state vector shows any
        insertion; the contents show deletions too."""
        shot: dict[str, Any] = {"active": sorted(self.service.active_request_ids)}
        for document_id in self.document_ids:
            notebook = await self.notebook(document_id)
            ydoc = notebook.ydoc
            shot[document_id] = {
                "state_vector": decode_state_vector(ydoc.get_state()),
                "cells": notebook.ycells.to_py(),
                "meta": ydoc.get("meta", type=Map).to_py(),
                "state": notebook.ystate.to_py(),
                "collab_exec": ydoc.get("collab_exec", type=Map).to_py(),
            }
        return shot

    async def settled(self) -> None:
        """Wait until no save of a room is pending: a save writes `state.dirty` and
        `state.hash` into the document."""

        def no_save_pending() -> bool:
            for document_id in self.document_ids:
                saving = self.room(document_id)._saving_document
                if saving is not None and not saving.done():
                    return False
            return True

        await wait_for(no_save_pending, what="the rooms' saves")


def differences(before: Any, after: Any, path: str = "") -> list[str]:
    """Where two snapshots differ, with the values, briefly."""
    if isinstance(before, dict) and isinstance(after, dict):
        found = []
        for key in sorted({*before, *after}, key=str):
            found.extend(differences(before.get(key), after.get(key), f"{path}/{key}"))
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        found = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            found.extend(differences(old, new, f"{path}/{index}"))
        return found
    return [] if before == after else [f"{path}: {before!r:.200} -> {after!r:.200}"]


@dataclass(frozen=True)
class Known:
    """The real ids that fuzzed bodies mix with junk."""

    documents: dict[str, list[str]]
    """Each notebook's room id and its code cells' ids (no id is shared between them)."""
    markdown: dict[str, str]
    """A markdown cell of each notebook."""
    kernel_id: str
    request_ids: list[str]
    input_id: str
    input_document: str

    @property
    def document_ids(self) -> list[str]:
        return sorted(self.documents)

    @property
    def file_ids(self) -> list[str]:
        return [document_id.split(":", 2)[2] for document_id in self.document_ids]

    @property
    def all_ids(self) -> set[str]:
        cells = {cell for cells in self.documents.values() for cell in cells}
        return {
            *self.documents,
            *cells,
            *self.markdown.values(),
            self.kernel_id,
            *self.request_ids,
            self.input_id,
        }


FuzzWorld = tuple[Known, ServerDocs, RoomClient]


@asynccontextmanager
async def fuzz_world(
    root: Path,
    serverapp: Any,
    document_id_for: DocumentIdFor,
    join_room: JoinRoom,
    start_kernel: StartKernel,
    execute: Execute,
) -> AsyncIterator[FuzzWorld]:
    """Two notebooks with a client in each; in the first one a cell waits for input and
    another is queued behind it. Every document settled before it is yielded."""
    first = write_notebook(
        root,
        "hostile-a.ipynb",
        [("ask", "code", ASK), ("quiet", "code", "x = 1"), ("notes", "markdown", "# A")],
    )
    second = write_notebook(
        root, "hostile-b.ipynb", [("b-code", "code", "y = 2"), ("b-notes", "markdown", "# B")]
    )
    document, session = await document_id_for(first)
    other, other_session = await document_id_for(second)
    kernel_id = await start_kernel()
    async with join_room(document, session) as client, join_room(other, other_session):
        asking, queued = await execute(document, kernel_id, "ask", "quiet")
        input_id = await client.wait_for_input("Name?")
        assert input_id is not None

        def quiet() -> bool:
            kernel = client.kernel_state() or {}
            return (
                statuses(client, asking, queued) == ["awaiting_input", "queued"]
                and [o.get("text") for o in client.cell("ask")["outputs"]] == ["before\n"]
                and kernel.get("execution_state") == "busy"
            )

        await client.wait_until(quiet, what="the first notebook to wait for input")
        docs = ServerDocs(serverapp, [document, other])
        # Joining reconciles a room (which writes nothing into it); the server then knows
        # what the room's file brought.
        await wait_for(
            lambda: docs.service._trust.records.knows_file(other),
            what="the second room reconciled",
        )
        await docs.settled()
        known = Known(
            documents={document: ["ask", "quiet"], other: ["b-code"]},
            markdown={document: "notes", other: "b-notes"},
            kernel_id=kernel_id,
            request_ids=[asking, queued],
            input_id=input_id,
            input_document=document,
        )
        yield known, docs, client
