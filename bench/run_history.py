"""The run history's listing under load: a cell with 1,000 runs, asked for over REST.

    python -m bench.run_history

A real server with this extension; the notebook's history database is filled with 1,000
runs of one cell (each with its own output, and a shared one) through the history's own
store, then `GET /api/collab-exec/history` for that cell is asked 50 times for its newest
page (50 runs), and 20 times for the largest page (500). It prints the medians; the target
is under 50 ms for the newest page.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyterlab_collab_exec.history.records import AnsweredInput, RunRecord
from jupyterlab_collab_exec.history.store import RunStore
from jupyterlab_collab_exec.tests.clients import ServerProcess, write_notebook

RUNS = 1000
TARGET_MS = 50.0
HISTORY_DB = ".history.db"


def runs_of(file_id: str, count: int) -> list[RunRecord]:
    person = {"username": "ada", "display_name": "Ada"}
    return [
        RunRecord(
            run_id=f"run-{number:05d}",
            file_id=file_id,
            cell_id="cell-0",
            source=f"for i in range({number}):\n    print(i)",
            execution_count=number,
            status="ok",
            reason=None,
            submitted_by=person,
            submitted_at=1e12 + number,
            started_at=1e12 + number + 1,
            finished_at=1e12 + number + 2,
            outputs=[
                {"output_type": "stream", "name": "stdout", "text": f"{number}\n" * 20},
                {"output_type": "stream", "name": "stderr", "text": "the same warning\n"},
            ],
            output_count=2,
            inputs=[AnsweredInput("Name?", False, "Ada", person, 1e12 + number + 1)],
        )
        for number in range(1, count + 1)
    ]


async def timed_listing(server: ServerProcess, path: str, times: int) -> list[float]:
    elapsed = []
    for _ in range(times):
        started = time.perf_counter()
        response = await server.send("GET", path)
        elapsed.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return elapsed


async def measure() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-run-history-") as folder:
        root = Path(folder)
        write_notebook(root, "history.ipynb", ["print('hello')"])
        server = ServerProcess(
            root,
            arguments=[
                f"--SQLiteYStore.db_path={root / '.ystore.db'}",
                f"--BaseFileIdManager.db_path={root / '.fileid.db'}",
                f"--BaseFileIdManager.root_dir={root}",
                f"--CollabExecApp.history_db_path={root / HISTORY_DB}",
            ],
        )
        await server.start()
        try:
            document_id, _ = await server.session("history.ipynb")
            file_id = document_id.rpartition(":")[2]
            store = RunStore(root / HISTORY_DB)
            for run in runs_of(file_id, RUNS):
                store.record(run)
            size = store.size()
            store.close()
            base = f"api/collab-exec/history?document_id={document_id}&cell_id=cell-0"
            # The first answer opens the database in the server: not part of the figures.
            await timed_listing(server, base, 1)
            newest = await timed_listing(server, f"{base}&limit=50", 50)
            largest = await timed_listing(server, f"{base}&limit=500", 20)
            one = await timed_listing(
                server, f"api/collab-exec/history/run-00500?document_id={document_id}", 50
            )
        finally:
            await server.stop_gracefully()
            await server.close()
    return {
        "newest_page_ms": statistics.median(newest),
        "largest_page_ms": statistics.median(largest),
        "one_run_ms": statistics.median(one),
        "database_bytes": float(size),
    }


def main() -> int:
    figures = asyncio.run(measure())
    kib = figures["database_bytes"] / 1024
    print(f"Run history of one cell with {RUNS} runs ({kib:.0f} KiB counted):")
    newest = figures["newest_page_ms"]
    print(f"  newest page (50 runs): median {newest:.1f} ms (target < {TARGET_MS:.0f} ms)")
    print(f"  largest page (500 runs): median {figures['largest_page_ms']:.1f} ms")
    print(f"  one run with its outputs: median {figures['one_run_ms']:.1f} ms")
    return 0 if figures["newest_page_ms"] < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
