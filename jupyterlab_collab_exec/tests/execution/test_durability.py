"""Work that outlives its browsers: every client leaves, the room would be evicted, and a
flood of output arrives; the doc and the .ipynb on disk still get everything, once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ..clients import saved_cell, wait_for
from ..conftest import OpenNotebookFactory, statuses

LINES = 20
SLOW_PRINTS = (
    f"import time\nfor i in range({LINES}):\n    print(f'line {{i}}', flush=True)\n"
    "    time.sleep(0.5)"
)
EXPECTED_TEXT = "".join(f"line {i}\n" for i in range(LINES))


@pytest.mark.parametrize("document_cleanup_delay", [1.0])
async def test_every_client_leaves_mid_run(
    document_cleanup_delay: float,
    jp_root_dir: Path,
    jp_serverapp: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    ydoc_extension = jp_serverapp.extension_manager.extension_points["jupyter_server_ydoc"].app
    async with open_notebook("durable.ipynb", [SLOW_PRINTS]) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        await client.wait_until(
            lambda: "line 3" in "".join(o.get("text", "") for o in client.cell("cell-0")["outputs"])
        )
    # Every client has gone; jupyter_server_ydoc would evict the room after 1 s.
    await wait_for(lambda: not service.active_request_ids, timeout=60, what="the run to finish")
    on_disk = jp_root_dir / notebook.path

    def disk_is_complete() -> bool:
        cell = saved_cell(on_disk)
        return cell.get("execution_count") == 1 and bool(cell.get("outputs"))

    await wait_for(disk_is_complete, timeout=30, what="the .ipynb to be saved")
    cell = saved_cell(on_disk)
    assert [output["text"] for output in cell["outputs"]] == [EXPECTED_TEXT]

    # Nothing is held once the work is done: the room goes as jupyter_server_ydoc would.
    await wait_for(
        lambda: notebook.document_id not in ydoc_extension.ywebsocket_server.rooms,
        timeout=30,
        what="the room to be evicted",
    )
    assert not service._rooms._held

    # A client joining later reloads the room and sees the finished run exactly once.
    async with notebook.join() as late:
        cell = late.cell("cell-0")
        assert [output["text"] for output in cell["outputs"]] == [EXPECTED_TEXT]
        assert cell["execution_count"] == 1
        assert cell["execution_state"] == "idle"
        await late.wait_until(lambda: statuses(late, request_id) == ["ok"])


async def test_execute_with_no_room_loaded(
    jp_root_dir: Path,
    jp_serverapp: Any,
    notebook_factory: Any,
    document_id_for: Any,
    start_kernel: Any,
    execute: Any,
) -> None:
    """A REST caller with no browser at all: the server opens the room itself."""
    path = notebook_factory("headless.ipynb", ["print('no browser needed')"])
    document_id, _ = await document_id_for(path)
    kernel_id = await start_kernel()
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    await execute(document_id, kernel_id, "cell-0")
    await wait_for(lambda: not service.active_request_ids, timeout=60, what="the run")

    def saved() -> bool:
        return saved_cell(jp_root_dir / path).get("execution_count") == 1

    await wait_for(saved, timeout=30, what="the save")
    assert saved_cell(jp_root_dir / path)["outputs"][0]["text"] == "no browser needed\n"


FLOOD_LINES = 200_000


@pytest.mark.parametrize(
    "extra_server_config",
    # Rate limits that would drop most of a flood sent over a browser's websocket.
    [{"ServerApp": {"iopub_data_rate_limit": 1000.0, "iopub_msg_rate_limit": 10.0}}],
)
async def test_flood_is_complete_and_coalesced(
    extra_server_config: Any, open_notebook: OpenNotebookFactory
) -> None:
    sources = [f"for i in range({FLOOD_LINES}):\n    print(i)"]
    async with open_notebook("flood.ipynb", sources) as notebook:
        client = notebook.client
        youtputs = client.notebook.ycells[0]["outputs"]
        loop = asyncio.get_running_loop()
        arrivals: list[float] = []
        subscription = youtputs.observe_deep(lambda events: arrivals.append(loop.time()))
        [request_id] = await notebook.run("cell-0")
        await notebook.wait_statuses([request_id], ["ok"], timeout=300, what="the flood")
        youtputs.unobserve(subscription)
        [output] = client.cell("cell-0")["outputs"]
        lines = output["text"].splitlines()
        assert len(lines) == FLOOD_LINES
        assert lines == [str(i) for i in range(FLOOD_LINES)]

        # At most one outputs transaction per 50 ms flush interval: about 20 per second.
        busiest = max(sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals)
        duration = arrivals[-1] - arrivals[0]
        print(
            json.dumps(
                {
                    "flood_updates": len(arrivals),
                    "flood_seconds": round(duration, 3),
                    "mean_updates_per_second": round(len(arrivals) / max(duration, 1e-9), 1),
                    "busiest_second": busiest,
                }
            )
        )
        assert busiest <= 22


@pytest.mark.parametrize("extra_server_config", [{"CollabExecApp": {"checkpoint_interval": 0.5}}])
async def test_a_long_run_is_saved_while_it_runs(
    extra_server_config: Any,
    jp_root_dir: Path,
    open_notebook: OpenNotebookFactory,
) -> None:
    """Output every 0.1 s keeps postponing jupyter_server_ydoc's debounced save; the
    checkpoints still put what the cell printed so far into the .ipynb, so a crash of the
    server loses at most one interval."""
    printing = "import time\nfor i in range(60):\n    print(i, flush=True)\n    time.sleep(0.1)"
    async with open_notebook("long.ipynb", [printing]) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")

        def saved_part_of_the_run() -> bool:
            outputs = saved_cell(jp_root_dir / notebook.path).get("outputs") or []
            return bool(outputs) and "5\n" in outputs[0].get("text", "")

        await wait_for(saved_part_of_the_run, timeout=30, what="a checkpoint with outputs")
        # Saved while the cell still runs.
        assert client.request_status(request_id) == "running"
        await notebook.wait_statuses([request_id], ["ok"], timeout=60)
