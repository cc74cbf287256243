"""The benchmark harness: every system on every workload, in one run.

    python -m bench.run                  # full: 5 repetitions, every system; updates the docs
    python -m bench.run --quick          # reduced workloads, this project and its references
    python -m bench.run --baseline HEAD~3 --only W1,W2,W3,W7 --no-peers
                                         # also this project's server at an earlier commit

W8 (what long widget sessions leave in a room's history, and reopening it) runs once per
invocation, after the others, unless --only leaves it out (bench/history.py). So does W9
(load: one notebook with N collaborators, M notebooks at once; bench/load/w9.py), reduced
with --quick.

W1 and W4 also run with the kernel behind a Jupyter Kernel Gateway, against a bare client of
the same gateway: those rows' ratios are to that reference, and they have no targets.

With `--baseline <git ref>` the same server runs a second time with the package from that
commit (bench/systems/baseline.py), on the same workloads and interleaved with this project's
runs, and a second table gives this project's medians over the baseline's. The baseline has no
targets.

It prints the table of medians, writes bench/results/<when>.json and the chart, and exits
non-zero when one of this project's targets is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.history import measure_history
from bench.history import table as history_table
from bench.load.w9 import measure_load
from bench.systems.bare_client import LIMIT_NAME, ONE_AT_A_TIME_NAME, BareClientSystem
from bench.systems.base import System, WorkloadResult
from bench.systems.baseline import Checkout, checkout, is_baseline
from bench.systems.collab_exec import OURS_VIA_GATEWAY_NAME, CollabExecSystem
from bench.systems.gateway import (
    GATEWAY_LIMIT_NAME,
    GATEWAY_ONE_AT_A_TIME_NAME,
    BareGatewayClientSystem,
)
from bench.workloads import workloads

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs" / "benchmarks.md"
CHART = ROOT / "docs" / "benchmarks.png"
MARK_START = "<!-- results:start -->"
MARK_END = "<!-- results:end -->"

OURS = "jupyterlab-collab-exec"
LIMIT = LIMIT_NAME
ONE_AT_A_TIME = ONE_AT_A_TIME_NAME
ALONE = "jupyter-collaboration alone"
OURS_VIA_GATEWAY = OURS_VIA_GATEWAY_NAME
GATEWAY_LIMIT = GATEWAY_LIMIT_NAME
GATEWAY_ONE_AT_A_TIME = GATEWAY_ONE_AT_A_TIME_NAME

# The same server with the run history's recording off (--history-overhead).
HISTORY_OFF = "jupyterlab-collab-exec, history off"
HISTORY_TARGET = 1.03

OWN = (
    OURS,
    LIMIT,
    ONE_AT_A_TIME,
    ALONE,
    OURS_VIA_GATEWAY,
    GATEWAY_LIMIT,
    GATEWAY_ONE_AT_A_TIME,
    HISTORY_OFF,
)
VIA_GATEWAY = (OURS_VIA_GATEWAY, GATEWAY_LIMIT, GATEWAY_ONE_AT_A_TIME)
LIMITS = (LIMIT, GATEWAY_LIMIT)
# This project's rows, each with the one-at-a-time floor of the same kernel transport.
FLOORS = {
    OURS: ONE_AT_A_TIME,
    OURS_VIA_GATEWAY: GATEWAY_ONE_AT_A_TIME,
    HISTORY_OFF: ONE_AT_A_TIME,
}
# Over 20 times the slowest limit of a workload: a peer still running then has failed it.
RUN_TIMEOUT = 180.0

RATIO_TARGETS = {"W1": 1.25, "W4": 1.25}
RECONNECT_TARGET = 1.1
UPDATES_PER_SECOND_TARGET = 25.0
INPUT_MEDIAN_TARGET_MS = 15.0
GROWTH_SLACK_BYTES = 64 * 1024
# W7: the kernel's own time with the mirror against a browser-style client without it, the
# doc updates per second per widget, and how much the doc may grow for 15,000 updates.
WIDGET_KERNEL_TARGET = 1.1
WIDGET_GROWTH_TARGET_BYTES = 64 * 1024


def reference_of(system: str, workload: str) -> str:
    """The system whose median a row's ratio is taken against."""
    if workload == "W6":
        return ALONE
    # A gateway adds its own hops: rows through one are compared with the bare client
    # through the same kind of gateway.
    return GATEWAY_LIMIT if system in VIA_GATEWAY else LIMIT


def is_own(system: str) -> bool:
    """This project's rows, its references and its baseline: rerun even after a failure."""
    return system in OWN or is_baseline(system)


def floor_of(system: str) -> str:
    """The one-at-a-time floor of a row of this project (or of its baseline), else ""."""
    return FLOORS.get(system, ONE_AT_A_TIME if is_baseline(system) else "")


def peer_systems() -> list[System]:
    from bench.systems.documents import DocumentsSystem
    from bench.systems.nbmodel import NbmodelSystem

    return [NbmodelSystem(), DocumentsSystem()]


@dataclass
class Summary:
    """The medians of one system on one workload."""

    system: str
    workload: str
    runs: list[WorkloadResult]

    @property
    def ok_runs(self) -> list[WorkloadResult]:
        return [run for run in self.runs if run.seconds is not None and run.correct]

    @property
    def completed(self) -> bool:
        return bool(self.runs) and len(self.ok_runs) == len(self.runs)

    def median(self, attribute: str) -> float | None:
        values = [getattr(run, attribute) for run in self.ok_runs]
        return statistics.median(values) if values else None

    def median_extra(self, key: str) -> float | None:
        values = [run.extra[key] for run in self.ok_runs if key in run.extra]
        return statistics.median(values) if values else None

    @property
    def error(self) -> str | None:
        errors = [run.error for run in self.runs if run.error]
        return errors[0] if errors else (None if self.completed else "incorrect outputs")


async def measure(
    systems: list[System], scale: float, repeat: int, only: set[str]
) -> dict[tuple[str, str], Summary]:
    summaries: dict[tuple[str, str], Summary] = {}
    cases = {key: case for key, case in workloads(scale).items() if not only or key in only}
    for round_ in range(repeat):
        for key, workload in cases.items():
            for system in systems:
                if not system.applies_to(workload):
                    continue
                why_not = system.available()
                summary = summaries.setdefault((system.name, key), Summary(system.name, key, []))
                if why_not is not None:
                    summary.runs.append(
                        WorkloadResult(system=system.name, workload=key, error=why_not)
                    )
                    continue
                if summary.runs and not summary.runs[-1].correct and not is_own(system.name):
                    # A peer that failed a workload once is not run on it again.
                    continue
                with tempfile.TemporaryDirectory(prefix="bench-") as directory:
                    started = time.perf_counter()
                    try:
                        result = await asyncio.wait_for(
                            system.run(workload, Path(directory)), RUN_TIMEOUT
                        )
                    except asyncio.TimeoutError:
                        result = WorkloadResult(
                            system=system.name,
                            workload=key,
                            error=f"did not finish within {RUN_TIMEOUT:.0f} s",
                        )
                summary.runs.append(result)
                seconds = f"{result.seconds:.3f}s" if result.seconds is not None else "-"
                verdict = "ok" if result.correct else f"FAILED ({result.error})"
                print(
                    f"[{round_ + 1}/{repeat}] {key} {system.name}: {seconds} {verdict}"
                    f" ({time.perf_counter() - started:.1f}s in all)",
                    flush=True,
                )
    return summaries


def check_targets(
    summaries: dict[tuple[str, str], Summary], peers: list[str], quick: bool, scale: float
) -> list[str]:
    """The targets this project misses, in words."""
    missed = []

    def ours(key: str) -> Summary | None:
        return summaries.get((OURS, key))

    for (system, workload), summary in summaries.items():
        if system == OURS and not summary.completed:
            missed.append(f"{workload}: not completed correctly ({summary.error})")
    for key, target in RATIO_TARGETS.items():
        mine, limit = ours(key), summaries.get((LIMIT, key))
        if mine and limit and mine.median("seconds") and limit.median("seconds"):
            ratio = mine.median("seconds") / limit.median("seconds")  # type: ignore[operator]
            if ratio > target and not quick:
                missed.append(f"{key}: {ratio:.2f}x the limit, target {target}x")
    for key in ("W1", "W2", "W3"):
        mine = ours(key)
        busiest = mine.median_extra("busiest_second_updates") if mine else None
        if busiest is not None and busiest > UPDATES_PER_SECOND_TARGET:
            missed.append(f"{key}: {busiest:.0f} observer updates in one second, target 25")
    mine = ours("W2")
    if mine and mine.median("doc_bytes") is not None:
        expected = workloads(scale)["W2"].expected
        visible = len(expected[0][0]["text"]) if expected else 0
        bound = 2 * visible + GROWTH_SLACK_BYTES
        if mine.median("doc_bytes") > bound:  # type: ignore[operator]
            missed.append(f"W2: the doc grew to {mine.median('doc_bytes'):.0f} B, target {bound} B")
    missed.extend(widget_targets(ours("W7"), summaries.get((LIMIT, "W7")), quick))
    mine = ours("W5")
    latency = mine.median_extra("input_latency_median_ms") if mine else None
    if latency is not None and latency > INPUT_MEDIAN_TARGET_MS:
        missed.append(f"W5: {latency:.1f} ms median, target {INPUT_MEDIAN_TARGET_MS} ms")
    mine, alone = ours("W6"), summaries.get((ALONE, "W6"))
    if mine and alone and mine.median("seconds") and alone.median("seconds"):
        ratio = mine.median("seconds") / alone.median("seconds")  # type: ignore[operator]
        if ratio > RECONNECT_TARGET and not quick:
            missed.append(f"W6: {ratio:.2f}x a room without the extension, target 1.1x")
    for peer in peers:
        for (system, workload), summary in summaries.items():
            if system != peer or not summary.completed:
                continue
            mine = ours(workload)
            if mine is None or not mine.completed:
                continue
            if mine.median("seconds") >= summary.median("seconds"):  # type: ignore[operator]
                missed.append(
                    f"{workload}: {mine.median('seconds'):.3f}s, not ahead of {peer} "
                    f"({summary.median('seconds'):.3f}s)"
                )
    return missed


def widget_targets(mine: Summary | None, limit: Summary | None, quick: bool) -> list[str]:
    if mine is None or not mine.completed:
        return []
    missed = []
    kernel, reference = mine.median_extra("kernel_seconds"), None
    if limit is not None:
        reference = limit.median_extra("kernel_seconds")
    if kernel and reference and kernel / reference > WIDGET_KERNEL_TARGET and not quick:
        missed.append(f"W7: kernel time {kernel / reference:.2f}x without the mirror, target 1.1x")
    rate = mine.median_extra("widget_updates_per_second_per_widget")
    if rate is not None and rate > UPDATES_PER_SECOND_TARGET:
        missed.append(f"W7: {rate:.1f} doc updates per second per widget, target 25")
    growth = mine.median_extra("doc_growth_bytes")
    if growth is not None and growth > WIDGET_GROWTH_TARGET_BYTES:
        missed.append(f"W7: the doc grew by {growth:.0f} B, target {WIDGET_GROWTH_TARGET_BYTES} B")
    return missed


def widget_note(summary: Summary, limit: Summary | None) -> str:
    kernel = summary.median_extra("kernel_seconds")
    if kernel is None:
        return ""
    note = f"kernel {kernel:.3f} s"
    reference = limit.median_extra("kernel_seconds") if limit is not None else None
    if reference and summary.system != LIMIT:
        note += f" ({kernel / reference:.2f}x)"
    rate = summary.median_extra("widget_updates_per_second_per_widget")
    if rate is not None:
        note += f", {rate:.1f} updates/s per widget"
    growth = summary.median_extra("doc_growth_bytes")
    if growth is not None:
        note += f", doc +{_bytes(growth)}"
    read_back = sum(1 for run in summary.runs if run.extra.get("widget_values_read_back"))
    if read_back:
        note += (
            f", the kernel dropped updates in {read_back} of {len(summary.runs)} runs:"
            " final values read back with request_state"
        )
    return note


def table(summaries: dict[tuple[str, str], Summary], repeat: int) -> str:
    lines = [
        "| Workload | System | Median time | x reference | Updates | Bytes received | Doc size "
        "| Peak RSS | Correct | Note |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for (system, key), summary in sorted(summaries.items(), key=lambda item: item[0][1]):
        seconds = summary.median("seconds")
        reference = summaries.get((reference_of(system, key), key))
        base = reference.median("seconds") if reference else None
        ratio = f"{seconds / base:.2f}" if seconds and base and system not in LIMITS else ""
        note = ""
        busiest = summary.median_extra("busiest_second_updates")
        if busiest is not None and key in ("W1", "W2", "W3"):
            note = f"busiest second: {busiest:.0f} updates"
        if key == "W5" and summary.median_extra("input_latency_median_ms") is not None:
            note = f"median {summary.median_extra('input_latency_median_ms'):.1f} ms"
            p95 = summary.median_extra("input_latency_p95_ms")
            note += f", p95 {p95:.1f} ms" if p95 is not None else ""
        if key == "W7":
            note = widget_note(summary, summaries.get((LIMIT, key)))
        one_at_a_time = summaries.get((floor_of(system), key))
        floor = one_at_a_time.median("seconds") if one_at_a_time else None
        if seconds and floor:
            note = f"{seconds / floor:.2f}x one at a time"
        if not summary.completed and summary.error:
            note = summary.error.replace("|", "/")[:120]
        lines.append(
            "| "
            + " | ".join(
                [
                    key,
                    system,
                    f"{seconds:.3f} s" if seconds is not None else "—",
                    ratio,
                    _number(summary.median("observer_updates")),
                    _bytes(summary.median("observer_bytes")),
                    _bytes(summary.median("doc_bytes")),
                    _bytes(summary.median("peak_rss_bytes")),
                    "yes" if summary.completed else "no",
                    note,
                ]
            )
            + " |"
        )
    return "\n".join(lines)


# What the baseline table compares, beyond the median time: (workload, measure, extra key, unit).
BASELINE_EXTRAS = (
    ("W5", "input latency", "input_latency_median_ms", "ms"),
    ("W7", "kernel time", "kernel_seconds", "s"),
    ("W7", "doc growth", "doc_growth_bytes", "bytes"),
)


def baseline_table(summaries: dict[tuple[str, str], Summary], baseline: str, short: str) -> str:
    """This project's medians over the baseline's, for each workload that both ran."""
    return comparison_table(
        summaries,
        baseline,
        f"Against the baseline ({short}): this project's median over the baseline's, "
        "measured in the same run (below 1.00 is better).",
        f"Baseline ({short})",
    )


def comparison_table(
    summaries: dict[tuple[str, str], Summary], other: str, title: str, column: str
) -> str:
    """This project's medians over another row's, for each workload that both ran."""
    lines = [
        title,
        "",
        f"| Workload | Measure | This project | {column} | This project / {column} |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    keys = sorted({key for system, key in summaries if system == OURS})
    for key in keys:
        mine, theirs = summaries.get((OURS, key)), summaries.get((other, key))
        if mine is None or theirs is None:
            continue
        rows: list[tuple[str, float | None, float | None, str]] = [
            ("median time", mine.median("seconds"), theirs.median("seconds"), "s")
        ]
        for workload, measure, extra, unit in BASELINE_EXTRAS:
            if workload == key:
                rows.append((measure, mine.median_extra(extra), theirs.median_extra(extra), unit))
        for measure, ours, base, unit in rows:
            ratio = f"{ours / base:.2f}" if ours is not None and base else ""
            lines.append(
                f"| {key} | {measure} | {_measured(mine, ours, unit)} "
                f"| {_measured(theirs, base, unit)} | {ratio} |"
            )
    return "\n".join(lines)


def _measured(summary: Summary, value: float | None, unit: str) -> str:
    """A median as the baseline table shows it, with how many runs were correct if not all."""
    if value is None:
        text = "—"
    elif unit == "bytes":
        text = _bytes(value) or "0 B"
    elif unit == "ms":
        text = f"{value:.1f} ms"
    else:
        text = f"{value:.3f} s"
    if not summary.completed:
        text += f" ({len(summary.ok_runs)}/{len(summary.runs)} correct)"
    return text


def _number(value: float | None) -> str:
    return f"{value:,.0f}" if value else ""


def _bytes(value: float | None) -> str:
    if not value:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return ""


def chart(summaries: dict[tuple[str, str], Summary], path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        print("No chart: matplotlib is not installed (pip install -e '.[bench]').")
        return

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({key for _, key in summaries})
    systems = [
        s for s in dict.fromkeys(system for system, _ in summaries) if s not in (*LIMITS, ALONE)
    ]
    figure, axes = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(systems))
    for offset, system in enumerate(systems):
        ratios = []
        for key in keys:
            summary = summaries.get((system, key))
            reference = summaries.get((reference_of(system, key), key))
            mine = summary.median("seconds") if summary and summary.completed else None
            base = reference.median("seconds") if reference else None
            ratios.append(mine / base if mine and base else 0.0)
        positions = [index + offset * width for index in range(len(keys))]
        axes.bar(positions, ratios, width, label=system)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xticks([index + width * (len(systems) - 1) / 2 for index in range(len(keys))], keys)
    axes.set_yscale("log")
    axes.set_ylabel("median time / reference (log)")
    axes.set_title("Time until an observer holds the final state (lower is better; 0 = failed)")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def machine() -> str:
    cpus = len(os.sched_getaffinity(0))
    python = platform.python_version()
    return f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {python}"


def update_docs(text: str) -> None:
    page = DOCS.read_text()
    if MARK_START in page and MARK_END in page:
        before, rest = page.split(MARK_START, 1)
        _, after = rest.split(MARK_END, 1)
        DOCS.write_text(f"{before}{MARK_START}\n{text}\n{MARK_END}{after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced workloads, one run")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--only", default="", help="comma-separated workloads, e.g. W1,W4")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument(
        "--history-overhead",
        action="store_true",
        help="also run W1 and W4 with the run history's recording off, and compare",
    )
    parser.add_argument(
        "--baseline",
        metavar="REF",
        help="also run this project's server at this git commit (e.g. HEAD~3) and compare",
    )
    arguments = parser.parse_args()
    if arguments.baseline is None:
        return run_bench(arguments, None)
    try:
        with checkout(arguments.baseline) as baseline:
            print(
                f"baseline: {baseline.name} ({baseline.commit}) imports "
                f"jupyterlab_collab_exec from {baseline.module_file}",
                flush=True,
            )
            return run_bench(arguments, baseline)
    except (ValueError, RuntimeError) as error:
        print(f"--baseline {arguments.baseline}: {error}", file=sys.stderr)
        return 2


def run_bench(arguments: argparse.Namespace, baseline: Checkout | None) -> int:
    quick = arguments.quick
    repeat = arguments.repeat or (1 if quick else 5)
    scale = 0.1 if quick else 1.0
    systems: list[System] = [
        BareClientSystem(),
        BareClientSystem(one_at_a_time=True),
        CollabExecSystem(),
        CollabExecSystem(extension=False),
    ]
    if baseline is not None:
        # Right after this project's row, so that each round runs the two back to back.
        systems.insert(3, CollabExecSystem(python=baseline.python, name=baseline.name))
    if arguments.history_overhead:
        systems.insert(
            3,
            CollabExecSystem(
                name=HISTORY_OFF,
                server_arguments=["--CollabExecApp.history_enabled=False"],
                only=frozenset({"W1", "W4"}),
            ),
        )
    peers: list[str] = []
    if not quick and not arguments.no_peers:
        extra = peer_systems()
        systems.extend(extra)
        peers = [system.name for system in extra]
    systems.extend(
        [
            BareGatewayClientSystem(),
            BareGatewayClientSystem(one_at_a_time=True),
            CollabExecSystem(gateway=True),
        ]
    )
    only = {key for key in arguments.only.split(",") if key}
    started = time.perf_counter()
    rest = only - {"W8", "W9"}
    summaries = {} if only and not rest else asyncio.run(measure(systems, scale, repeat, rest))
    # W8 (room history) measures the YStore and a restart, not an observer: bench/history.py.
    history = asyncio.run(measure_history()) if not quick and (not only or "W8" in only) else None
    # W9 (load) runs servers of its own, with clients in processes of their own.
    load = asyncio.run(measure_load(quick)) if not only or "W9" in only else None
    elapsed = time.perf_counter() - started
    command = "make bench-quick" if quick else "make bench"
    if baseline is not None:
        command = shlex.join(["python", "-m", "bench.run", *sys.argv[1:]])
    report = (
        f"Command: `{command}` · machine: {machine()} · {repeat} repetition(s), medians · "
        f"{time.strftime('%Y-%m-%d')} · {elapsed / 60:.1f} min\n\n{table(summaries, repeat)}"
    )
    if history is not None:
        report += "\n\n" + "\n".join(history_table(history))
    if load is not None:
        report += "\n\n" + "\n".join(load.tables())
    if baseline is not None:
        report += f"\n\n{baseline_table(summaries, baseline.name, baseline.short)}"
    if arguments.history_overhead:
        report += "\n\n" + comparison_table(
            summaries,
            HISTORY_OFF,
            "Recording the run history: this project's median over the same server with "
            f"`history_enabled = False`, in the same run (target: at most {HISTORY_TARGET:.2f}).",
            "History off",
        )
    print()
    print(report)
    missed = check_targets(summaries, peers, quick, scale)
    if history is not None:
        missed.extend(history.missed())
    if load is not None:
        missed.extend(load.missed())
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    written: dict[str, object] = {
        "command": command,
        "machine": machine(),
        "repeat": repeat,
        "scale": scale,
        "runs": [run.to_json() for s in summaries.values() for run in s.runs],
        "history": history.to_json() if history is not None else None,
        "load": load.to_json() if load is not None else None,
        "missed": missed,
    }
    if baseline is not None:
        written["baseline"] = {"ref": baseline.ref, "commit": baseline.commit}
    (RESULTS / f"{stamp}{'-quick' if quick else ''}.json").write_text(json.dumps(written, indent=1))
    # Only a complete run stands for the docs: one of some workloads would replace them all.
    if not quick and not only:
        chart(summaries, CHART)
        if load is not None:
            load.draw()
        targets = "\n".join(f"- missed: {item}" for item in missed) or "- every target met"
        update_docs(f"{report}\n\nTargets:\n\n{targets}\n\n![chart](benchmarks.png)")
    print()
    print("\n".join(f"missed: {item}" for item in missed) or "every target met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
