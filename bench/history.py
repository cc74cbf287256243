"""W8: what long widget sessions leave in a room's history, and what reopening it costs.

- The widget case: an `ipywidgets.Image` updated 300 times with PNGs of about 36 KB, 20 ms
  apart. The display case: `display(Image(...), display_id=True)` updated 300 times the
  same way. For each, how much the room's YStore (`.ystore.db`) grows.
- The display case once more on stock jupyter-collaboration (the server without this
  extension), with a room client standing in for JupyterLab's browser: it runs the cell on
  its own kernel and writes every output message into the doc as JupyterLab's output area
  does (one transaction per message, `update_display_data` replacing the output in place).
  Stock writes nothing of a widget's state, so its widget case grows by 0 bytes.
- Reopening: after 3,000 frames of the widget case, the server stops and starts again on the
  same YStore, and a new client joins; against the same notebook file opened on a fresh
  server with no YStore. The time runs from the join until the client holds the cells.

    python -m bench.history            # prints its table
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from pycrdt import Map

from bench.systems.base import Workload, local_kernel
from bench.systems.collab_exec import CollabExecSystem
from jupyterlab_collab_exec.tests.clients import RoomClient, ServerProcess

NOTEBOOK = "history.ipynb"
FRAMES = 300
REOPEN_FRAMES = 3000
REOPENS = 5
GROWTH_TARGET_BYTES = 1024 * 1024
REOPEN_TARGET = 1.2
DEADLINE = 600.0

# A PNG of 128x96 noise: about 36 KB, and different for every seed.
PNG = """import random, struct, zlib

def png(seed):
    noise = random.Random(seed)
    rows = b''.join(b'\\x00' + noise.randbytes(128 * 3) for _ in range(96))
    def chunk(kind, data):
        check = struct.pack('>I', zlib.crc32(kind + data))
        return struct.pack('>I', len(data)) + kind + data + check
    header = chunk(b'IHDR', struct.pack('>IIBBBBB', 128, 96, 8, 2, 0, 0, 0))
    pixels = chunk(b'IDAT', zlib.compress(rows))
    return b'\\x89PNG\\r\\n\\x1a\\n' + header + pixels + chunk(b'IEND', b'')
"""


def widget_cell(frames: int) -> str:
    return (
        PNG
        + "import time\nimport ipywidgets as w\n"
        + "image = w.Image(format='png', value=png(0))\ndisplay(image)\n"
        + f"for step in range(1, {frames} + 1):\n"
        + "    image.value = png(step)\n    time.sleep(0.02)\n"
    )


def display_cell(frames: int) -> str:
    return (
        PNG
        + "import time\nfrom IPython.display import Image, display\n"
        + "handle = display(Image(data=png(0), format='png'), display_id=True)\n"
        + f"for step in range(1, {frames} + 1):\n"
        + "    handle.update(Image(data=png(step), format='png'))\n    time.sleep(0.02)\n"
    )


@dataclass
class HistoryFigures:
    widget_growth_bytes: int = 0
    display_growth_bytes: int = 0
    stock_display_growth_bytes: int = 0
    reopen_seconds: list[float] = field(default_factory=list)
    file_alone_seconds: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def reopen_ratio(self) -> float | None:
        if not self.reopen_seconds or not self.file_alone_seconds:
            return None
        return statistics.median(self.reopen_seconds) / statistics.median(self.file_alone_seconds)

    def missed(self) -> list[str]:
        missed = list(self.errors)
        if self.widget_growth_bytes > GROWTH_TARGET_BYTES:
            missed.append(
                f"W8: the widget case grew the YStore by {self.widget_growth_bytes} B, "
                f"target {GROWTH_TARGET_BYTES} B"
            )
        ratio = self.reopen_ratio
        if ratio is not None and ratio > REOPEN_TARGET:
            missed.append(
                f"W8: reopening took {ratio:.2f}x the file alone, target {REOPEN_TARGET}x"
            )
        return missed

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "reopen_ratio": self.reopen_ratio}


def ystore_bytes(root: Path) -> int:
    """The bytes of every update the server's SQLite YStore holds."""
    database = root / ".ystore.db"
    if not database.exists():
        return 0
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
        try:
            row = connection.execute("SELECT COALESCE(SUM(LENGTH(yupdate)), 0) FROM yupdates")
        except sqlite3.OperationalError:
            return 0
        return int(row.fetchone()[0])


async def settled_ystore_bytes(root: Path) -> int:
    """The YStore's size once the server has written every update (it writes them in the
    background): unchanged over a second."""
    last = -1
    while True:
        size = ystore_bytes(root)
        if size == last:
            return size
        last = size
        await asyncio.sleep(1.0)


def write_notebook(root: Path, source: str) -> None:
    notebook = Workload(key="W8", title="history", cells=[source], expected=None).notebook()
    (root / NOTEBOOK).write_text(nbformat.writes(notebook), "utf-8")  # type: ignore[no-untyped-call]


async def run_ours(root: Path, source: str) -> tuple[ServerProcess, int]:
    """Run the cell on this project's server; returns the running server and how much the
    YStore grew while the cell ran."""
    write_notebook(root, source)
    server = CollabExecSystem().server(root)
    await server.start()
    room_id, session_id = await server.session(NOTEBOOK)
    kernel_id = await server.start_kernel()
    async with server.join(room_id, session_id, track_statuses=False) as client:
        before = await settled_ystore_bytes(root)
        [request_id] = await server.execute(room_id, kernel_id, ["cell-0"])
        await client.wait_until(
            lambda: client.request_status(request_id) in ("ok", "error"), DEADLINE, what="the cell"
        )
        if client.request_status(request_id) != "ok":
            raise RuntimeError(f"the W8 cell ended {client.request_status(request_id)}")
    return server, await settled_ystore_bytes(root) - before


async def run_stock_display(root: Path, frames: int) -> int:
    """The display case on stock jupyter-collaboration, a room client writing the outputs
    as JupyterLab's browser does; returns how much the YStore grew."""
    write_notebook(root, display_cell(frames))
    server = CollabExecSystem(extension=False).server(root)
    await server.start()
    try:
        async with local_kernel(warm=False) as kernel:
            room_id, session_id = await server.session(NOTEBOOK)
            async with server.join(room_id, session_id, track_statuses=False) as client:
                before = await settled_ystore_bytes(root)
                writer = BrowserOutputs(client)
                await kernel.execute_interactive(
                    display_cell(frames), timeout=DEADLINE, output_hook=writer.write
                )
            return await settled_ystore_bytes(root) - before
    finally:
        await server.stop_gracefully()


class BrowserOutputs:
    """What JupyterLab's output area writes into the doc for a cell's display messages:
    one transaction per message, an `update_display_data` replacing in place every output
    of its display id."""

    def __init__(self, client: RoomClient) -> None:
        self._ydoc = client.notebook.ydoc
        self._outputs = client.notebook.ycells[0]["outputs"]
        self._display_ids: list[str | None] = []

    def write(self, msg: dict[str, Any]) -> None:
        kind = msg["msg_type"]
        if kind not in ("display_data", "update_display_data"):
            return
        content = msg["content"]
        display_id = content.get("transient", {}).get("display_id")
        with self._ydoc.transaction():
            if kind == "display_data":
                self._outputs.append(self._output(content))
                self._display_ids.append(display_id)
                return
            for index, shown in enumerate(self._display_ids):
                if shown == display_id:
                    del self._outputs[index]
                    self._outputs.insert(index, self._output(content))

    @staticmethod
    def _output(content: dict[str, Any]) -> Map[Any]:
        return Map(
            {
                "output_type": "display_data",
                "data": content["data"],
                "metadata": content.get("metadata", {}),
            }
        )


async def join_seconds(server: ServerProcess) -> float:
    """How long a new client takes to hold the notebook's cells, from its join."""
    started = time.perf_counter()
    room_id, session_id = await server.session(NOTEBOOK)
    async with server.join(room_id, session_id, track_statuses=False) as client:
        await client.wait_until(lambda: client.notebook.cell_number > 0, DEADLINE, what="cells")
        return time.perf_counter() - started


async def measure_history() -> HistoryFigures:
    figures = HistoryFigures()
    with tempfile.TemporaryDirectory(prefix="bench-w8-") as scratch:
        base = Path(scratch)
        for case in ("widget", "display"):
            root = base / case
            root.mkdir()
            source = widget_cell(FRAMES) if case == "widget" else display_cell(FRAMES)
            server, growth = await run_ours(root, source)
            await server.stop_gracefully()
            setattr(figures, f"{case}_growth_bytes", growth)
        stock = base / "stock"
        stock.mkdir()
        figures.stock_display_growth_bytes = await run_stock_display(stock, FRAMES)

        reopened = base / "reopen"
        reopened.mkdir()
        server, _ = await run_ours(reopened, widget_cell(REOPEN_FRAMES))
        await server.stop_gracefully()
        alone = base / "file-alone"
        alone.mkdir()
        shutil.copy(reopened / NOTEBOOK, alone / NOTEBOOK)
        # Interleaved, each from a fresh start: the room loads on the join.
        for _ in range(REOPENS):
            for root, times in (
                (reopened, figures.reopen_seconds),
                (alone, figures.file_alone_seconds),
            ):
                if root is alone:
                    for stale in (".ystore.db", ".fileid.db"):
                        (root / stale).unlink(missing_ok=True)
                server = CollabExecSystem().server(root)
                await server.start()
                try:
                    times.append(await join_seconds(server))
                finally:
                    await server.stop_gracefully()
    return figures


def table(figures: HistoryFigures) -> list[str]:
    ratio = figures.reopen_ratio
    median = statistics.median
    return [
        "| W8 | figure | target |",
        "|---|---|---|",
        f"| widget case, {FRAMES} frames | YStore +{figures.widget_growth_bytes / 1024:.0f} KiB "
        f"(stock: +0 KiB) | at most {GROWTH_TARGET_BYTES // 1024} KiB |",
        f"| display case, {FRAMES} frames | YStore +{figures.display_growth_bytes / 1024:.0f} KiB "
        f"(stock's browser: +{figures.stock_display_growth_bytes / 1024:.0f} KiB) | measured |",
        f"| reopen after {REOPEN_FRAMES} widget frames | "
        + (
            f"{median(figures.reopen_seconds):.3f} s against "
            f"{median(figures.file_alone_seconds):.3f} s for the file alone: {ratio:.2f}x"
            if ratio is not None
            else "not measured"
        )
        + f" | at most {REOPEN_TARGET}x |",
    ]


async def main() -> int:
    figures = await measure_history()
    print("\n".join(table(figures)))
    for line in figures.missed():
        print(f"missed: {line}")
    return 1 if figures.missed() else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
