"""The outputs of every cell that runs: one writer per cell, and display routing per kernel.

The latest accepted request of a cell owns its outputs, as in JupyterLab, where scheduling a
cell again replaces its output area's future. A message with a display id also updates the
earlier cells of the same kernel that show that id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jupyter_ydoc import YNotebook

from ..trust.records import TrustRecords
from .cell_writer import CellOutputWriter
from .display_router import DisplayRouter

CellKey = tuple[str, str]


@dataclass(frozen=True)
class OutputSettings:
    flush_interval: float
    max_output_bytes: int | None


@dataclass(frozen=True)
class CellRun:
    """What identifies one request's outputs."""

    document_id: str
    cell_id: str
    request_id: str
    kernel_id: str

    @property
    def key(self) -> CellKey:
        return (self.document_id, self.cell_id)


def message_of(output: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The IOPub message type and content that give an nbformat output."""
    content = {key: value for key, value in output.items() if key != "output_type"}
    return str(output.get("output_type", "")), content


class OutputDesk:
    def __init__(self, settings: OutputSettings, trust: TrustRecords) -> None:
        self._settings = settings
        self._trust = trust
        self._writers: dict[CellKey, CellOutputWriter] = {}
        self._routers: dict[str, DisplayRouter] = {}
        # The other cells whose displays a request updated: flushed when it ends.
        self._updated: dict[str, set[CellOutputWriter]] = {}

    def take_cell(self, notebook: YNotebook, run: CellRun, index: int) -> None:
        """A new request of a cell owns its outputs from now on."""
        previous = self._writers.get(run.key)
        if previous is not None:
            self._router(run.kernel_id).forget(previous)
            previous.close()
        self._writers[run.key] = CellOutputWriter(
            notebook,
            run.document_id,
            run.cell_id,
            run.request_id,
            flush_interval=self._settings.flush_interval,
            max_output_bytes=self._settings.max_output_bytes,
            trust=self._trust,
            index=index,
        )
        # The cell's outputs are cleared in the same update: nothing written before counts.
        self._trust.cell_taken(run.document_id, run.cell_id)

    def owns_cell(self, run: CellRun) -> bool:
        return self._writer(run) is not None

    def begin(self, run: CellRun) -> None:
        writer = self._writer(run)
        if writer is not None:
            writer.begin()

    def add(self, run: CellRun, msg_type: str, content: dict[str, Any]) -> None:
        """One IOPub message of a request, routed as JupyterLab's kernel connection does."""
        writer = self._writer(run)
        if writer is None:
            return
        handled, updated = self._router(run.kernel_id).route(writer, msg_type, content)
        if updated:
            self._updated.setdefault(run.request_id, set()).update(
                target for target in updated if isinstance(target, CellOutputWriter)
            )
        if not handled:
            writer.on_message(msg_type, content)

    def drops_streams(self, run: CellRun) -> bool:
        """Whether the request's stream output would be dropped now (or has no writer)."""
        writer = self._writer(run)
        return writer is None or writer.drops_streams

    def flush(self, run: CellRun) -> None:
        """Write what is pending now: the request's cell, and the cells it updated."""
        writer = self._writer(run)
        if writer is not None:
            writer.flush()
        for target in self._updated.get(run.request_id, ()):
            target.flush()

    def outputs(self, run: CellRun) -> list[dict[str, Any]] | None:
        """A request's outputs as its cell shows them, or None once another request of the
        cell took it."""
        writer = self._writer(run)
        return writer.outputs() if writer is not None else None

    def restore(
        self,
        notebook: YNotebook,
        run: CellRun,
        index: int,
        outputs: list[dict[str, Any]] | None,
    ) -> None:
        """Put recorded outputs back into their cell, as a request of the cell writes its
        own: the cell's outputs replaced, and trusted as what the server wrote."""
        self.take_cell(notebook, run, index)
        writer = self._writer(run)
        assert writer is not None
        for output in outputs or []:
            writer.on_message(*message_of(output))
        writer.flush()
        self.finish(run)

    def finish(self, run: CellRun) -> None:
        """The request ended: its writer goes unless a later display update may need it."""
        self._updated.pop(run.request_id, None)
        writer = self._writer(run)
        if writer is None:
            return
        router = self._routers.get(run.kernel_id)
        if router is None or not router.holds(writer):
            writer.close()
            del self._writers[run.key]

    def forget_kernel(self, kernel_id: str) -> None:
        """The kernel restarted or went away: no display of it will be updated again."""
        router = self._routers.pop(kernel_id, None)
        if router is not None:
            router.clear()

    def _writer(self, run: CellRun) -> CellOutputWriter | None:
        writer = self._writers.get(run.key)
        return writer if writer is not None and writer.request_id == run.request_id else None

    def _router(self, kernel_id: str) -> DisplayRouter:
        return self._routers.setdefault(kernel_id, DisplayRouter())
