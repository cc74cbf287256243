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


def main() -> int:
    tally_path, seconds, status = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    counts: dict[str, list[int]] = json.loads(Path(tally_path).read_text())
    machine = f"{platform.system()} {platform.machine()}, Python {platform.python_version()}"
    outcome = "every test passed" if status == 0 else f"pytest exited with {status}"
    text = (
        f"Command: `make soak` · {machine} · {time.strftime('%Y-%m-%d')} · "
        f"{seconds / 60:.1f} min · {outcome}\n\n{table(counts)}"
    )
    page = DOCS.read_text()
    before, rest = page.split(MARK_START, 1)
    _, after = rest.split(MARK_END, 1)
    DOCS.write_text(f"{before}{MARK_START}\n{text}\n{MARK_END}{after}")
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
