"""Counts of reliability trials, by category, for docs/reliability.md.

`make test` runs a bounded number of trials; `make soak` sets COLLAB_EXEC_SOAK=1 for the
full counts and COLLAB_EXEC_RELIABILITY_REPORT to the JSON file that the report is built
from."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOAK = os.environ.get("COLLAB_EXEC_SOAK") == "1"
REPORT_PATH = os.environ.get("COLLAB_EXEC_RELIABILITY_REPORT")

# The order and the wording of the categories in docs/reliability.md.
CATEGORIES = {
    "kill-all": "Faults: every client killed mid-frame (print flood, run-all, pending input)",
    "flaps": "Faults: connections flapping through a loopback proxy (drops and delays)",
    "server-restart": "Faults: the server restarted in the middle of a run",
    "answer-races": "Races: 8 concurrent answers to one input",
    "cancel-vs-start": "Races: cancel racing the start of a request",
    "execute-vs-restart": "Races: execute racing a kernel restart",
    "fuzzed-bodies": "Hostile input: fuzzed endpoint bodies (4xx, doc unchanged)",
    "tampering": "Hostile input: a client tampering with collab_exec",
    "authorization": "Authorization: denied execute, no token, XSRF",
    "output-bound": "Resource bounds: an attempt at 1 GB of output",
    "requests-bound": "Resource bounds: the requests map after many executions",
    "churn-runs": "Churn under load: W9 cells run while clients join, leave, drop, return stale",
    "churn-drops": "Churn under load: connections dropped without a close frame, let go",
    "churn-stale": "Churn under load: clients back with a stale state vector, converged",
}


def count(bounded: int, soak: int) -> int:
    """How many trials to run: the soak's count under `make soak`, else the bounded one."""
    return soak if SOAK else bounded


@dataclass
class Tally:
    """Trials run and passed per category. A trial that fails raises, so the test fails at
    the first broken invariant, and the tally shows it as run but not passed."""

    counts: dict[str, list[int]] = field(default_factory=dict)
    # A category's measures beside its counts (one dict per run), for the report.
    figures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @contextmanager
    def trial(self, category: str) -> Iterator[None]:
        assert category in CATEGORIES, category
        entry = self.counts.setdefault(category, [0, 0])
        entry[0] += 1
        yield
        entry[1] += 1

    def add(self, category: str, run: int, passed: int) -> None:
        """Trials counted elsewhere (by hypothesis, say)."""
        assert category in CATEGORIES, category
        entry = self.counts.setdefault(category, [0, 0])
        entry[0] += run
        entry[1] += passed

    def measure(self, category: str, figures: dict[str, Any]) -> None:
        assert category in CATEGORIES, category
        self.figures.setdefault(category, []).append(figures)

    def save(self) -> None:
        """Adds to the report file: `{"counts": {category: [run, passed]}, "figures":
        {category: [measures of a run]}}`."""
        if not REPORT_PATH:
            return
        path = Path(REPORT_PATH)
        saved = json.loads(path.read_text()) if path.exists() else {}
        counts: dict[str, list[int]] = saved.get("counts", {})
        figures: dict[str, list[dict[str, Any]]] = saved.get("figures", {})
        for category, (run, passed) in self.counts.items():
            previous = counts.get(category, [0, 0])
            counts[category] = [previous[0] + run, previous[1] + passed]
        for category, runs in self.figures.items():
            figures.setdefault(category, []).extend(runs)
        path.write_text(json.dumps({"counts": counts, "figures": figures}, indent=1))
