"""The trust records on disk: SQLite beside the YStore, keyed by the notebook's file id, so
that what the server wrote is still confirmed after it restarts, and a rename keeps it.

Only the latest of each is kept: a cell's output digests, each widget model's digest, the
saved widget state's digest, and what the file brought when the server first loaded it.
SQLite runs in one thread of its own, off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from .records import FileContents, PersistedRecord, RecordChanges

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS trust_cell_outputs (
    file_id TEXT NOT NULL, cell_id TEXT NOT NULL, digests TEXT NOT NULL,
    PRIMARY KEY (file_id, cell_id));
CREATE TABLE IF NOT EXISTS trust_widget_models (
    file_id TEXT NOT NULL, model_id TEXT NOT NULL, digest TEXT,
    PRIMARY KEY (file_id, model_id));
CREATE TABLE IF NOT EXISTS trust_widget_state (
    file_id TEXT NOT NULL PRIMARY KEY, digest TEXT);
CREATE TABLE IF NOT EXISTS trust_file (
    file_id TEXT NOT NULL PRIMARY KEY, widget_state TEXT, cells TEXT NOT NULL);
"""

Result = TypeVar("Result")


class TrustStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="collab-exec-trust")
        # Used in the executor's thread only.
        self._connection: sqlite3.Connection | None = None

    async def _run(self, work: Callable[..., Result], *args: Any) -> Result:
        return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, check_same_thread=False)
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.commit()
            self._connection = connection
        return self._connection

    async def load(self, file_id: str) -> PersistedRecord:
        return await self._run(self._load, file_id)

    def _load(self, file_id: str) -> PersistedRecord:
        connection = self._connect()
        record = PersistedRecord()
        for cell_id, digests in connection.execute(
            "SELECT cell_id, digests FROM trust_cell_outputs WHERE file_id = ?", (file_id,)
        ):
            record.cells[cell_id] = tuple(json.loads(digests))
        for model_id, digest in connection.execute(
            "SELECT model_id, digest FROM trust_widget_models WHERE file_id = ?", (file_id,)
        ):
            record.models[model_id] = digest
        row = connection.execute(
            "SELECT digest FROM trust_widget_state WHERE file_id = ?", (file_id,)
        ).fetchone()
        if row is not None:
            record.widget_state = row[0]
        row = connection.execute(
            "SELECT widget_state, cells FROM trust_file WHERE file_id = ?", (file_id,)
        ).fetchone()
        if row is not None:
            cells = {cell_id: tuple(digests) for cell_id, digests in json.loads(row[1]).items()}
            record.file = FileContents(widget_state=row[0], cells=cells)
        return record

    async def save(self, changes: Mapping[str, RecordChanges]) -> None:
        """Save what changed, by file id, in one transaction."""
        if changes:
            await self._run(self._save, dict(changes))

    def _save(self, changes: dict[str, RecordChanges]) -> None:
        connection = self._connect()
        with connection:
            for file_id, change in changes.items():
                connection.executemany(
                    "INSERT OR REPLACE INTO trust_cell_outputs VALUES (?, ?, ?)",
                    [
                        (file_id, cell_id, json.dumps(list(digests)))
                        for cell_id, digests in change.cells.items()
                    ],
                )
                connection.executemany(
                    "INSERT OR REPLACE INTO trust_widget_models VALUES (?, ?, ?)",
                    [(file_id, model_id, digest) for model_id, digest in change.models.items()],
                )
                connection.executemany(
                    "DELETE FROM trust_widget_models WHERE file_id = ? AND model_id = ?",
                    [(file_id, model_id) for model_id in change.removed_models],
                )
                if change.widget_state is not None:
                    connection.execute(
                        "INSERT OR REPLACE INTO trust_widget_state VALUES (?, ?)",
                        (file_id, change.widget_state[0]),
                    )
                if change.file is not None:
                    cells = {
                        cell_id: list(digests) for cell_id, digests in change.file.cells.items()
                    }
                    connection.execute(
                        "INSERT OR REPLACE INTO trust_file VALUES (?, ?, ?)",
                        (file_id, change.file.widget_state, json.dumps(cells)),
                    )

    async def close(self) -> None:
        def close_connection() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._run(close_connection)
        self._executor.shutdown(wait=True)
