"""The run history's SQLite database: runs by notebook file id and cell, their outputs
stored once per distinct content (by the SHA-256 of the output's canonical JSON,
zlib-compressed), and pruning to the retention limits, oldest first.

Blocking: every method runs its statements at once. The recorder calls it from one
worker thread, off the event loop.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .records import AnsweredInput, RunRecord

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    file_id TEXT NOT NULL,
    cell_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    restored_from TEXT,
    source TEXT NOT NULL,
    execution_count INTEGER,
    status TEXT NOT NULL,
    reason TEXT,
    submitted_by TEXT NOT NULL,
    submitted_at REAL,
    started_at REAL,
    finished_at REAL,
    recorded_at REAL NOT NULL,
    inputs TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_cell ON runs (file_id, cell_id, seq);
CREATE INDEX IF NOT EXISTS runs_by_file ON runs (file_id, seq);
CREATE TABLE IF NOT EXISTS run_outputs (
    run_seq INTEGER NOT NULL REFERENCES runs (seq) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (run_seq, position)
);
CREATE INDEX IF NOT EXISTS run_outputs_by_digest ON run_outputs (digest);
CREATE TABLE IF NOT EXISTS outputs (
    digest TEXT PRIMARY KEY,
    data BLOB NOT NULL,
    size INTEGER NOT NULL
);
"""

RUN_COLUMNS = (
    "seq, run_id, file_id, cell_id, kind, restored_from, source, execution_count, status, "
    "reason, submitted_by, submitted_at, started_at, finished_at, inputs"
)


@dataclass(frozen=True)
class Retention:
    """How much history is kept: runs per cell, bytes in all, and days; None is no limit."""

    runs_per_cell: int | None = 200
    total_bytes: int | None = 512 * 1024 * 1024
    max_age_days: float | None = 365.0


@dataclass(frozen=True)
class RunPage:
    runs: list[RunRecord]
    # The run id to ask `before` for the next page, or None at the end.
    next: str | None


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class RunStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(path)
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode, NORMAL survives the server crashing; a power cut may lose the last
        # runs, not the database.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            # SQLite rolls back by itself on some errors (a full disk among them).
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # Writing

    def record(self, run: RunRecord) -> None:
        """Keep a run; a run id kept already is left as it is."""
        self.record_all([run])

    def record_all(self, runs: list[RunRecord]) -> None:
        """Keep runs, in one transaction; run ids kept already are left as they are."""
        with self._transaction() as db:
            for run in runs:
                self._insert(db, run)

    def _insert(self, db: sqlite3.Connection, run: RunRecord) -> None:
        inputs = canonical_json([answered.to_json() for answered in run.inputs]).decode()
        cursor = db.execute(
            "INSERT OR IGNORE INTO runs (run_id, file_id, cell_id, kind, restored_from, "
            "source, execution_count, status, reason, submitted_by, submitted_at, "
            "started_at, finished_at, recorded_at, inputs, size) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run.run_id,
                run.file_id,
                run.cell_id,
                run.kind,
                run.restored_from,
                run.source,
                run.execution_count,
                run.status,
                run.reason,
                canonical_json(run.submitted_by).decode(),
                run.submitted_at,
                run.started_at,
                run.finished_at,
                time.time(),
                inputs,
                len(run.source.encode()) + len(inputs.encode()),
            ),
        )
        if cursor.rowcount == 0:
            return
        seq = cursor.lastrowid
        for position, output in enumerate(run.outputs or []):
            digest = self._keep_output(db, output)
            db.execute(
                "INSERT INTO run_outputs (run_seq, position, digest) VALUES (?, ?, ?)",
                (seq, position, digest),
            )

    def _keep_output(self, db: sqlite3.Connection, output: dict[str, Any]) -> str:
        data = canonical_json(output)
        digest = hashlib.sha256(data).hexdigest()
        compressed = zlib.compress(data, 6)
        db.execute(
            "INSERT OR IGNORE INTO outputs (digest, data, size) VALUES (?, ?, ?)",
            (digest, compressed, len(compressed)),
        )
        return digest

    def prune(self, retention: Retention, now: float | None = None) -> int:
        """Delete the oldest runs past the limits, then the outputs no run names; returns
        how many runs went."""
        now = time.time() if now is None else now
        deleted = 0
        with self._transaction() as db:
            if retention.max_age_days is not None:
                cutoff = now - retention.max_age_days * 86400
                deleted += db.execute("DELETE FROM runs WHERE recorded_at < ?", (cutoff,)).rowcount
            if retention.runs_per_cell is not None:
                deleted += db.execute(
                    "DELETE FROM runs WHERE seq IN (SELECT seq FROM (SELECT seq, ROW_NUMBER() "
                    "OVER (PARTITION BY file_id, cell_id ORDER BY seq DESC) AS newer FROM runs) "
                    "WHERE newer > ?)",
                    (retention.runs_per_cell,),
                ).rowcount
            self._collect_outputs(db)
            if retention.total_bytes is not None:
                while self._size(db) > retention.total_bytes:
                    oldest = db.execute("SELECT MIN(seq) FROM runs").fetchone()[0]
                    if oldest is None:
                        break
                    deleted += db.execute("DELETE FROM runs WHERE seq = ?", (oldest,)).rowcount
                    self._collect_outputs(db)
        return deleted

    def _collect_outputs(self, db: sqlite3.Connection) -> None:
        db.execute(
            "DELETE FROM outputs WHERE NOT EXISTS "
            "(SELECT 1 FROM run_outputs WHERE run_outputs.digest = outputs.digest)"
        )

    def _size(self, db: sqlite3.Connection) -> int:
        runs = db.execute("SELECT COALESCE(SUM(size), 0) FROM runs").fetchone()[0]
        outputs = db.execute("SELECT COALESCE(SUM(size), 0) FROM outputs").fetchone()[0]
        return int(runs) + int(outputs)

    # Reading

    def size(self) -> int:
        """The bytes that the limits count: the runs' sources and inputs, and the distinct
        outputs compressed."""
        return self._size(self._db)

    def runs(
        self,
        file_id: str,
        *,
        cell_id: str | None = None,
        submitted_by: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> RunPage:
        """A notebook's runs, newest first, of one cell and one person (by username) when
        asked, older than `before`; their outputs are left out (`output_count` says how
        many)."""
        clauses, params = ["file_id = ?"], [file_id]
        if cell_id is not None:
            clauses.append("cell_id = ?")
            params.append(cell_id)
        if submitted_by is not None:
            clauses.append("json_extract(submitted_by, '$.username') = ?")
            params.append(submitted_by)
        if before is not None:
            clauses.append("seq < COALESCE((SELECT seq FROM runs WHERE run_id = ?), -1)")
            params.append(before)
        rows = self._db.execute(
            f"SELECT {RUN_COLUMNS}, (SELECT COUNT(*) FROM run_outputs WHERE run_seq = seq) "
            f"FROM runs WHERE {' AND '.join(clauses)} ORDER BY seq DESC LIMIT ?",
            (*params, limit + 1),
        ).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        runs = [_run(row, None, row[-1]) for row in rows]
        return RunPage(runs, runs[-1].run_id if more and runs else None)

    def run(self, file_id: str, run_id: str) -> RunRecord | None:
        """One run of a notebook, with its outputs."""
        row = self._db.execute(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE file_id = ? AND run_id = ?", (file_id, run_id)
        ).fetchone()
        if row is None:
            return None
        outputs = [
            json.loads(zlib.decompress(data))
            for (data,) in self._db.execute(
                "SELECT outputs.data FROM run_outputs JOIN outputs USING (digest) "
                "WHERE run_seq = ? ORDER BY position",
                (row[0],),
            )
        ]
        return _run(row, outputs, len(outputs))


def connect(path: Path) -> sqlite3.Connection:
    """The connection of a store; one worker thread uses it at a time, but not always the
    one that opened it."""
    return sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)


def _run(row: tuple[Any, ...], outputs: list[Any] | None, output_count: int) -> RunRecord:
    (
        _seq,
        run_id,
        file_id,
        cell_id,
        kind,
        restored_from,
        source,
        execution_count,
        status,
        reason,
        submitted_by,
        submitted_at,
        started_at,
        finished_at,
        inputs,
    ) = row[:15]
    return RunRecord(
        run_id=run_id,
        file_id=file_id,
        cell_id=cell_id,
        source=source,
        execution_count=execution_count,
        status=status,
        reason=reason,
        submitted_by=json.loads(submitted_by),
        submitted_at=submitted_at,
        started_at=started_at,
        finished_at=finished_at,
        outputs=outputs,
        output_count=output_count,
        inputs=[AnsweredInput(**answered) for answered in json.loads(inputs)],
        kind=kind,
        restored_from=restored_from,
    )
