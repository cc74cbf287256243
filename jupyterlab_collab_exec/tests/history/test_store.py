"""The run history's database (history/store.py): runs kept per notebook and cell, newest
first in pages, outputs stored once per distinct content, pruned to the retention limits,
and no password's value anywhere in the file."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyterlab_collab_exec.history.records import AnsweredInput, RunRecord
from jupyterlab_collab_exec.history.store import Retention, RunStore

FILE = "file-1"
ALICE = {"username": "alice", "display_name": "Alice"}
BOB = {"username": "bob", "display_name": "Bob"}


def stream(text: str) -> dict[str, Any]:
    return {"output_type": "stream", "name": "stdout", "text": text}


def run(
    number: int,
    *,
    cell_id: str = "cell-0",
    by: dict[str, str] = ALICE,
    outputs: list[dict[str, Any]] | None = None,
    inputs: list[AnsweredInput] | None = None,
    file_id: str = FILE,
) -> RunRecord:
    outputs = [stream(f"run {number}\n")] if outputs is None else outputs
    return RunRecord(
        run_id=f"run-{file_id}-{cell_id}-{number}",
        file_id=file_id,
        cell_id=cell_id,
        source=f"print('run {number}')",
        execution_count=number,
        status="ok",
        reason=None,
        submitted_by=by,
        submitted_at=1000.0 + number,
        started_at=1000.5 + number,
        finished_at=1001.0 + number,
        outputs=outputs,
        output_count=len(outputs),
        inputs=inputs or [],
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    opened = RunStore(tmp_path / "history.db")
    yield opened
    opened.close()


def test_runs_are_listed_newest_first_without_outputs_and_read_one_by_one_with_them(
    store: RunStore,
) -> None:
    store.record(run(1, by=ALICE))
    store.record(run(2, by=BOB))
    store.record(run(3, by=ALICE, outputs=[stream("a\n"), {"output_type": "error", "ename": "E"}]))
    store.record(run(1, cell_id="cell-1"))
    store.record(run(1, file_id="another-notebook"))

    page = store.runs(FILE, cell_id="cell-0")
    assert [(r.run_id, r.submitted_by["username"]) for r in page.runs] == [
        ("run-file-1-cell-0-3", "alice"),
        ("run-file-1-cell-0-2", "bob"),
        ("run-file-1-cell-0-1", "alice"),
    ]
    assert page.next is None
    listed = page.runs[0].summary()
    assert "outputs" not in listed
    assert (listed["output_count"], listed["execution_count"], listed["status"]) == (2, 3, "ok")
    # The whole notebook: every cell, newest first.
    assert [r.cell_id for r in store.runs(FILE).runs] == ["cell-1", "cell-0", "cell-0", "cell-0"]

    first = store.run(FILE, "run-file-1-cell-0-1")
    assert first is not None
    assert first.detail()["outputs"] == [stream("run 1\n")]
    assert store.run(FILE, "run-another-notebook-cell-0-1") is None
    assert store.run(FILE, "no-such-run") is None


def test_pages_go_back_from_the_run_given(store: RunStore) -> None:
    for number in range(1, 6):
        store.record(run(number))
    first = store.runs(FILE, limit=2)
    assert [r.execution_count for r in first.runs] == [5, 4]
    assert first.next == "run-file-1-cell-0-4"
    second = store.runs(FILE, limit=2, before=first.next)
    assert [r.execution_count for r in second.runs] == [3, 2]
    last = store.runs(FILE, limit=2, before=second.next)
    assert [r.execution_count for r in last.runs] == [1]
    assert last.next is None
    # A run id that the notebook does not have gives nothing rather than everything.
    assert store.runs(FILE, before="unknown").runs == []


def test_one_persons_runs_are_listed_in_pages(store: RunStore) -> None:
    for number in range(1, 7):
        store.record(run(number, by=ALICE if number % 2 else BOB))
    store.record(run(1, cell_id="cell-1", by=BOB))
    first = store.runs(FILE, submitted_by="bob", limit=2)
    assert [(r.cell_id, r.execution_count) for r in first.runs] == [("cell-1", 1), ("cell-0", 6)]
    rest = store.runs(FILE, submitted_by="bob", before=first.next)
    assert [r.execution_count for r in rest.runs] == [4, 2]
    assert rest.next is None
    both = store.runs(FILE, cell_id="cell-0", submitted_by="alice")
    assert [r.execution_count for r in both.runs] == [5, 3, 1]
    assert store.runs(FILE, submitted_by="nobody").runs == []


def test_a_run_recorded_twice_is_kept_once(store: RunStore) -> None:
    store.record(run(1))
    store.record(run(1, outputs=[stream("other\n")]))
    [kept] = store.runs(FILE).runs
    found = store.run(FILE, kept.run_id)
    assert found is not None
    assert found.outputs == [stream("run 1\n")]


def test_the_same_output_of_100_runs_is_stored_once(store: RunStore, tmp_path: Path) -> None:
    big = stream("the same line, long enough to matter\n" * 2000)
    store.record(run(0, outputs=[big]))
    one_run = store.size()
    for number in range(1, 100):
        store.record(run(number, outputs=[big]))
    with sqlite3.connect(tmp_path / "history.db") as db:
        assert db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0] == 1
    # Each further run adds its own source and inputs only (about 20 bytes).
    added = store.size() - one_run
    print(f"\n100 runs of a {len(big['text'])}-byte output: {store.size()} bytes counted")
    assert added < 99 * 64


def test_pruning_keeps_the_newest_runs_per_cell_within_the_size_and_age(
    store: RunStore, tmp_path: Path
) -> None:
    for number in range(1, 8):
        store.record(run(number, outputs=[stream(f"distinct {number}\n" * 50)]))
        store.record(run(number, cell_id="cell-1", outputs=[stream("shared\n")]))
    assert store.prune(Retention(runs_per_cell=3, total_bytes=None, max_age_days=None)) == 8
    assert [r.execution_count for r in store.runs(FILE, cell_id="cell-0").runs] == [7, 6, 5]
    assert [r.execution_count for r in store.runs(FILE, cell_id="cell-1").runs] == [7, 6, 5]
    # The outputs of the pruned runs went with them; the shared one stays, once.
    with sqlite3.connect(tmp_path / "history.db") as db:
        assert db.execute("SELECT COUNT(*) FROM outputs").fetchone()[0] == 4

    # A size limit drops the oldest runs of any cell first.
    limit = store.size() // 2
    store.prune(Retention(runs_per_cell=None, total_bytes=limit, max_age_days=None))
    assert store.size() <= limit
    remaining = store.runs(FILE).runs
    assert remaining
    assert remaining[0].execution_count == 7

    # Everything is older than a day a year from now.
    store.prune(Retention(runs_per_cell=None, total_bytes=None, max_age_days=1), now=4e10)
    assert store.runs(FILE).runs == []
    assert store.size() == 0


def test_a_password_is_kept_as_null_and_is_nowhere_in_the_file(
    store: RunStore, tmp_path: Path
) -> None:
    secret = "correct-horse-battery-staple"
    answered = [
        AnsweredInput("Name: ", False, "Ada", BOB, 1002.0),
        AnsweredInput("Password: ", True, secret, BOB, 1003.0),
    ]
    store.record(run(1, inputs=answered))
    found = store.run(FILE, "run-file-1-cell-0-1")
    assert found is not None
    assert found.summary()["inputs"] == [
        {
            "prompt": "Name: ",
            "password": False,
            "value": "Ada",
            "answered_by": BOB,
            "answered_at": 1002.0,
        },
        {
            "prompt": "Password: ",
            "password": True,
            "value": None,
            "answered_by": BOB,
            "answered_at": 1003.0,
        },
    ]
    store.close()
    for path in tmp_path.iterdir():
        assert secret.encode() not in path.read_bytes(), path.name
