"""A run-all of 200 trivial cells on this project's server, with and without a live Output
widget that no cell enters: what the hold of the next request costs (only a request that
entered an Output widget waits for its idle; Execution.holds_next).

    python -m bench.output_widgets --repeat 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from bench.systems.base import Workload
from bench.systems.collab_exec import CollabExecSystem

CELLS = 200


def run_all(with_output: bool) -> Workload:
    first = "from ipywidgets import Output\nout = Output()" if with_output else "pass"
    expected: list[list[dict[str, object]]] = [[]]
    expected += [
        [{"output_type": "stream", "name": "stdout", "text": f"{i}\n"}] for i in range(CELLS)
    ]
    return Workload(
        key="W4+Output" if with_output else "W4",
        title="run-all",
        cells=[first] + [f"print({i})" for i in range(CELLS)],
        expected=expected,
    )


async def measure(repeat: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"without": [], "with": []}
    for _ in range(repeat):
        # Interleaved, each from a fresh server.
        for name, with_output in (("without", False), ("with", True)):
            with tempfile.TemporaryDirectory(prefix="bench-output-") as scratch:
                result = await CollabExecSystem().run(run_all(with_output), Path(scratch))
            if not result.correct or result.seconds is None:
                raise RuntimeError(f"{name}: {result.error}")
            times[name].append(result.seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    times = asyncio.run(measure(parser.parse_args().repeat))
    without, with_output = (statistics.median(times[key]) for key in ("without", "with"))
    print(f"run-all of {CELLS} cells: {without:.3f} s without an Output widget")
    print(f"with a live Output widget that no cell enters: {with_output:.3f} s")
    print(f"ratio: {with_output / without:.2f}")


if __name__ == "__main__":
    main()
