"""The trust records kept across server restarts, and the answers browsers get from them.

The server's writers record into `records` as they write. The authority loads a notebook's
record from the store before it answers about it, and saves what changed every
`save_interval` seconds and when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .files import file_contents
from .records import CellVerdict, TrustRecords
from .store import TrustStore

# How a notebook's file is read: as the contents manager loads it, or None.
ReadFile = Callable[[], Awaitable[Mapping[str, Any] | None]]


@dataclass(frozen=True)
class TrustQuery:
    """What a browser asks about the notebook it shows: the digests of what it holds."""

    document_id: str
    cells: list[tuple[str, list[str]]] = field(default_factory=list)
    widget_models: dict[str, str] = field(default_factory=dict)
    widget_state: str | None = None


@dataclass(frozen=True)
class TrustAnswer:
    cells: dict[str, CellVerdict]
    widget_models: dict[str, bool]
    widget_state: bool | None

    def to_json(self) -> dict[str, Any]:
        return {
            "cells": self.cells,
            "widget_models": self.widget_models,
            "widget_state": self.widget_state,
        }


class TrustAuthority:
    def __init__(
        self,
        store: TrustStore | None,
        file_id_of: Callable[[str], str],
        log: logging.Logger,
        *,
        save_interval: float = 2.0,
    ) -> None:
        self.records = TrustRecords()
        self._store = store
        self._file_id_of = file_id_of
        self._log = log
        self._save_interval = save_interval
        self._loading: dict[str, asyncio.Task[None]] = {}
        self._reading: dict[str, asyncio.Task[None]] = {}
        self._saver: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._store is not None and self._saver is None:
            self._saver = asyncio.ensure_future(self._save_every_interval())

    async def answer(self, query: TrustQuery) -> TrustAnswer:
        await self.load(query.document_id)
        reading = self._reading.get(query.document_id)
        if reading is not None:
            # What the file brings, as its room loads, is part of the answer.
            await asyncio.shield(reading)
        records, document_id = self.records, query.document_id
        return TrustAnswer(
            cells={
                cell_id: records.cell_verdict(document_id, cell_id, digests)
                for cell_id, digests in query.cells
            },
            widget_models={
                model_id: records.model_confirmed(document_id, model_id, digest)
                for model_id, digest in query.widget_models.items()
            },
            widget_state=(
                records.widget_state_confirmed(document_id, query.widget_state)
                if query.widget_state is not None
                else None
            ),
        )

    async def load(self, document_id: str) -> None:
        """Add what the store kept of a notebook to the records, once."""
        if self._store is None or not self.records.needs_persisted(document_id):
            return
        loading = self._loading.get(document_id)
        if loading is None:
            loading = asyncio.ensure_future(self._load(document_id))
            self._loading[document_id] = loading
        try:
            await asyncio.shield(loading)
        finally:
            if loading.done():
                self._loading.pop(document_id, None)

    def room_loaded(self, document_id: str, read_file: ReadFile, *, again: bool) -> None:
        """Record what the file brings, the first time the server loads it, or `again`
        when it changed on disk: what a client changes in the doc later is not what the file
        brought."""
        if document_id in self._reading and not again:
            return
        task = asyncio.ensure_future(self._read(document_id, read_file, again))
        self._reading[document_id] = task
        task.add_done_callback(lambda done: self._read_done(document_id, done))

    async def _read(self, document_id: str, read_file: ReadFile, again: bool) -> None:
        await self.load(document_id)
        if self.records.knows_file(document_id) and not again:
            return
        notebook = await read_file()
        if notebook is not None:
            self.records.file_loaded(document_id, file_contents(notebook))

    def _read_done(self, document_id: str, task: asyncio.Task[None]) -> None:
        if self._reading.get(document_id) is task:
            del self._reading[document_id]
        if not task.cancelled() and task.exception() is not None:
            self._log.error(
                "Could not record what the file of %s brings",
                document_id,
                exc_info=task.exception(),
            )

    async def _load(self, document_id: str) -> None:
        assert self._store is not None
        persisted = await self._store.load(self._file_id_of(document_id))
        self.records.merge_persisted(document_id, persisted)

    async def save(self) -> None:
        if self._store is None:
            return
        changes = self.records.take_changes()
        if changes:
            await self._store.save(
                {self._file_id_of(document_id): change for document_id, change in changes.items()}
            )

    async def _save_every_interval(self) -> None:
        while True:
            await asyncio.sleep(self._save_interval)
            try:
                await self.save()
            except Exception:
                self._log.exception("Could not save the trust records")

    async def close(self) -> None:
        for reading in list(self._reading.values()):
            reading.cancel()
        if self._saver is not None:
            self._saver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._saver
            self._saver = None
        if self._store is not None:
            try:
                await self.save()
            finally:
                await self._store.close()
