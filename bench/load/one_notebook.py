"""W9, one notebook and N collaborators: a real server with this extension and a real
kernel, N load clients in processes of their own (bench/load/client.py), and one cell that
at once streams a clock line every 100 ms, moves a progress bar (`\\r`) and a slider 100
times a second, and halfway asks an `input()`, answered over REST for a client picked at
random.

    python -m bench.load.one_notebook --clients 1,10,25,50 --seconds 20

For each N it prints what the clients saw (the lag from the kernel's print of a clock line
to each client holding it: p50, p99, max), the server's CPU seconds and memory (before the
clients join, once they joined, at its peak), the worst lag of its event loop (its own
probe, read from `/metrics`), and whether every client ends with the server's notebook.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.systems.base import cpu_seconds, peak_rss
from jupyterlab_collab_exec.tests.clients import (
    RoomClient,
    ServerProcess,
    write_notebook,
)

# One process holds at most this many clients: their CPU is theirs, not the server's.
CLIENTS_PER_PROCESS = 25
FINAL = ("ok", "error", "cancelled", "interrupted")
PROMPT = "Name?"


def mixed_cell(seconds: int) -> str:
    ticks = seconds * 10
    return "\n".join(
        [
            "import sys, time",
            "import ipywidgets as widgets",
            "from IPython.display import display",
            f"slider = widgets.IntSlider(max={ticks * 10})",
            "display(slider)",
            f"for tick in range({ticks}):",
            "    print(f't={time.time():.6f}', flush=True)",
            f"    if tick == {ticks // 2}:",
            f"        print('hello', input('{PROMPT}'))",
            "    for step in range(10):",
            "        sys.stderr.write(f'\\rprogress {tick * 10 + step}')",
            "        sys.stderr.flush()",
            "        slider.value = tick * 10 + step",
            "        time.sleep(0.01)",
        ]
    )


@dataclass
class LoadResult:
    clients: int
    lines: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    transactions: int
    server_cpu_s: float
    cpu_ms_per_update: float
    rss_before_mib: float
    rss_joined_mib: float
    rss_peak_mib: float
    loop_lag_max_ms: float
    converged: int
    run_s: float


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def current_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def loop_lag_max(server: ServerProcess) -> float:
    text = (await server.send("GET", "metrics")).text
    found = re.search(r"^collab_exec_event_loop_lag_max_seconds (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


class ClientProcess:
    """One process of load clients, driven over its standard input and output."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, server: ServerProcess, room: str, session: str, count: int, first: int
    ) -> ClientProcess:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.load.client",
            f"--url={server.url}",
            f"--token={server.token}",
            f"--room={room}",
            f"--session={session}",
            f"--clients={count}",
            f"--first={first}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 26,
        )
        return cls(process)

    async def line(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 300)
        if not line:
            raise RuntimeError("A load client process ended early.")
        return line.decode().strip()

    async def command(self, command: str) -> Any:
        assert self.process.stdin is not None
        self.process.stdin.write(f"{command}\n".encode())
        await self.process.stdin.drain()
        return json.loads(await self.line())

    async def stop(self) -> dict[str, Any]:
        result = await self.command("stop")
        await self.process.wait()
        return dict(result)

    def kill(self) -> None:
        if self.process.returncode is None:
            self.process.kill()


async def measure(clients: int, seconds: int, root: Path) -> LoadResult:
    server = ServerProcess(root)
    await server.start()
    assert server.process is not None
    pid = server.process.pid
    processes: list[ClientProcess] = []
    results: list[dict[str, Any]] = []
    try:
        write_notebook(root, "load.ipynb", [mixed_cell(seconds)])
        room, session = await server.session("load.ipynb")
        kernel = await server.start_kernel()
        async with server.join(room, session) as observer:
            rss_before = current_rss(pid)
            for first in range(0, clients, CLIENTS_PER_PROCESS):
                count = min(CLIENTS_PER_PROCESS, clients - first)
                processes.append(await ClientProcess.start(server, room, session, count, first))
            for process in processes:
                assert await process.line() == "ready"
            rss_joined = current_rss(pid)
            cpu_before = cpu_seconds(pid)
            started = asyncio.get_running_loop().time()
            [request] = await server.execute(room, kernel, ["cell-0"])
            await observer.wait_until(lambda: observer.pending_input(PROMPT) is not None, 300)
            input_id = observer.pending_input(PROMPT)
            answerer = random.randrange(clients)
            await server.request(
                "POST",
                "api/collab-exec/input",
                {"document_id": room, "input_id": input_id, "value": f"client {answerer}"},
            )
            await observer.wait_until(lambda: observer.request_status(request) in FINAL, 600)
            run_s = asyncio.get_running_loop().time() - started
            cpu = cpu_seconds(pid) - cpu_before
            loop_lag = await loop_lag_max(server)
        # The server's notebook, as a client that joins now receives it.
        async with server.join(room, session, track_statuses=False) as fresh:
            expected = digest_of(fresh)
        converged = await wait_converged(processes, expected)
        results = [await process.stop() for process in processes]
    finally:
        for process in processes:
            process.kill()
        rss_peak = peak_rss(pid)
        await server.stop_gracefully()
    every = [client for result in results for client in result["clients"]]
    lags = [lag for client in every for lag in client["lags_ms"]]
    transactions = int(statistics.median(client["transactions"] for client in every))
    return LoadResult(
        clients=clients,
        lines=int(statistics.median(len(client["lags_ms"]) for client in every)),
        lag_p50_ms=percentile(lags, 0.5),
        lag_p99_ms=percentile(lags, 0.99),
        lag_max_ms=max(lags) if lags else float("nan"),
        transactions=transactions,
        server_cpu_s=cpu,
        cpu_ms_per_update=cpu * 1000 / max(1, transactions),
        rss_before_mib=rss_before / 2**20,
        rss_joined_mib=rss_joined / 2**20,
        rss_peak_mib=rss_peak / 2**20,
        loop_lag_max_ms=loop_lag * 1000,
        converged=converged,
        run_s=run_s,
    )


def digest_of(client: RoomClient) -> str:
    content = json.dumps(client.notebook.get(), sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


async def wait_converged(processes: list[ClientProcess], expected: str) -> int:
    """How many clients hold the server's notebook, once all do or 30 s passed."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        digests: list[str] = []
        for process in processes:
            digests.extend(str(digest) for digest in await process.command("digest"))
        matching = sum(digest == expected for digest in digests)
        if matching == len(digests) or asyncio.get_running_loop().time() > deadline:
            return matching
        await asyncio.sleep(0.5)


def table(results: list[LoadResult]) -> str:
    header = (
        "| N | clock lines | lag p50 | lag p99 | lag max | updates | server CPU | CPU/update |"
        " RSS before / joined / peak | loop lag max | converged |"
    )
    rule = "|" + "---|" * 11
    rows = [
        f"| {r.clients} | {r.lines} | {r.lag_p50_ms:.0f} ms | {r.lag_p99_ms:.0f} ms |"
        f" {r.lag_max_ms:.0f} ms | {r.transactions} | {r.server_cpu_s:.1f} s |"
        f" {r.cpu_ms_per_update:.2f} ms | {r.rss_before_mib:.0f} / {r.rss_joined_mib:.0f} /"
        f" {r.rss_peak_mib:.0f} MiB | {r.loop_lag_max_ms:.0f} ms |"
        f" {r.converged}/{r.clients} |"
        for r in results
    ]
    return "\n".join([header, rule, *rows])


async def main_async(counts: list[int], seconds: int) -> list[LoadResult]:
    results = []
    for clients in counts:
        with tempfile.TemporaryDirectory(prefix="collab-exec-load-") as root:
            result = await measure(clients, seconds, Path(root))
        print(json.dumps(asdict(result)), flush=True)
        results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,10,25,50")
    parser.add_argument("--seconds", type=int, default=20)
    arguments = parser.parse_args()
    counts = [int(count) for count in arguments.clients.split(",")]
    results = asyncio.run(main_async(counts, arguments.seconds))
    print(table(results))


if __name__ == "__main__":
    main()
