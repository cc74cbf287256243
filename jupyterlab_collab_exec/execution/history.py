"""The run history as the service offers it: a notebook's runs, one run, and putting an
earlier run's outputs back into its cell for everyone."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..common.errors import Conflict, NotFound
from ..doc import cells
from ..doc.collab_map import ORIGIN, Person, count_recorded_run, now_ms
from ..doc.rooms import RoomAccess, notebook_room_id, parse_notebook_room_id
from ..history.recorder import RunRecorder
from ..history.records import RESTORE, RunQuery, RunRecord
from ..outputs.desk import CellRun, OutputDesk
from .ledger import RequestLedger, new_request_id

# How long the counts of recorded runs wait for more runs before they are written.
COUNT_DELAY = 0.5


class RunHistory:
    def __init__(
        self,
        recorder: RunRecorder | None,
        rooms: RoomAccess,
        ledger: RequestLedger,
        outputs: OutputDesk,
        log: logging.Logger,
    ) -> None:
        self._recorder = recorder
        self._rooms = rooms
        self._ledger = ledger
        self._outputs = outputs
        self._log = log
        self._following: asyncio.Task[None] | None = None

    def follow_recorded(self) -> None:
        """From now on, each run written into the history counts in `collab_exec.history`
        of its notebook, if the room is live, so that views refresh. Once is enough."""
        if self._recorder is not None and self._following is None:
            self._following = asyncio.ensure_future(self._count_recorded(self._recorder))

    async def close(self) -> None:
        if self._following is not None:
            self._following.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._following
            self._following = None

    async def _count_recorded(self, recorder: RunRecorder) -> None:
        while True:
            recorded = [await recorder.recorded()]
            # The runs written meanwhile are counted in the same update: a run-all of 200
            # cells adds a few updates to the doc, not 200.
            await asyncio.sleep(COUNT_DELAY)
            recorded.extend(recorder.recorded_since())
            by_document: dict[str, list[str]] = {}
            for file_id, cell_id in recorded:
                by_document.setdefault(notebook_room_id(file_id), []).append(cell_id)
            for document_id, cell_ids in by_document.items():
                try:
                    notebook = self._rooms.live_notebook(document_id)
                    if notebook is not None:
                        with notebook.ydoc.transaction(origin=ORIGIN):
                            for cell_id in cell_ids:
                                count_recorded_run(notebook.ydoc, cell_id)
                except Exception:
                    self._log.exception("Run history: could not count runs of %s", document_id)

    async def runs(self, document_id: str, query: RunQuery) -> dict[str, Any]:
        """A notebook's runs, newest first, without their outputs."""
        recorder = self._recorder_of(document_id)
        page = await recorder.runs(parse_notebook_room_id(document_id), query)
        return {"runs": [run.summary() for run in page.runs], "next": page.next}

    async def run(self, document_id: str, run_id: str) -> dict[str, Any]:
        """One run of a notebook, with its outputs."""
        return (await self._find(document_id, run_id)).detail()

    async def restore(
        self, document_id: str, cell_id: str, run_id: str, restored_by: Person
    ) -> dict[str, Any]:
        """Write a run's outputs and execution count into its cell, as the server writes a
        request's (trusted as the server's), and record the restore in the history."""
        self.follow_recorded()
        run = await self._find(document_id, run_id)
        if run.cell_id != cell_id:
            raise NotFound(f"Run {run_id!r} is not a run of cell {cell_id!r}.")
        self._check_idle(document_id, cell_id)
        notebook = await self._rooms.acquire(document_id)
        restore_id = new_request_id()
        written = False
        try:
            # Nothing awaits from here to the write: no request can take the cell between.
            self._check_idle(document_id, cell_id)
            found = cells.find_cell(notebook.ycells, cell_id)
            if found is None:
                raise NotFound(f"Unknown cell {cell_id!r}: it is not in the notebook any more.")
            index, ycell = found
            with notebook.ydoc.transaction(origin=ORIGIN):
                self._outputs.restore(
                    notebook, CellRun(document_id, cell_id, restore_id, ""), index, run.outputs
                )
                cells.set_execution_count(ycell, run.execution_count)
            written = True
        finally:
            # Saved when it changed the notebook; otherwise saving would only mark it dirty.
            await self._rooms.release(document_id, save=written)
        restored_at = now_ms()
        recorder = self._recorder_of(document_id)
        recorder.record(
            RunRecord(
                run_id=restore_id,
                file_id=run.file_id,
                cell_id=cell_id,
                source=run.source,
                execution_count=run.execution_count,
                status=run.status,
                reason=run.reason,
                submitted_by=restored_by.to_json(),
                submitted_at=restored_at,
                started_at=restored_at,
                finished_at=restored_at,
                outputs=run.outputs,
                output_count=run.output_count,
                kind=RESTORE,
                restored_from=run_id,
            )
        )
        # Listed as soon as the answer arrives.
        await recorder.flushed()
        return {"run_id": restore_id, "restored_from": run_id}

    async def _find(self, document_id: str, run_id: str) -> RunRecord:
        recorder = self._recorder_of(document_id)
        run = await recorder.run(parse_notebook_room_id(document_id), run_id)
        if run is None:
            raise NotFound(f"No run {run_id!r} in this notebook's history.")
        return run

    def _recorder_of(self, document_id: str) -> RunRecorder:
        self._rooms.check_known(document_id)
        if self._recorder is None:
            raise NotFound("This server keeps no run history.")
        return self._recorder

    def _check_idle(self, document_id: str, cell_id: str) -> None:
        active = self._ledger.active(document_id=document_id)
        if any(request.cell_id == cell_id for request in active):
            raise Conflict("The cell has a queued or running request: restore once it ended.")
