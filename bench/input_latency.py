"""Input latency: from the moment an answer is submitted to the moment the kernel has it,
measured on the kernel side, over N answers.

A room client watches the notebook; as soon as a prompt is pending it posts
`/api/collab-exec/input` with the wall-clock time as the value. The kernel, on the same
machine and clock, subtracts it from the time `input()` returns.

    python bench/input_latency.py --answers 200
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

import nbformat

from bench.systems.collab_exec import pending_input
from jupyterlab_collab_exec.tests.clients import ServerProcess


def asking_code(answers: int) -> str:
    return (
        "import json, time\n"
        "latencies = []\n"
        f"for i in range({answers}):\n"
        "    sent = float(input(f'q{i}'))\n"
        "    latencies.append(time.time() - sent)\n"
        "print(json.dumps(latencies))"
    )


async def measure(answers: int) -> list[float]:
    with tempfile.TemporaryDirectory() as directory:
        server = ServerProcess(Path(directory))
        await server.start()
        try:
            notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
            notebook.cells = [
                nbformat.v4.new_code_cell(asking_code(answers), id="ask")  # type: ignore[no-untyped-call]
            ]
            (server.root / "latency.ipynb").write_text(
                nbformat.writes(notebook),  # type: ignore[no-untyped-call]
                "utf-8",
            )
            room_id, session_id = await server.session("latency.ipynb")
            kernel = await server.request("POST", "api/kernels", {})
            async with server.join(room_id, session_id) as client:
                accepted = await server.request(
                    "POST",
                    "api/collab-exec/execute",
                    {
                        "document_id": room_id,
                        "kernel_id": kernel["id"],
                        "cells": [{"cell_id": "ask"}],
                    },
                )
                request_id = accepted["requests"][0]["request_id"]
                for index in range(answers):
                    input_id = await pending_input(client, f"q{index}")
                    await server.request(
                        "POST",
                        "api/collab-exec/input",
                        {"document_id": room_id, "input_id": input_id, "value": repr(time.time())},
                    )
                await client.wait_until(
                    lambda: client.requests().get(request_id, {}).get("status") == "ok"
                )
                printed = client.cell("ask")["outputs"][-1]["text"]
                return [float(seconds) for seconds in json.loads(printed)]
        finally:
            await server.stop_gracefully()


def main(answers: int) -> int:
    latencies = sorted(seconds * 1000 for seconds in asyncio.run(measure(answers)))
    report = {
        "answers": len(latencies),
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[max(0, int(len(latencies) * 0.95) - 1)], 2),
        "max_ms": round(latencies[-1], 2),
    }
    print(json.dumps(report, indent=1))
    return 0 if len(latencies) == answers else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=200)
    sys.exit(main(parser.parse_args().answers))
