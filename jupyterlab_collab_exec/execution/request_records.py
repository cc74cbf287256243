"""The entries of `collab_exec.requests`: written by the request ledger alone.

Everything here is free of tornado and of the kernel, so that it runs on a bare pycrdt Doc.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from ..doc import schema
from ..doc.collab_map import Person, requests_map


def add_queued_request(
    ydoc: Doc[Any],
    *,
    request_id: str,
    cell_id: str,
    kernel_id: str,
    submitted_by: Person,
    submitted_at: float,
) -> None:
    requests_map(ydoc)[request_id] = Map(
        {
            schema.CELL_ID: cell_id,
            schema.KERNEL_ID: kernel_id,
            schema.STATUS: "queued",
            schema.SUBMITTED_BY: submitted_by.to_json(),
            schema.SUBMITTED_AT: submitted_at,
        }
    )


def update_request(ydoc: Doc[Any], request_id: str, **fields: Any) -> None:
    """Set fields of a request entry, recreating it if a client deleted it."""
    requests = requests_map(ydoc)
    entry = requests.get(request_id)
    if not isinstance(entry, Map):
        entry = Map()
        requests[request_id] = entry
    for key, value in fields.items():
        if entry.get(key) != value:
            entry[key] = value


def prune_finished(ydoc: Doc[Any], retain: int) -> list[str]:
    """Drop the oldest finished requests beyond `retain`, keeping the latest one per cell."""
    requests = requests_map(ydoc)
    finished: list[tuple[float, str, str]] = []
    for request_id, entry in requests.items():
        if not isinstance(entry, Map) or entry.get(schema.STATUS) not in schema.FINAL_STATUSES:
            continue
        finished_at = entry.get(schema.FINISHED_AT) or entry.get(schema.SUBMITTED_AT) or 0.0
        finished.append((float(finished_at), request_id, str(entry.get(schema.CELL_ID))))
    if len(finished) <= retain:
        return []
    finished.sort(reverse=True)
    latest_per_cell: set[str] = set()
    kept = 0
    dropped = []
    for _, request_id, cell_id in finished:
        is_latest_for_cell = cell_id not in latest_per_cell
        latest_per_cell.add(cell_id)
        if kept < retain or is_latest_for_cell:
            kept += 1
            continue
        dropped.append(request_id)
    for request_id in dropped:
        del requests[request_id]
    return dropped
