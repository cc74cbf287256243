"""What a notebook file brings, as trust records: its saved widget state, and, if JupyterLab
trusts its signature (the notary), the outputs of its code cells. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .digests import json_digest, output_digest
from .records import FileContents


def file_contents(notebook: Mapping[str, Any]) -> FileContents:
    """The trust records of a notebook as jupyter_server loads it: with each code cell's
    `metadata.trusted` set from the notary's verdict on the file's signature."""
    metadata = notebook.get("metadata")
    widgets = metadata.get("widgets") if isinstance(metadata, Mapping) else None
    cells: dict[str, tuple[str | None, ...]] = {}
    code_cells = [
        cell
        for cell in notebook.get("cells") or ()
        if isinstance(cell, Mapping) and cell.get("cell_type") == "code"
    ]
    signed = bool(code_cells) and all(
        isinstance(cell.get("metadata"), Mapping) and cell["metadata"].get("trusted") is True
        for cell in code_cells
    )
    if signed:
        for cell in code_cells:
            cell_id = cell.get("id")
            outputs = cell.get("outputs") or ()
            if isinstance(cell_id, str) and cell_id:
                cells[cell_id] = tuple(
                    output_digest(output) if isinstance(output, Mapping) else None
                    for output in outputs
                )
    return FileContents(
        widget_state=json_digest(widgets) if widgets is not None else None, cells=cells
    )
