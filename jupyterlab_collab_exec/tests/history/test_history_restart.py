"""The run history outlives the server: what a stopped server recorded, including the
request that it interrupted on its way out, is there after it starts again."""

from __future__ import annotations

import signal
from pathlib import Path

from ..clients import ServerProcess, write_notebook
from ..conftest import statuses

SOURCES = ["print('kept')", "import time\ntime.sleep(60)"]


async def test_the_history_is_kept_across_a_restart(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root, "restart-history.ipynb", SOURCES)
    server = ServerProcess(root)
    await server.start()
    try:
        room_id, session_id = await server.session("restart-history.ipynb")
        kernel_id = await server.start_kernel()
        async with server.join(room_id, session_id) as client:
            [kept] = await server.execute(room_id, kernel_id, ["cell-0"])
            await client.wait_until(lambda: statuses(client, kept) == ["ok"], what="cell 0")
            [sleeping] = await server.execute(room_id, kernel_id, ["cell-1"])
            await client.wait_until(
                lambda: statuses(client, sleeping) == ["running"], what="cell 1 running"
            )
        await server.stop(signal.SIGTERM)

        await server.start()
        room_id, _ = await server.session("restart-history.ipynb")
        answer = await server.request("GET", f"api/collab-exec/history?document_id={room_id}")
        by_id = {run["run_id"]: run for run in answer["runs"]}
        assert (by_id[kept]["status"], by_id[kept]["output_count"]) == ("ok", 1)
        assert by_id[sleeping]["status"] == "interrupted"
        assert by_id[sleeping]["reason"] == "The server stopped."
        detail = await server.request(
            "GET", f"api/collab-exec/history/{kept}?document_id={room_id}"
        )
        assert detail["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "kept\n"}]
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop(signal.SIGTERM)
        await server.close()
