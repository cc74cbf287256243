"""Writes the figures of a soak into docs/reliability.md.

    python scripts/reliability_report.py <tally.json> <seconds> <pytest exit status>

The tally comes from the reliability suite (jupyterlab_collab_exec/tests/reliability),
run with COLLAB_EXEC_RELIABILITY_REPORT pointing at it."""

from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from jupyterlab_collab_exec.tests.reliability.tally import CATEGORIES  # noqa: E402

DOCS = ROOT / "docs" / "reliability.md"
MARK_START = "<!-- soak:start -->"
MARK_END = "<!-- soak:end -->"


def table(counts: dict[str, list[int]]) -> str:
    lines = ["| Category | Trials run | Passed |", "| --- | ---: | ---: |"]
    for key, title in CATEGORIES.items():
        run, passed = counts.get(key, [0, 0])
        lines.append(f"| {title} | {run:,} | {passed:,} |")
    return "\n".join(lines)


def churn_table(runs: list[dict[str, Any]]) -> str:
    """The churn runs under load: what came and went, and what the server spent."""
    lines = [
        "| Notebooks (clients each) | Cell | Joined | Left | Dropped (frozen first) "
        "| Stale returns | Clients at the end | Clock lines checked | Server RSS before / peak "
        "| Loop lag max | Time | Stopped on SIGTERM |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        crowds = ", ".join(str(crowd) for crowd in run["crowds"])
        lines.append(
            f"| {len(run['crowds'])} ({crowds}) + 1 calm | {run['cell_seconds']} s"
            f" | {run['joined']:,} | {run['left']:,} | {run['dropped']} ({run['frozen']})"
            f" | {run['stale']} | {run['staying']} | {run['clock_lines']:,}"
            f" | {run['rss_before_mib']:.0f} / {run['rss_peak_mib']:.0f} MiB"
            f" | {run['loop_lag_max_ms']:.0f} ms | {run['seconds']:.0f} s"
            f" | {'yes' if run.get('stopped', True) else 'no, killed after 60 s'} |"
        )
    return "\n".join(lines)


def main() -> int:
    tally_path, seconds, status = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    saved = json.loads(Path(tally_path).read_text())
    counts: dict[str, list[int]] = saved.get("counts", {})
    figures: dict[str, list[dict[str, Any]]] = saved.get("figures", {})
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    outcome = "every test passed" if status == 0 else f"pytest exited with {status}"
    text = (
        f"Command: `make soak` · {machine} · {time.strftime('%Y-%m-%d')} · "
        f"{seconds / 60:.1f} min · {outcome}\n\n{table(counts)}"
    )
    if figures.get("churn-runs"):
        text += (
            "\n\nChurn under load, per run (a fresh server each; one notebook with no clients"
            " but an observer is the run without churn):\n\n" + churn_table(figures["churn-runs"])
        )
    page = DOCS.read_text()
    before, rest = page.split(MARK_START, 1)
    _, after = rest.split(MARK_END, 1)
    DOCS.write_text(f"{before}{MARK_START}\n{text}\n{MARK_END}{after}")
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
