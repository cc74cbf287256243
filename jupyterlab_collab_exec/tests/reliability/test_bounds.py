"""Resource bounds: what a runaway cell or a long session costs the server.

- output-bound: a cell attempts to print 200 MB (1 GB under the soak) while a real
  `jupyter server` process runs it. When the output comes as many messages, the server's
  peak RSS, read from /proc, stays within a fixed allowance over its idle baseline; when
  ipykernel batches it into one huge message, within a few copies of that message. Either
  way the cell shows the cap notice, and the doc and the .ipynb hold about the cap, not the
  attempt.
- requests-bound: after 1,000 executions (10,000 under the soak), `collab_exec.requests`
  never held more than the retained requests plus the pruning slack plus what was in flight,
  and still holds the latest request of every cell; the encoded doc grows by tombstones
  only, a few dozen bytes per execution.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Doc, Map

from jupyterlab_collab_exec.app import CollabExecApp
from jupyterlab_collab_exec.doc.schema import FINAL_STATUSES
from jupyterlab_collab_exec.execution.ledger import PRUNE_SLACK_FRACTION

from ..clients import RoomClient, ServerProcess, wait_for, write_notebook
from .tally import SOAK, Tally, count

MIB = 1024 * 1024
KIB = 1024

# output-bound --------------------------------------------------------------------------

# A modest cap, so that what the cell may keep is small next to what it attempts.
CAP = 4 * MIB
MEGABYTE_LINES = count(200, 1000)
ATTEMPTED = MEGABYTE_LINES * 1_000_000
FLOODS = {
    # Every line flushed, as print(..., flush=True), logging or a progress bar send it: one
    # IOPub message per megabyte. The pause of 10 ms a line (at most 100 MB/s) keeps a kernel
    # that busy-loops from starving the server of CPU on two cores: what is measured is what
    # the server holds, not a queue that grows while it waits for a core.
    "flushed": (
        "import time\n"
        f"for _ in range({MEGABYTE_LINES}):\n"
        "    print('x' * 1_000_000, flush=True)\n"
        "    time.sleep(0.01)"
    ),
    # Not flushed: ipykernel sends what a cell printed in 0.2 s as one message, so the whole
    # attempt reaches the server as one or a few IOPub messages of hundreds of megabytes.
    "batched": f"for _ in range({MEGABYTE_LINES}):\n    print('x' * 1_000_000)",
}
# What the server may hold at once for a capped cell: the kept text in the reducer and in
# the shared doc, the updates sent to the joined client and written to the YStore, and, while
# jupyter-collaboration saves the notebook, the notebook as Python objects, its lines, its
# JSON and the file read back, some of it in a worker thread whose allocator arena keeps
# what it freed. Measured: about 10 x CAP + 5 MiB (17 MiB for a 1 MiB cap, 42 to 48 MiB
# for 4 MiB, 172 MiB for 16 MiB).
RSS_ALLOWANCE = 16 * MIB + 16 * CAP
# A single IOPub message is received whole by every socket subscribed to the kernel: the
# server's own activity watcher (jupyter_server's, measured at 1.9 x the message without
# this extension) and this extension's client (the bytes, the decoded JSON and the text).
MESSAGE_COPIES = 5
# The doc and the file hold the kept text, the notice and the notebook's structure.
STORED_SLACK = 64 * KIB

# requests-bound ------------------------------------------------------------------------

CELLS = 10
EXECUTIONS = count(1000, 10_000)
BATCHES = EXECUTIONS // CELLS
# Batches submitted and not yet finished at any time: the next one is queued while one runs.
BATCHES_IN_FLIGHT = 2
RETAINED = int(CollabExecApp.retained_requests.default_value)
SLACK = max(1, int(RETAINED * PRUNE_SLACK_FRACTION))
MAP_BOUND = RETAINED + SLACK + BATCHES_IN_FLIGHT * CELLS
# Once the map has been pruned a first time, the live content of the doc stays the same
# size (measured: 105 to 125 KB, about 450 bytes per kept request). What still grows is
# what Yjs keeps of deleted items: each pruned entry leaves its key (a 32-character request
# id) and each overwritten field of its cell (execution_count, execution_state) a deleted
# item. Measured: 67 to 82 bytes per execution; the bound leaves room and catches anything
# that would keep more, such as outputs or entries that are never pruned.
SATURATED = 2 * (RETAINED + SLACK)
TOMBSTONE_BYTES_PER_EXECUTION = 128
# The live map holds between RETAINED and RETAINED + SLACK entries depending on where it
# stands in its pruning cycle; each is well under 1 KiB.
LIVE_SLACK = SLACK * KIB
# Every 100 executions: a multiple of the pruning cycle (SLACK finished requests), so that
# the samples are taken at the same point of the cycle.
SAMPLE_EVERY_BATCHES = 10


@dataclass
class MemorySamples:
    """The server's resident memory, in KiB, as /proc/<pid>/status shows it."""

    pid: int
    rss: list[int] = field(default_factory=list)
    peak_reset: bool = False

    def read(self) -> dict[str, int]:
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0])
        return fields

    def sample(self) -> None:
        self.rss.append(self.read()["VmRSS"])

    def reset_peak(self) -> None:
        """Restart VmHWM from the current RSS, so that it gives the peak of what follows."""
        with contextlib.suppress(OSError):
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.peak_reset = True

    def peak(self) -> int:
        """The highest RSS since the reset; VmHWM sees what sampling may miss."""
        return max([self.read()["VmHWM"], *self.rss])


def joined(
    server: ServerProcess, room_id: str, session_id: str
) -> AbstractAsyncContextManager[RoomClient]:
    """A client in the room that does not replay every status: with thousands of
    executions that bookkeeping would cost more than the server's work."""
    return server.join(room_id, session_id, track_statuses=False)


@asynccontextmanager
async def running_server(root: Path, *options: str) -> AsyncIterator[ServerProcess]:
    server = ServerProcess(root)
    server.arguments.extend(options)
    await server.start()
    try:
        yield server
    finally:
        if server.process is not None and server.process.returncode is None:
            await server.stop_gracefully()


def requests_size(client: RoomClient) -> int:
    requests = client.notebook.ydoc.get("collab_exec", type=Map).get("requests")
    return len(requests) if isinstance(requests, Map) else 0


def encoded_size(ydoc: Doc[Any]) -> int:
    return len(ydoc.get_update())


def finished(client: RoomClient, request_ids: list[str]) -> bool:
    return all(client.request_status(request_id) in FINAL_STATUSES for request_id in request_ids)


def text_of(output: dict[str, Any]) -> str:
    text = output.get("text", "")
    return text if isinstance(text, str) else "".join(text)


@pytest.mark.timeout(count(240, 900))
@pytest.mark.parametrize("form", list(FLOODS))
async def test_an_attempt_at_1_gb_of_output_keeps_the_server_bounded(
    tmp_path: Path, tally: Tally, form: str
) -> None:
    """A cell prints 200 MB (1 GB under the soak) in 1 MB lines against a 4 MiB cap.

    - flushed, one message per line: the server's peak RSS (VmHWM, reset at the start)
      stays within RSS_ALLOWANCE (80 MiB) of its idle baseline, whatever the attempt.
      Measured on 2 cores: baseline 103 MiB; growth 42 to 50 MiB for 200 MB (3.7 s),
      52 MiB for 1 GB (19 s).
    - batched by ipykernel into messages of up to the whole attempt: no server can hold
      less than the largest message, so the bound is MESSAGE_COPIES copies of it on top of
      the allowance. Measured: growth 571 to 762 MiB for 200 MB (2.7 s), 2,506 MiB for
      1 GB (12.5 s); jupyter_server alone, without this extension's client, 381 MiB for
      200 MB.

    Either way the run finishes, the next cell runs, the cell shows the cap notice, and the
    doc and the .ipynb hold about the cap.
    """
    root = tmp_path / "root"
    root.mkdir()
    path = write_notebook(root, "flood.ipynb", ["x = 1", FLOODS[form], "print('after')"])
    bound = RSS_ALLOWANCE + (MESSAGE_COPIES * ATTEMPTED if form == "batched" else 0)
    async with running_server(root, f"--CollabExecApp.max_output_bytes={CAP}") as server:
        assert server.process is not None
        memory = MemorySamples(server.process.pid)
        room_id, session_id = await server.session(path)
        kernel_id = await server.start_kernel()
        async with joined(server, room_id, session_id) as client:
            # Warm up: the room is loaded and the server's kernel connection open.
            [warmup] = await server.execute(room_id, kernel_id, ["cell-0"])
            await client.wait_until(lambda: finished(client, [warmup]), what="the warm-up")
            baseline = memory.read()["VmRSS"]
            memory.reset_peak()
            started = time.monotonic()

            with tally.trial("output-bound"):
                flood, after = await server.execute(room_id, kernel_id, ["cell-1", "cell-2"])

                def done() -> bool:
                    memory.sample()
                    return finished(client, [flood, after])

                await wait_for(done, timeout=count(120, 600), what="the flood to end")
                elapsed = time.monotonic() - started
                growth = (memory.peak() - baseline) * KIB
                figures = {
                    "form": form,
                    "attempted_mb": MEGABYTE_LINES,
                    "cap_mib": CAP / MIB,
                    "baseline_rss_mib": round(baseline / KIB, 1),
                    "growth_mib": round(growth / MIB, 1),
                    "bound_mib": round(bound / MIB, 1),
                    "peak_from_vmhwm": memory.peak_reset,
                    "seconds": round(elapsed, 1),
                }
                assert client.request_status(flood) == "ok", figures
                assert client.request_status(after) == "ok", figures
                assert growth <= bound, figures

                cell = client.cell("cell-1")
                assert cell["execution_state"] == "idle"
                *kept, notice = cell["outputs"]
                assert "Output truncated" in text_of(notice)
                assert "max_output_bytes" in text_of(notice)
                kept_text = "".join(text_of(output) for output in kept)
                assert len(kept_text) == CAP
                assert set(kept_text) == {"x", "\n"}
                assert client.cell("cell-2")["outputs"][0]["text"] == "after\n"
                assert client.cell("cell-2")["execution_state"] == "idle"

                doc_bytes = figures["doc_bytes"] = encoded_size(client.notebook.ydoc)
                assert doc_bytes <= CAP + STORED_SLACK, figures

                def saved_with_notice() -> bool:
                    outputs = saved_cell_outputs(root / path, 1)
                    return bool(outputs) and "Output truncated" in text_of(outputs[-1])

                await wait_for(saved_with_notice, what="the capped cell on disk")
                ipynb_bytes = figures["ipynb_bytes"] = (root / path).stat().st_size
                assert ipynb_bytes <= CAP + STORED_SLACK, figures
                print(json.dumps({"output-bound": figures}))


def saved_cell_outputs(path: Path, index: int) -> list[dict[str, Any]]:
    """The outputs of a cell of the notebook on disk, or none while it is being written."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (ValueError, OSError):
        return []
    if index >= len(notebook.cells):
        return []
    return [dict(output) for output in notebook.cells[index].get("outputs", [])]


@pytest.mark.timeout(count(240, 1800))
async def test_the_requests_map_stays_bounded_over_many_executions(
    tmp_path: Path, tally: Tally
) -> None:
    """1,000 executions (10,000 under the soak) of a 10-cell notebook, 10 cells a POST,
    with at most two batches in flight.

    A client in the room samples the size of `collab_exec.requests` at every change it
    sees: it never exceeds RETAINED + SLACK + what is in flight (200 + 50 + 20). At the end,
    the map holds between RETAINED and RETAINED + SLACK finished requests, the latest of
    every cell among them, and the doc has grown by tombstones only.

    Measured on 2 cores, with the map never above 259 entries and the .ipynb at 1.7 KB:
    - 1,000 executions in about 9 s (105 a second); the doc 121 KB after 500 executions,
      162 KB after 1,000 (82 bytes an execution);
    - 10,000 in 105 s (95 a second); 121 KB after 500, 757 KB after 10,000 (67 bytes an
      execution); a newcomer downloads 735 KB.
    """
    root = tmp_path / "root"
    root.mkdir()
    cell_ids = [f"cell-{index}" for index in range(CELLS)]
    path = write_notebook(root, "many.ipynb", [f"x{index} = {index}" for index in range(CELLS)])
    async with running_server(root) as server:
        room_id, session_id = await server.session(path)
        kernel_id = await server.start_kernel()
        async with joined(server, room_id, session_id) as client:
            [warmup] = await server.execute(room_id, kernel_id, ["cell-0"])
            await client.wait_until(lambda: finished(client, [warmup]), what="the warm-up")
            initial_doc = encoded_size(client.notebook.ydoc)
            largest_map = 0

            def sample_map() -> None:
                nonlocal largest_map
                largest_map = max(largest_map, requests_size(client))

            in_flight: deque[list[str]] = deque()
            doc_sizes: list[tuple[int, int]] = []
            latest: list[str] = []
            started = time.monotonic()

            async def settle_oldest(batch_number: int) -> None:
                oldest = in_flight.popleft()

                def settled() -> bool:
                    sample_map()
                    return finished(client, oldest)

                with tally.trial("requests-bound"):
                    await client.wait_until(settled, timeout=60, what=f"batch {batch_number}")
                    assert [client.request_status(r) for r in oldest] == ["ok"] * CELLS
                    assert largest_map <= MAP_BOUND, (batch_number, largest_map)

            for batch in range(BATCHES):
                latest = await server.execute(room_id, kernel_id, cell_ids)
                in_flight.append(latest)
                sample_map()
                if len(in_flight) == BATCHES_IN_FLIGHT:
                    await settle_oldest(batch)
                if batch % SAMPLE_EVERY_BATCHES == SAMPLE_EVERY_BATCHES - 1:
                    doc_sizes.append(((batch + 1) * CELLS, encoded_size(client.notebook.ydoc)))
            while in_flight:
                await settle_oldest(BATCHES)
            elapsed = time.monotonic() - started

            final_map = requests_size(client)
            final_doc = encoded_size(client.notebook.ydoc)
        # What someone who opens the notebook now downloads.
        async with joined(server, room_id, session_id) as newcomer:
            await newcomer.wait_until(
                lambda: all(request_id in newcomer.requests() for request_id in latest),
                what="the newcomer's sync",
            )
            newcomer_doc = encoded_size(newcomer.notebook.ydoc)
            newcomer_requests = newcomer.requests()
        file_size = (root / path).stat().st_size

    reference_at, reference_doc = next(
        (executions, size) for executions, size in doc_sizes if executions >= SATURATED
    )
    last_at, last_doc = doc_sizes[-1]
    slope = (last_doc - reference_doc) / (last_at - reference_at)
    figures = {
        "executions": EXECUTIONS,
        "seconds": round(elapsed, 1),
        "executions_per_second": round(EXECUTIONS / elapsed, 1),
        "largest_map": largest_map,
        "map_bound": MAP_BOUND,
        "final_map": final_map,
        "initial_doc_bytes": initial_doc,
        "reference": [reference_at, reference_doc],
        "final_doc_bytes": final_doc,
        "newcomer_doc_bytes": newcomer_doc,
        "doc_bytes_per_execution": round(slope, 1),
        "doc_sizes": doc_sizes if SOAK else doc_sizes[-3:],
        "ipynb_bytes": file_size,
    }
    print(json.dumps({"requests-bound": figures}))
    assert RETAINED <= final_map <= RETAINED + SLACK, figures
    # The latest request of every cell survives, and every entry kept is finished.
    assert set(latest) <= set(newcomer_requests), figures
    assert all(entry.get("status") == "ok" for entry in newcomer_requests.values())
    assert len(newcomer_requests) == final_map
    # The doc grows by tombstones only.
    assert slope <= TOMBSTONE_BYTES_PER_EXECUTION, figures
    tombstones = TOMBSTONE_BYTES_PER_EXECUTION * (EXECUTIONS - reference_at)
    assert newcomer_doc <= reference_doc + tombstones + LIVE_SLACK, figures
