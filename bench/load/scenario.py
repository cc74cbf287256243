"""One W9 scenario: a real server with this extension, M notebooks each with its own real
kernel and N load clients (in processes of their own, bench/load/client.py), every notebook
running the same cell at once. The cell streams a clock line every 100 ms, moves a progress
bar (`\\r`) and a slider 100 times a second, and halfway asks an `input()`, answered over
REST for a client picked at random.

What it measures: the lag from the kernel's print of a clock line to each client holding
it; the server's CPU seconds, and its memory before the clients join, once they joined and
at its peak; the worst lag of its event loop (its own probe, read from `/metrics`); each
request's time and its kernel's CPU seconds; and whether every client ends with the
server's notebook.
"""

from __future__ import annotations

import asyncio
import random
import re
import statistics
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.load.client import notebook_digest
from bench.load.processes import ClientProcess, start_module
from bench.systems.base import cpu_seconds, current_rss, peak_rss
from bench.workloads import percentile
from jupyterlab_collab_exec.tests.clients import RoomClient, ServerProcess, write_notebook

# One process holds at most this many clients: their CPU is theirs, not the server's.
CLIENTS_PER_PROCESS = 25
FINAL = ("ok", "error", "cancelled", "interrupted")
PROMPT = "Name?"
# A server that has not exited this long after SIGTERM is reported as not stopping, and killed.
STOP_TIMEOUT = 10.0


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
    notebooks: int
    clients_per_notebook: int
    lines: int
    lag_p50_ms: float
    lag_p99_ms: float
    lag_max_ms: float
    updates: int
    server_cpu_s: float
    cpu_ms_per_update: float
    rss_before_mib: float
    rss_joined_mib: float
    rss_peak_mib: float
    loop_lag_max_ms: float
    converged: int
    request_s: list[float]
    kernel_cpu_s: list[float]
    # Whether the server stopped within STOP_TIMEOUT of SIGTERM.
    stopped: bool = True
    # Appends to the SQLite YStore that failed with "database is locked", from its log.
    ystore_locked: int = 0
    # Messages a client received on the kernel's websocket (median; 0 without one).
    kernel_messages: int = 0

    @property
    def clients(self) -> int:
        return self.notebooks * self.clients_per_notebook


async def loop_lag_max(server: ServerProcess) -> float:
    text = (await server.send("GET", "metrics")).text
    found = re.search(r"^collab_exec_event_loop_lag_max_seconds (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


@dataclass
class LoadedNotebook:
    """One notebook of the scenario: its room, kernel, observer and client processes."""

    name: str
    room: str
    session: str
    kernel: str
    observer: RoomClient
    processes: list[ClientProcess]
    request: str = ""
    seconds: float = 0.0
    writer: asyncio.subprocess.Process | None = None

    async def run(self, server: ServerProcess, clients: int) -> None:
        """Run the cell, answer its input for a client picked at random, wait for its end."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        [self.request] = await server.execute(self.room, self.kernel, ["cell-0"])
        observer = self.observer
        await observer.wait_until(lambda: observer.pending_input(PROMPT) is not None, 600)
        await server.request(
            "POST",
            "api/collab-exec/input",
            {
                "document_id": self.room,
                "input_id": observer.pending_input(PROMPT),
                "value": f"client {random.randrange(clients)}",
            },
        )
        await observer.wait_until(lambda: observer.request_status(self.request) in FINAL, 900)
        self.seconds = loop.time() - started

    async def run_stock(self, server: ServerProcess) -> None:
        """Run the cell as a browser of stock JupyterLab does (bench/load/stock_writer.py);
        its errors go to `<notebook>.writer.log` beside the server's log."""
        log = (server.root / f"{self.name}.writer.log").open("ab")
        options: dict[str, str | int] = {
            "kernel": self.kernel,
            "room": self.room,
            "session": self.session,
        }
        writer = await start_module("bench.load.stock_writer", server, options, stderr=log)
        log.close()
        self.writer = writer
        assert writer.stdout is not None
        done = (await asyncio.wait_for(writer.stdout.readline(), 900)).decode().split()
        if not done or done[0] != "done":
            await writer.wait()
            written = (server.root / f"{self.name}.writer.log").read_text()
            errors = [line.strip(" |") for line in written.splitlines() if "Error" in line]
            raise RuntimeError(
                f"The stock writer of {self.name} ended early: {errors[-1] if errors else '?'}"
            )
        self.seconds = float(done[1])

    async def release_writer(self) -> None:
        if self.writer is not None and self.writer.stdin is not None:
            self.writer.stdin.write(b"stop\n")
            await self.writer.stdin.drain()
            await self.writer.wait()

    async def converged(self, server: ServerProcess) -> int:
        """How many of its clients hold the server's notebook, once all do or 30 s passed."""
        # The server's notebook, as a client that joins now receives it.
        async with server.join(
            self.room, self.session, track_statuses=False, listen_only=True
        ) as fresh:
            expected = notebook_digest(fresh.notebook)
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            digests: list[str] = []
            for process in self.processes:
                digests.extend(str(digest) for digest in await process.command("digest"))
            matching = sum(digest == expected for digest in digests)
            if matching == len(digests) or asyncio.get_running_loop().time() > deadline:
                return matching
            await asyncio.sleep(0.5)


async def open_notebook(
    server: ServerProcess, root: Path, index: int, seconds: int
) -> tuple[str, str, str, str]:
    """A new notebook with the cell, its room and session, and a kernel started for it."""
    name = write_notebook(root, f"load-{index}.ipynb", [mixed_cell(seconds)])
    room, session = await server.session(name)
    kernel = await server.start_kernel()
    return name, room, session, kernel


def kernel_pids() -> dict[str, int]:
    """The process id of each local kernel, by kernel id, from the connection file in its
    command line."""
    found: dict[str, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        for part in command:
            match = re.search(rb"kernel-([0-9a-f-]{36})\.json", part)
            if match:
                found[match.group(1).decode()] = int(proc.name)
    return found


def stock_server(root: Path) -> ServerProcess:
    """The same server without this extension: jupyter-collaboration alone."""
    defaults = ServerProcess(root).arguments
    return ServerProcess(
        root,
        arguments=[*defaults, "--ServerApp.jpserver_extensions=jupyterlab_collab_exec=False"],
        ready_path="api/status",
    )


async def measure(
    notebooks: int,
    clients: int,
    seconds: int,
    root: Path,
    *,
    stock: bool = False,
    kernel_websockets: bool = False,
) -> LoadResult:
    """M notebooks with N clients each, all running the cell at once; with `stock`, on
    jupyter-collaboration alone, each cell run by a stock browser's writer; with
    `kernel_websockets`, each client also holds the kernel's websocket, as a browser does."""
    server = stock_server(root) if stock else ServerProcess(root)
    await server.start()
    assert server.process is not None
    pid = server.process.pid
    loaded: list[LoadedNotebook] = []
    results: list[dict[str, Any]] = []
    try:
        async with AsyncExitStack() as stack:
            # The notebooks' sessions and kernels start at once, as a class's would.
            opened = await asyncio.gather(
                *(open_notebook(server, root, index, seconds) for index in range(notebooks))
            )
            for name, room, session, kernel in opened:
                observer = await stack.enter_async_context(
                    server.join(room, session, listen_only=True)
                )
                loaded.append(LoadedNotebook(name, room, session, kernel, observer, []))
            rss_before = current_rss(pid)
            for notebook in loaded:
                for first in range(0, clients, CLIENTS_PER_PROCESS):
                    count = min(CLIENTS_PER_PROCESS, clients - first)
                    kernel = notebook.kernel if kernel_websockets else ""
                    notebook.processes.append(
                        await ClientProcess.start(
                            server, notebook.room, notebook.session, count, first, kernel
                        )
                    )
            for notebook in loaded:
                for process in notebook.processes:
                    assert await process.line() == "ready"
            rss_joined = current_rss(pid)
            kernels = kernel_pids()
            kernel_cpu_before = {k: cpu_seconds(p) for k, p in kernels.items()}
            cpu_before = cpu_seconds(pid)
            await asyncio.gather(
                *(
                    notebook.run_stock(server) if stock else notebook.run(server, clients)
                    for notebook in loaded
                )
            )
            cpu = cpu_seconds(pid) - cpu_before
            kernel_cpu = [
                cpu_seconds(kernels[n.kernel]) - kernel_cpu_before[n.kernel]
                if n.kernel in kernels
                else float("nan")
                for n in loaded
            ]
            # The probe is this extension's: the stock server has none.
            loop_lag = float("nan") if stock else await loop_lag_max(server)
        converged = sum([await notebook.converged(server) for notebook in loaded])
        for notebook in loaded:
            await notebook.release_writer()
        for notebook in loaded:
            results.extend([await process.stop() for process in notebook.processes])
    finally:
        for notebook in loaded:
            for process in notebook.processes:
                process.kill()
            if notebook.writer is not None and notebook.writer.returncode is None:
                notebook.writer.kill()
        rss_peak = peak_rss(pid)
        try:
            await server.stop_gracefully(STOP_TIMEOUT)
            stopped = True
        except AssertionError:
            # Killed: reported, not raised, so that the other figures stand.
            stopped = False
    log = (root / "server.log").read_text(errors="replace")
    every = [client for result in results for client in result["clients"]]
    lags = [lag for client in every for lag in client["lags_ms"]]
    updates = int(statistics.median(client["transactions"] for client in every))
    return LoadResult(
        notebooks=notebooks,
        clients_per_notebook=clients,
        lines=int(statistics.median(len(client["lags_ms"]) for client in every)),
        lag_p50_ms=percentile(lags, 50) if lags else float("nan"),
        lag_p99_ms=percentile(lags, 99) if lags else float("nan"),
        lag_max_ms=max(lags) if lags else float("nan"),
        updates=updates,
        server_cpu_s=cpu,
        cpu_ms_per_update=cpu * 1000 / max(1, updates * notebooks),
        rss_before_mib=rss_before / 2**20,
        rss_joined_mib=rss_joined / 2**20,
        rss_peak_mib=rss_peak / 2**20,
        loop_lag_max_ms=loop_lag * 1000,
        converged=converged,
        request_s=[notebook.seconds for notebook in loaded],
        kernel_cpu_s=kernel_cpu,
        stopped=stopped,
        ystore_locked=log.count("database is locked"),
        kernel_messages=int(statistics.median(client["kernel_messages"] for client in every)),
    )
