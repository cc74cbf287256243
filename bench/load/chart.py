"""The W9 chart: the clock lag and the server's peak memory against N collaborators and M
notebooks, this project's server beside the stock arrangement."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.load.scenario import LoadResult

Figure = Callable[[LoadResult], float]
# Each row of the chart: its axis label, the figure drawn, and whether on a log scale.
PANELS: list[tuple[str, Figure, bool]] = [
    ("clock lag p99 (ms, log)", lambda r: r.lag_p99_ms, True),
    ("server RSS at its peak (MiB)", lambda r: r.rss_peak_mib, False),
]


def load_chart(
    collaborators: tuple[list[LoadResult], list[LoadResult]],
    notebooks: tuple[list[LoadResult], list[LoadResult]],
    path: Path,
) -> bool:
    """Draw the chart from (this project's, stock's) results; False without matplotlib."""
    try:
        import matplotlib
    except ImportError:
        print("No W9 chart: matplotlib is not installed (pip install -e '.[bench]').")
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, 2, figsize=(10, 6.5))
    columns: list[tuple[str, tuple[list[LoadResult], list[LoadResult]], Figure]] = [
        ("N collaborators, one notebook", collaborators, lambda r: r.clients),
        ("M notebooks, 2 collaborators each", notebooks, lambda r: r.notebooks),
    ]
    for column, (label, (ours, stock), count) in enumerate(columns):
        for row, (ylabel, figure_of, log) in enumerate(PANELS):
            axis: Any = axes[row][column]
            for results, name, style in ((ours, "this project", "o-"), (stock, "stock", "s--")):
                if results:
                    axis.plot(
                        [count(r) for r in results],
                        [figure_of(r) for r in results],
                        style,
                        label=name,
                    )
            if row == 0 and ours:
                axis.plot(
                    [count(r) for r in ours],
                    [r.lag_p50_ms for r in ours],
                    "o:",
                    label="this project, p50",
                )
            if log:
                axis.set_yscale("log")
            axis.set_xlabel(label)
            axis.set_ylabel(ylabel)
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize="small")
    figure.suptitle("W9: load on one server (lower is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return True
