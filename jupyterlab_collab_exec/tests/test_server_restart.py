"""A server stopped in the middle of a run, then started again, shows no stuck `[*]`.

The server runs as a real `jupyter server` process, stopped cleanly (SIGTERM) or killed
(SIGKILL), and started again on the same root, YStore and file id database.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import nbformat
import pytest

from .clients import ServerProcess, wait_for, write_notebook
from .conftest import statuses

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
