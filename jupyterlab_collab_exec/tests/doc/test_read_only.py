"""Loading a room writes nothing into it: the extension's maps appear with the first
request or input, never because a room was opened, read or reconciled."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from pycrdt import Array, Doc, Map

from ..clients import wait_for
from ..conftest import DocumentIdFor, JoinRoom
from ..reliability.world import ServerDocs


def stored_doc(database: Path, room_id: str) -> Doc[Any]:
    """The room's document as its YStore holds it (under a path that names its file id)."""
    file_id = room_id.rsplit(":", 1)[-1]
    doc: Doc[Any] = Doc()
    with sqlite3.connect(database) as connection:
        for (update,) in connection.execute(
            "SELECT yupdate FROM yupdates WHERE instr(path, ?) > 0 ORDER BY timestamp",
            (file_id,),
        ):
            doc.apply_update(update)
    return doc


async def test_loading_a_room_writes_nothing_of_the_extension(
    notebook_factory: Any,
    document_id_for: DocumentIdFor,
    join_room: JoinRoom,
    jp_root_dir: Path,
    jp_serverapp: Any,
) -> None:
    path = notebook_factory("read-only.ipynb", ["1 + 1"])
    document_id, session_id = await document_id_for(path)
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    async with join_room(document_id, session_id) as client:
        # The room loaded and was reconciled: the server recorded what its file brought.
        await wait_for(
            lambda: service._trust.records.knows_file(document_id), what="the room reconciled"
        )
        assert client.notebook.cell_number == 1
    # Everything the room's doc holds reached the YStore.
    live = (await ServerDocs(jp_serverapp, []).notebook(document_id)).ydoc
    database = jp_root_dir / ".jupyter_ystore.db"
    await wait_for(
        lambda: stored_doc(database, document_id).get_state() == live.get_state(),
        what="the room's updates in the YStore",
    )
    stored = stored_doc(database, document_id)
    assert stored.get("cells", type=Array).to_py()
    assert stored.get("collab_exec", type=Map).to_py() == {}
    assert stored.get("collab_widgets", type=Map).to_py() == {}
