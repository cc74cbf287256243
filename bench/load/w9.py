"""W9: load. One notebook with N collaborators (N = 1, 10, 25, 50, 100), and M notebooks at
once with 2 collaborators each (M = 1, 5, 10, 20), every scenario on a fresh server
(bench/load/scenario.py), and each again on the stock arrangement: jupyter-collaboration
alone, the cell run by a browser's writer (bench/load/stock_writer.py). Then one notebook
whose N = 10, 25, 50 collaborators also hold the kernel's websocket, as browsers do. It
prints the tables and says which targets hold.

    python -m bench.load.w9            # full counts, 10 s cells (about 9 minutes)
    python -m bench.load.w9 --quick    # N = 1, 10, 25 and M = 1, 5, 6 s cells
    python -m bench.run --only W9      # the same, through the harness
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.load.chart import load_chart
from bench.load.scenario import STOP_TIMEOUT, LoadResult, measure

COLLABORATORS = [1, 10, 25, 50, 100]
NOTEBOOKS = [1, 5, 10, 20]
# Collaborators that also hold the kernel's websocket, as browsers do.
BROWSERS = [10, 25, 50]
QUICK_COLLABORATORS = [1, 10, 25]
QUICK_NOTEBOOKS = [1, 5]
QUICK_BROWSERS = [10]
CELL_SECONDS = 10
QUICK_CELL_SECONDS = 6
# The targets of issue 20.
LAG_P99_MS = {50: 150.0, 100: 250.0}
LOOP_LAG_MS = 100.0
RSS_PER_IDLE_CLIENT_MIB = 1.0
REQUEST_RATIO = 2.0
# CPU per update and client may grow this much from N = 10 to the largest N and still be
# linear: the clients' own processes share the machine's cores with the server.
LINEAR_SLACK = 1.5
CHART = Path(__file__).resolve().parents[2] / "docs" / "load.png"


@dataclass
class ScenarioFailure:
    """A scenario that could not be measured, and why."""

    notebooks: int
    clients_per_notebook: int
    reason: str


Outcome = LoadResult | ScenarioFailure


@dataclass
class LoadReport:
    collaborators: list[Outcome] = field(default_factory=list)
    notebooks: list[Outcome] = field(default_factory=list)
    # The same scenarios on the stock arrangement, in the same order.
    stock_collaborators: list[Outcome] = field(default_factory=list)
    stock_notebooks: list[Outcome] = field(default_factory=list)
    # One notebook whose collaborators hold the kernel's websocket too.
    browsers: list[Outcome] = field(default_factory=list)
    seconds: int = CELL_SECONDS

    def tables(self) -> list[str]:
        lines = [
            f"**W9: one notebook, N collaborators** (a {self.seconds} s cell: a clock line "
            "every 100 ms, a progress bar and a slider moved 100 times a second, an `input()` "
            "halfway; each N on a fresh server; clients in processes of 25)",
            "",
            "| N | clock lag p50 | p99 | max | updates | server CPU | CPU per update "
            "and client | RSS before / joined / peak | idle RSS per client | loop lag max "
            "| converged | stock: lag p99, updates, server CPU, RSS peak | CPU over stock |",
            "|" + "---|" * 13,
        ]
        for r, stock in zip(self.collaborators, self.stock_collaborators, strict=True):
            if isinstance(r, ScenarioFailure):
                lines.append(f"| {r.clients_per_notebook} | failed: {r.reason} |")
                continue
            lines.append(
                f"| {r.clients} | {r.lag_p50_ms:.0f} ms | {r.lag_p99_ms:.0f} ms |"
                f" {r.lag_max_ms:.0f} ms | {r.updates} | {r.server_cpu_s:.1f} s |"
                f" {r.cpu_ms_per_update / r.clients:.3f} ms |"
                f" {r.rss_before_mib:.0f} / {r.rss_joined_mib:.0f} / {r.rss_peak_mib:.0f} MiB |"
                f" {idle_rss_per_client(r) * 1024:.0f} KiB | {r.loop_lag_max_ms:.0f} ms |"
                f" {r.converged}/{r.clients} | {stock_cells(stock, r)} |"
            )
        base = self._request_base()
        lines += [
            "",
            "**W9: M notebooks at once, 2 collaborators each** (the same cell in every "
            "notebook, each with its own kernel)",
            "",
            "| M | clock lag p50 | p99 | max | updates | server CPU | RSS peak | loop lag max "
            "| YStore appends locked out | request time, slowest | over M = 1 "
            "| kernel CPU, most | converged "
            "| stock: lag p99, updates, server CPU, RSS peak | CPU over stock |",
            "|" + "---|" * 15,
        ]
        for r, stock in zip(self.notebooks, self.stock_notebooks, strict=True):
            if isinstance(r, ScenarioFailure):
                lines.append(f"| {r.notebooks} | failed: {r.reason} |")
                continue
            slowest = max(r.request_s)
            lines.append(
                f"| {r.notebooks} | {r.lag_p50_ms:.0f} ms | {r.lag_p99_ms:.0f} ms |"
                f" {r.lag_max_ms:.0f} ms | {r.updates} | {r.server_cpu_s:.1f} s |"
                f" {r.rss_peak_mib:.0f} MiB | {r.loop_lag_max_ms:.0f} ms | {r.ystore_locked} |"
                f" {slowest:.1f} s |"
                f" {slowest / base:.2f}x | {max(r.kernel_cpu_s):.1f} s |"
                f" {r.converged}/{r.clients} | {stock_cells(stock, r)} |"
            )
        return lines + self._browser_table()

    def _browser_table(self) -> list[str]:
        room_only = {r.clients: r for r in measured(self.collaborators)}
        lines = [
            "",
            "**W9: one notebook, N browsers** (the same cell; each collaborator also holds the "
            "kernel's websocket with JupyterLab's protocol, to which jupyter_server forwards "
            "every IOPub message)",
            "",
            "| N | clock lag p50 | p99 | max | server CPU | over room clients only "
            "| RSS peak | loop lag max | kernel messages per browser | converged |",
            "|" + "---|" * 10,
        ]
        for r in self.browsers:
            if isinstance(r, ScenarioFailure):
                lines.append(f"| {r.clients_per_notebook} | failed: {r.reason} |")
                continue
            alone = room_only.get(r.clients)
            ratio = r.server_cpu_s / alone.server_cpu_s if alone else float("nan")
            lines.append(
                f"| {r.clients} | {r.lag_p50_ms:.0f} ms | {r.lag_p99_ms:.0f} ms |"
                f" {r.lag_max_ms:.0f} ms | {r.server_cpu_s:.1f} s | {ratio:.2f}x |"
                f" {r.rss_peak_mib:.0f} MiB | {r.loop_lag_max_ms:.0f} ms |"
                f" {r.kernel_messages} | {r.converged}/{r.clients} |"
            )
        return lines

    def _request_base(self) -> float:
        ones = [r for r in measured(self.notebooks) if r.notebooks == 1]
        return statistics.median(ones[0].request_s) if ones else float("nan")

    def missed(self) -> list[str]:
        missed = [
            f"W9 {r.notebooks}x{r.clients_per_notebook} failed: {r.reason}"
            for r in [*self.collaborators, *self.notebooks, *self.browsers]
            if isinstance(r, ScenarioFailure)
        ]
        collaborators = measured(self.collaborators)
        notebooks = measured(self.notebooks)
        for r in collaborators:
            target = LAG_P99_MS.get(r.clients)
            if target is not None and r.lag_p99_ms > target:
                missed.append(f"W9 N={r.clients}: lag p99 {r.lag_p99_ms:.0f} ms > {target:.0f}")
            if r.clients <= 100 and r.loop_lag_max_ms > LOOP_LAG_MS:
                missed.append(
                    f"W9 N={r.clients}: event loop lag {r.loop_lag_max_ms:.0f} ms > "
                    f"{LOOP_LAG_MS:.0f}"
                )
            if idle_rss_per_client(r) > RSS_PER_IDLE_CLIENT_MIB:
                missed.append(f"W9 N={r.clients}: {idle_rss_per_client(r):.2f} MiB per idle client")
        for r in [*collaborators, *notebooks, *measured(self.browsers)]:
            if not r.stopped:
                missed.append(
                    f"W9 {r.notebooks}x{r.clients_per_notebook}: the server did not stop "
                    f"within {STOP_TIMEOUT:.0f} s of SIGTERM"
                )
            if r.converged != r.clients:
                missed.append(
                    f"W9 {r.notebooks}x{r.clients_per_notebook}: "
                    f"{r.clients - r.converged} clients diverged"
                )
        base = self._request_base()
        for r in notebooks:
            if max(r.request_s) > REQUEST_RATIO * base:
                missed.append(
                    f"W9 M={r.notebooks}: slowest request {max(r.request_s) / base:.2f}x M=1"
                )
        per_client = {r.clients: r.cpu_ms_per_update / r.clients for r in collaborators}
        if 10 in per_client and len(per_client) > 2:
            largest = max(per_client)
            growth = per_client[largest] / per_client[10]
            if growth > LINEAR_SLACK:
                missed.append(
                    f"W9: CPU per update and client grew {growth:.2f}x from N=10 to N={largest}"
                )
        return missed

    def draw(self, path: Path = CHART) -> None:
        """The chart of docs/benchmarks.md, from the scenarios that were measured; a full
        `make bench` draws it with the tables it writes there."""
        load_chart(
            (measured(self.collaborators), measured(self.stock_collaborators)),
            (measured(self.notebooks), measured(self.stock_notebooks)),
            path,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "seconds": self.seconds,
            "collaborators": [asdict(r) for r in self.collaborators],
            "notebooks": [asdict(r) for r in self.notebooks],
            "browsers": [asdict(r) for r in self.browsers],
            "stock_collaborators": [asdict(r) for r in self.stock_collaborators],
            "stock_notebooks": [asdict(r) for r in self.stock_notebooks],
        }


def measured(outcomes: list[Outcome]) -> list[LoadResult]:
    return [outcome for outcome in outcomes if isinstance(outcome, LoadResult)]


def stock_cells(stock: Outcome, ours: LoadResult) -> str:
    """The stock arrangement's figures, and this project's server CPU over its."""
    if isinstance(stock, ScenarioFailure):
        return f"failed: {stock.reason} | n/a"
    ratio = ours.server_cpu_s / stock.server_cpu_s if stock.server_cpu_s else float("nan")
    return (
        f"{stock.lag_p99_ms:.0f} ms, {stock.updates}, {stock.server_cpu_s:.1f} s,"
        f" {stock.rss_peak_mib:.0f} MiB | {ratio:.2f}x"
    )


def idle_rss_per_client(result: LoadResult) -> float:
    """MiB the server's memory grew by per client joined, before anything ran."""
    return max(0.0, result.rss_joined_mib - result.rss_before_mib) / result.clients


async def measure_load(quick: bool = False) -> LoadReport:
    seconds = QUICK_CELL_SECONDS if quick else CELL_SECONDS
    report = LoadReport(seconds=seconds)
    # Each scenario of this project, then the same on the stock arrangement, back to back.
    for clients in QUICK_COLLABORATORS if quick else COLLABORATORS:
        report.collaborators.append(await scenario(1, clients, seconds))
        report.stock_collaborators.append(await scenario(1, clients, seconds, stock=True))
    for notebooks in QUICK_NOTEBOOKS if quick else NOTEBOOKS:
        report.notebooks.append(await scenario(notebooks, 2, seconds))
        report.stock_notebooks.append(await scenario(notebooks, 2, seconds, stock=True))
    for clients in QUICK_BROWSERS if quick else BROWSERS:
        report.browsers.append(await scenario(1, clients, seconds, kernel_websockets=True))
    return report


def root_cause(error: BaseException) -> BaseException:
    """The first error inside nested exception groups (each room client adds one)."""
    while getattr(error, "exceptions", None):
        error = error.exceptions[0]  # type: ignore[attr-defined]
    return error


async def scenario(
    notebooks: int,
    clients: int,
    seconds: int,
    *,
    stock: bool = False,
    kernel_websockets: bool = False,
) -> LoadResult | ScenarioFailure:
    arrangement = "stock" if stock else "this project"
    if kernel_websockets:
        arrangement += ", browsers"
    try:
        with tempfile.TemporaryDirectory(prefix="collab-exec-load-") as root:
            result = await measure(
                notebooks,
                clients,
                seconds,
                Path(root),
                stock=stock,
                kernel_websockets=kernel_websockets,
            )
    except Exception as error:
        cause = root_cause(error)
        failure = ScenarioFailure(notebooks, clients, f"{type(cause).__name__}: {cause}")
        print(f"W9 {arrangement}, {notebooks} x {clients} failed: {failure.reason}", flush=True)
        return failure
    print(
        f"W9 {arrangement}, {notebooks} notebook(s) x {clients} client(s): "
        f"{json.dumps(asdict(result))}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    report = asyncio.run(measure_load(parser.parse_args().quick))
    print("\n".join(report.tables()))
    missed = report.missed()
    print("\n".join(f"missed: {item}" for item in missed) or "every W9 target met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
