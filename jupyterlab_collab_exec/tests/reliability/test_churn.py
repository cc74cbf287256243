"""Churn and faults under load: while the W9 cell runs, clients join and leave at random,
one departure in ten drops its websocket without a close frame, and some come back with a
stale state vector. Nothing is lost or doubled, nothing sticks, every client that stays
holds the server's doc, and the server lets go of every dropped connection.

The scenario lives with the load harness (bench/load/churn.py), whose client processes it
drives; this test picks the counts and checks what it reports."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path

from bench.load.churn import ChurnLoad, run_churn

from .tally import SOAK, Tally, count

# Bounded: one notebook of 8 clients, 5 of them coming and going every few seconds, for a
# 12 s cell. Soak: 50 clients in one notebook and 10 in each of two more, 40 % of them coming
# and going, for 90 s cells, twice (each time on a fresh server).
BOUNDED = ChurnLoad(seconds=12, crowds=(8,), churning=0.6, seed=0, stay=(2, 6), away=(1, 4))
SOAK_LOAD = ChurnLoad(
    seconds=90, crowds=(50, 10, 10), churning=0.4, seed=0, stay=(5, 20), away=(2, 10)
)


async def test_churn_under_load_loses_nothing(tally: Tally, tmp_path: Path) -> None:
    failures = []
    for run in range(count(1, 2)):
        root = tmp_path / f"run-{run}"
        root.mkdir()
        load = replace(SOAK_LOAD if SOAK else BOUNDED, seed=run)
        result = await run_churn(load, root)
        churned = {name: problems for name, problems in result.problems.items() if name != "calm"}
        tally.add("churn-runs", len(churned), sum(not problems for problems in churned.values()))
        tally.add("churn-drops", result.dropped, result.released)
        tally.add("churn-stale", result.stale, result.stale_converged)
        figures = {key: value for key, value in asdict(result).items() if key != "problems"}
        figures.update(crowds=list(load.crowds), cell_seconds=load.seconds)
        tally.measure("churn-runs", figures)
        print(f"churn run {run}: {figures}")
        failures += [
            f"run {run}, {name}: {problem}"
            for name, problems in result.problems.items()
            for problem in problems
        ]
    assert not failures, failures
