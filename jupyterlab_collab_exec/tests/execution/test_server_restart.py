"""A server stopped in the middle of a run, then started again, shows no stuck `[*]`.

The server runs as a real `jupyter server` process, stopped cleanly (SIGTERM) or killed
(SIGKILL), and started again on the same root, YStore and file id database.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
from pathlib import Path
from typing import Any

import nbformat
import pytest

from jupyterlab_collab_exec.trust.digests import json_digest, output_digest

from ..clients import ServerProcess, wait_for, write_notebook
from ..conftest import statuses
from ..widgets.comms import doc_entry_digest

ACTIVE = {"queued", "running", "awaiting_input"}


WAITING_CELLS = {
    "running": "import time\nprint('started', flush=True)\ntime.sleep(120)",
    "awaiting input": "print('started', flush=True)\nname = input('Name?')",
}


@pytest.mark.parametrize("waiting", list(WAITING_CELLS))
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_restarted_server_shows_no_stuck_cell(
    tmp_path: Path, how: signal.Signals, waiting: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root, "restart.ipynb", [WAITING_CELLS[waiting], "print('queued')"])
    server = ServerProcess(root)
    await server.start()
    try:
        room_id, session_id = await server.session("restart.ipynb")
        kernel_id = await server.start_kernel()
        async with server.join(room_id, session_id) as client:
            request_ids = await server.execute(room_id, kernel_id, ["cell-0", "cell-1"])
            await client.wait_until(
                lambda: bool(client.cell("cell-0")["outputs"]), what="the cell to start"
            )
            if waiting == "awaiting input":
                await client.wait_for_input("Name?")
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
                return (
                    cells_idle
                    and not any(
                        entry.get("status") in ACTIVE for entry in client.requests().values()
                    )
                    and client.pending_input() is None
                )

            await client.wait_until(settled, what="stale work to be settled")
            found = [status for status in statuses(client, *request_ids) if status is not None]
            assert set(found) <= {"interrupted", "cancelled"}, found
            inputs = [entry["status"] for entry in client.inputs().values()]
            assert set(inputs) <= {"cancelled"}, inputs
            print(json.dumps({"how": how.name, "requests": found, "inputs": inputs}))
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop(signal.SIGTERM)


async def test_widgets_are_frozen_after_a_server_restart(tmp_path: Path) -> None:
    """The models of a kernel that no server holds any more stay, frozen, with the saved
    widget state in the file."""
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root, "widgets.ipynb", ["from ipywidgets import IntSlider\nIntSlider(7)"])
    server = ServerProcess(root)
    await server.start()
    try:
        room_id, session_id = await server.session("widgets.ipynb")
        kernel_id = await server.start_kernel()
        async with server.join(room_id, session_id) as client:
            [request_id] = await server.execute(room_id, kernel_id, ["cell-0"])
            await client.wait_until(
                lambda: statuses(client, request_id) == ["ok"], what="the slider cell"
            )
            live = client.widget_models()
            assert len(live) == 3  # the slider, its layout and its style
            assert all(entry["live"] for entry in live.values())
            written = server.stored_updates()
            await wait_for(lambda: server.stored_updates() > written, what="a YStore write")
        await server.stop(signal.SIGTERM)
        saved = nbformat.read(root / "widgets.ipynb", as_version=4)
        state = saved.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
        assert set(state) == set(live)

        await server.start()
        room_id, session_id = await server.session("widgets.ipynb")
        async with server.join(room_id, session_id) as client:
            await client.wait_until(
                lambda: (
                    set(client.widget_models()) == set(live)
                    and not any(entry["live"] for entry in client.widget_models().values())
                ),
                what="every model frozen",
            )
            [slider] = [e for e in client.widget_models().values() if "value" in e["state"]]
            assert slider["state"]["value"] == 7
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop(signal.SIGTERM)


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_what_the_server_wrote_is_still_confirmed_after_a_restart(
    tmp_path: Path, how: signal.Signals
) -> None:
    """Trust survives the server: cell outputs, widget models and the saved widget state
    that it wrote are confirmed after a clean stop, and after a crash once the records
    were saved (at most `save_interval` after the writes); what it did not write is not."""
    root = tmp_path / "root"
    root.mkdir()
    sources = [
        "from IPython.display import HTML\nHTML('<b>genuine</b>')",
        "from ipywidgets import IntSlider\nIntSlider(7)",
    ]
    write_notebook(root, "trust.ipynb", sources)
    server = ServerProcess(root)
    await server.start()
    try:
        room_id, session_id = await server.session("trust.ipynb")
        kernel_id = await server.start_kernel()
        async with server.join(room_id, session_id) as client:
            request_ids = await server.execute(room_id, kernel_id, ["cell-0", "cell-1"])
            await client.wait_until(
                lambda: statuses(client, *request_ids) == ["ok", "ok"], what="both cells"
            )
            await client.wait_until(lambda: "widgets" in client.metadata(), what="saved state")
            outputs = [output_digest(output) for output in client.cell("cell-0")["outputs"]]
            models: dict[str, str | None] = {}
            for model_id, entry in client.widget_models().items():
                models[model_id] = doc_entry_digest(model_id, entry)
            question: dict[str, Any] = {
                "document_id": room_id,
                "cells": [
                    {"cell_id": "cell-0", "outputs": outputs},
                    {"cell_id": "cell-1", "outputs": ["0" * 64]},
                ],
                "widget_models": models,
                "widget_state": json_digest(client.metadata()["widgets"]),
            }
        before = await server.request("POST", "api/collab-exec/trust", question)
        assert before == {
            "cells": {"cell-0": "trusted", "cell-1": "untrusted"},
            "widget_models": dict.fromkeys(models, True),
            "widget_state": True,
        }
        # The records reach the database within its save interval.
        database = root / ".jupyter_collab_exec.db"
        await wait_for(lambda: saved_cells(database) >= 2, what="the trust records saved")
        await server.stop(how)

        await server.start()
        room_id, session_id = await server.session("trust.ipynb")
        async with server.join(room_id, session_id):
            after = await server.request("POST", "api/collab-exec/trust", question)
        assert after == before
        forged = {
            **question,
            "widget_state": "0" * 64,
            "cells": [{"cell_id": "cell-0", "outputs": ["0" * 64]}],
        }
        answer = await server.request("POST", "api/collab-exec/trust", forged)
        assert answer["cells"] == {"cell-0": "untrusted"}
        assert answer["widget_state"] is False
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop(signal.SIGTERM)


def saved_cells(database: Path) -> int:
    """How many cells the trust database holds records of."""
    if not database.exists():
        return 0
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
        try:
            row = connection.execute("SELECT COUNT(*) FROM trust_cell_outputs").fetchone()
        except sqlite3.OperationalError:
            return 0
    return int(row[0])
