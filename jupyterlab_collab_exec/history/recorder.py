"""The run history as the server uses it: runs recorded in one worker thread, off the event
loop, so that a slow or failing disk never delays a request's settling; reads answered
from the same thread.

A database that cannot be opened or written logs one error and leaves execution working;
the next write that succeeds says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..common.errors import HistoryUnavailable
from .records import RunQuery, RunRecord
from .store import Retention, RunPage, RunStore

T = TypeVar("T")

# Pruning runs with the first run recorded, and then every this many.
PRUNE_EVERY = 100
# Runs are written once none settled for this long (a run-all is written after it, not
# while the server is busiest), and at most this long after the first of them settled.
QUIET_SECONDS = 0.25
MAX_WAIT_SECONDS = 2.0


@dataclass(frozen=True)
class HistorySettings:
    path: Path
    retention: Retention
    enabled: bool = True


class RunRecorder:
    def __init__(self, settings: HistorySettings, log: logging.Logger) -> None:
        self._settings = settings
        self._log = log
        # The file id and cell id of each run once it is written, for the event loop.
        self._recorded: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-history")
        self._store: RunStore | None = None
        self._failing = False
        # The database is opened and pruned with the first run recorded.
        self._since_prune = PRUNE_EVERY
        # Runs waiting to be written together, in one transaction; touched on the loop only.
        self._waiting: list[RunRecord] = []
        self._waiting_since = 0.0
        self._write_timer: asyncio.TimerHandle | None = None

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    def record(self, run: RunRecord) -> None:
        """Keep a settled run, later; it returns at once. Called on the event loop."""
        if not self._settings.enabled:
            return
        loop = self._loop = asyncio.get_running_loop()
        if not self._waiting:
            self._waiting_since = loop.time()
        self._waiting.append(run)
        if self._write_timer is not None:
            self._write_timer.cancel()
        delay = min(QUIET_SECONDS, self._waiting_since + MAX_WAIT_SECONDS - loop.time())
        self._write_timer = loop.call_later(max(0.0, delay), self._write_waiting)

    def _write_waiting(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None
        runs, self._waiting = self._waiting, []
        if runs:
            self._executor.submit(self._guarded, lambda: self._record_all(runs))

    async def recorded(self) -> tuple[str, str]:
        """The file id and cell id of the next run written into the database."""
        return await self._recorded.get()

    def recorded_since(self) -> list[tuple[str, str]]:
        """Those of the runs written since, without waiting."""
        written = []
        while not self._recorded.empty():
            written.append(self._recorded.get_nowait())
        return written

    async def runs(self, file_id: str, query: RunQuery) -> RunPage:
        return await self._read(
            lambda store: store.runs(
                file_id,
                cell_id=query.cell_id,
                submitted_by=query.submitted_by,
                before=query.before,
                limit=query.limit,
            )
        )

    async def run(self, file_id: str, run_id: str) -> RunRecord | None:
        return await self._read(lambda store: store.run(file_id, run_id))

    async def flushed(self) -> None:
        """Every run recorded before this call is written (or failed)."""
        self._write_waiting()
        await asyncio.wrap_future(self._executor.submit(lambda: None))

    async def close(self) -> None:
        await self.flushed()
        self._executor.shutdown(wait=True)
        if self._store is not None:
            self._store.close()
            self._store = None

    # In the worker thread

    def _open(self) -> RunStore:
        if self._store is None:
            self._store = RunStore(self._settings.path)
        return self._store

    def _record_all(self, runs: list[RunRecord]) -> None:
        store = self._open()
        if self._since_prune >= PRUNE_EVERY:
            store.prune(self._settings.retention)
            self._since_prune = 0
        store.record_all(runs)
        self._since_prune += len(runs)
        if self._loop is not None:
            for run in runs:
                self._loop.call_soon_threadsafe(
                    self._recorded.put_nowait, (run.file_id, run.cell_id)
                )

    def _guarded(self, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:
            if not self._failing:
                self._log.error(
                    "Run history: cannot write %s (%s). Execution goes on; runs are not "
                    "recorded until it can be written again.",
                    self._settings.path,
                    error,
                )
            self._failing = True
        else:
            if self._failing:
                self._log.info("Run history: %s is written again.", self._settings.path)
            self._failing = False

    async def _read(self, query: Callable[[RunStore], T]) -> T:
        def work() -> T:
            try:
                return query(self._open())
            except Exception as error:
                raise HistoryUnavailable(f"The run history cannot be read: {error}") from error

        return await asyncio.wrap_future(self._executor.submit(work))
