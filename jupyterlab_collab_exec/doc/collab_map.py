"""The `collab_exec` root map of a notebook's Y.Doc: its parts, and the people it names.

Everything here is free of tornado and of the kernel, so that it runs on a bare pycrdt Doc.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map

from . import schema

# The origin of the server's own transactions, so that its observers can tell them apart.
ORIGIN = "collab_exec"


def now_ms() -> float:
    return float(time.time() * 1000)


@dataclass(frozen=True)
class Person:
    """Who asked, as the contract stores it."""

    username: str
    display_name: str

    def to_json(self) -> dict[str, str]:
        return {"username": self.username, "display_name": self.display_name}


def collab_exec_root(ydoc: Doc[Any]) -> Map[Any]:
    root: Map[Any] = ydoc.get(schema.ROOT, type=Map)
    return root


def _child_map(root: Map[Any], key: str) -> Map[Any]:
    """A part of `collab_exec`, created if missing: for writers only."""
    child = root.get(key)
    if not isinstance(child, Map):
        child = Map()
        root[key] = child
    return child


def existing_part(ydoc: Doc[Any], key: str) -> Map[Any] | None:
    """A part of `collab_exec` if it exists: reading creates nothing, so that a room that
    is only opened or reconciled gets no update from the extension."""
    child = collab_exec_root(ydoc).get(key)
    return child if isinstance(child, Map) else None


def requests_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.REQUESTS)


def kernel_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.KERNEL)


def inputs_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.INPUTS)


def count_recorded_run(ydoc: Doc[Any], cell_id: str) -> None:
    """The run history recorded a run of the cell: views of its history refresh."""
    history = _child_map(collab_exec_root(ydoc), schema.HISTORY)
    current = history.get(cell_id)
    history[cell_id] = (int(current) if isinstance(current, (int, float)) else 0) + 1


def set_kernel_state(ydoc: Doc[Any], kernel_id: str, execution_state: str) -> None:
    kernel = kernel_map(ydoc)
    if kernel.get(schema.KERNEL_ID) != kernel_id:
        kernel[schema.KERNEL_ID] = kernel_id
    if kernel.get(schema.EXECUTION_STATE) != execution_state:
        kernel[schema.EXECUTION_STATE] = execution_state
