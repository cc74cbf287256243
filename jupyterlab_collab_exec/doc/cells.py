"""Edits of notebook cells in the shared document, as JupyterLab itself makes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Map

from ..common.errors import InvalidRequest, NotFound


def find_cell(
    ycells: Array[Any], cell_id: str, hint: int | None = None
) -> tuple[int, Map[Any]] | None:
    """A cell and its index, found by id; the index `hint` (where it was last) is tried
    first, so that following a cell, or the cells of a run in order, costs one read."""
    count = len(ycells)
    if hint is not None and 0 <= hint < count:
        ycell = ycells[hint]
        if isinstance(ycell, Map) and ycell.get("id") == cell_id:
            return hint, ycell
    for index, ycell in enumerate(ycells):
        if isinstance(ycell, Map) and ycell.get("id") == cell_id:
            return index, ycell
    return None


def cell_source(ycell: Map[Any]) -> str:
    return str(ycell.get("source", ""))


def is_code_cell(ycell: Map[Any]) -> bool:
    return ycell.get("cell_type") == "code"


def cell_outputs(ycell: Map[Any]) -> Array[Any]:
    outputs = ycell.get("outputs")
    if not isinstance(outputs, Array):
        outputs = Array()
        ycell["outputs"] = outputs
    return outputs


def clear_execution(ycell: Map[Any], *, running: bool) -> None:
    """What CodeCellModel.clearExecution does, then the `running` prompt if asked."""
    outputs = cell_outputs(ycell)
    if len(outputs):
        outputs.clear()
    ycell["execution_count"] = None
    set_execution_state(ycell, "running" if running else "idle")
    metadata = ycell.get("metadata")
    if isinstance(metadata, Map) and "execution" in metadata:
        del metadata["execution"]


def set_execution_state(ycell: Map[Any], state: str) -> None:
    if ycell.get("execution_state") != state:
        ycell["execution_state"] = state


def set_execution_count(ycell: Map[Any], count: int | None) -> None:
    ycell["execution_count"] = count


def set_execution_metadata(ycell: Map[Any], timing: dict[str, Any]) -> None:
    metadata = ycell.get("metadata")
    if not isinstance(metadata, Map):
        metadata = Map()
        ycell["metadata"] = metadata
    metadata["execution"] = dict(timing)


@dataclass(frozen=True)
class CellSpec:
    cell_id: str
    source: str | None = None


@dataclass(frozen=True)
class ResolvedCell:
    cell_id: str
    ycell: Map[Any]
    code: str
    index: int


def resolve_cells(
    notebook: YNotebook, document_id: str, specs: Sequence[CellSpec]
) -> list[ResolvedCell]:
    """Find every cell of a batch and the code to run, or raise before anything changes."""
    resolved = []
    hint = 0
    for spec in specs:
        found = find_cell(notebook.ycells, spec.cell_id, hint)
        if found is None:
            raise NotFound(f"Unknown cell {spec.cell_id!r} in document {document_id!r}.")
        index, ycell = found
        if not is_code_cell(ycell):
            raise InvalidRequest(f"Cell {spec.cell_id!r} is not a code cell.")
        code = spec.source if spec.source is not None else cell_source(ycell)
        resolved.append(ResolvedCell(cell_id=spec.cell_id, ycell=ycell, code=code, index=index))
        hint = index + 1
    return resolved
