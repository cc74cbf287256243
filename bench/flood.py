"""Flood benchmark: a cell that prints N lines, run through this project and through a bare
jupyter_client on the same kind of kernel, in one run.

For this project the wall time runs from the execute request until an observing room
client holds the complete text and the request is `ok`. For the bare client it runs from
the execute_request until every IOPub message of the request has been drained.

    python bench/flood.py --lines 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import nbformat

from bench.systems.base import local_kernel
from jupyterlab_collab_exec.tests.clients import RoomClient, ServerProcess


def flood_code(lines: int) -> str:
    return f"for i in range({lines}):\n    print(i)"


async def run_bare_client(code: str) -> tuple[float, int]:
    """The limit: execute and drain IOPub with nothing in between."""
    async with local_kernel() as client:
        started = time.perf_counter()
        msg_id = client.execute(code)
        received = 0
        while True:
            msg = await client.get_iopub_msg(timeout=300)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                received += msg["content"]["text"].count("\n")
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        return time.perf_counter() - started, received


async def execute_and_wait(
    server: ServerProcess, client: RoomClient, room_id: str, kernel_id: str, cell_id: str
) -> None:
    accepted = await server.request(
        "POST",
        "api/collab-exec/execute",
        {"document_id": room_id, "kernel_id": kernel_id, "cells": [{"cell_id": cell_id}]},
    )
    request_id = accepted["requests"][0]["request_id"]
    await client.wait_until(
        lambda: client.requests().get(request_id, {}).get("status") == "ok", timeout=600
    )


async def run_project(server: ServerProcess, code: str, name: str) -> dict[str, Any]:
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [
        nbformat.v4.new_code_cell("pass", id="warm-up"),  # type: ignore[no-untyped-call]
        nbformat.v4.new_code_cell(code, id="flood"),  # type: ignore[no-untyped-call]
    ]
    (server.root / name).write_text(nbformat.writes(notebook), "utf-8")  # type: ignore[no-untyped-call]
    room_id, session_id = await server.session(name)
    kernel = await server.request("POST", "api/kernels", {})
    try:
        async with server.join(room_id, session_id) as client:
            # As for the bare client, the kernel is ready and connected before the clock starts.
            await execute_and_wait(server, client, room_id, kernel["id"], "warm-up")
            youtputs = client.notebook.ycells[1]["outputs"]
            loop = asyncio.get_running_loop()
            arrivals: list[float] = []
            subscription = youtputs.observe_deep(lambda events: arrivals.append(loop.time()))
            started = time.perf_counter()
            accepted = await server.request(
                "POST",
                "api/collab-exec/execute",
                {
                    "document_id": room_id,
                    "kernel_id": kernel["id"],
                    "cells": [{"cell_id": "flood"}],
                },
            )
            request_id = accepted["requests"][0]["request_id"]
            await client.wait_until(
                lambda: client.requests().get(request_id, {}).get("status") == "ok",
                timeout=600,
            )
            elapsed = time.perf_counter() - started
            youtputs.unobserve(subscription)
            text = "".join(output.get("text", "") for output in client.cell("flood")["outputs"])
            duration = max(arrivals[-1] - arrivals[0], 1e-9) if len(arrivals) > 1 else 1e-9
            busiest = max(
                (sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals),
                default=0,
            )
            return {
                "seconds": elapsed,
                "lines": text.count("\n"),
                "updates": len(arrivals),
                "updates_per_second": len(arrivals) / duration,
                "busiest_second": busiest,
            }
    finally:
        await server.request("DELETE", f"api/kernels/{kernel['id']}")


async def main(lines: int, repeat: int) -> int:
    code = flood_code(lines)
    ours: list[dict[str, Any]] = []
    bare: list[tuple[float, int]] = []
    with tempfile.TemporaryDirectory() as directory:
        server = ServerProcess(Path(directory))
        await server.start()
        try:
            for index in range(repeat):
                bare.append(await run_bare_client(code))
                ours.append(await run_project(server, code, f"flood-{index}.ipynb"))
        finally:
            await server.stop_gracefully()
    ours_median = statistics.median(result["seconds"] for result in ours)
    bare_median = statistics.median(seconds for seconds, _ in bare)
    report = {
        "lines": lines,
        "repeat": repeat,
        "bare_client_median_s": round(bare_median, 3),
        "collab_exec_median_s": round(ours_median, 3),
        "ratio_to_bare_client": round(ours_median / bare_median, 3),
        "observer_updates_median": statistics.median(result["updates"] for result in ours),
        "observer_updates_per_second_median": round(
            statistics.median(result["updates_per_second"] for result in ours), 1
        ),
        "observer_busiest_second_max": max(result["busiest_second"] for result in ours),
        "complete": all(result["lines"] == lines for result in ours)
        and all(received == lines for _, received in bare),
    }
    print(json.dumps(report, indent=1))
    return 0 if report["complete"] else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    arguments = parser.parse_args()
    sys.exit(asyncio.run(main(arguments.lines, arguments.repeat)))
