"""Edits of notebook cells in the shared document, as JupyterLab itself makes them."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Map

from .outputs import to_youtput


def find_cell(ycells: Array, cell_id: str) -> Map | None:
    for ycell in ycells:
        if isinstance(ycell, Map) and ycell.get("id") == cell_id:
            return ycell
    return None


def cell_source(ycell: Map) -> str:
    return str(ycell.get("source", ""))


def is_code_cell(ycell: Map) -> bool:
    return ycell.get("cell_type") == "code"


def cell_outputs(ycell: Map) -> Array:
    outputs = ycell.get("outputs")
    if not isinstance(outputs, Array):
        outputs = Array()
        ycell["outputs"] = outputs
    return outputs


def clear_execution(ycell: Map, *, running: bool) -> None:
    """What CodeCellModel.clearExecution does, then the `running` prompt if asked."""
    outputs = cell_outputs(ycell)
    if len(outputs):
        outputs.clear()
    ycell["execution_count"] = None
    set_execution_state(ycell, "running" if running else "idle")
    metadata = ycell.get("metadata")
    if isinstance(metadata, Map) and "execution" in metadata:
        del metadata["execution"]


def set_execution_state(ycell: Map, state: str) -> None:
    if ycell.get("execution_state") != state:
        ycell["execution_state"] = state


def set_execution_count(ycell: Map, count: int | None) -> None:
    ycell["execution_count"] = count


def set_execution_metadata(ycell: Map, timing: dict[str, Any]) -> None:
    metadata = ycell.get("metadata")
    if not isinstance(metadata, Map):
        metadata = Map()
        ycell["metadata"] = metadata
    metadata["execution"] = dict(timing)


def append_output(ycell: Map, output: dict[str, Any]) -> None:
    cell_outputs(ycell).append(to_youtput(output))
