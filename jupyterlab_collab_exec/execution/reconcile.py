"""Reconciling `collab_exec` with what the server really runs.

When a room loads (after an eviction, a server restart or a crash), whatever no live kernel
conversation will finish is settled. Free of tornado and of the kernel.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pycrdt import Doc, Map

from ..doc import schema
from ..doc.collab_map import existing_part


def reconcile(
    ydoc: Doc[Any],
    *,
    active_request_ids: set[str],
    pending_input_ids: set[str],
    now: float,
    ycells: Iterable[Any] | None = None,
    active_cell_ids: set[str] | None = None,
    cells_replaced: bool = False,
) -> list[str]:
    """Settle what no live kernel conversation will ever finish.

    A request that is queued or running without a conversation behind it (the server
    restarted, or a client wrote it) becomes `cancelled` or `interrupted`; a pending input
    the server does not wait for becomes `cancelled`; with `ycells`, a cell left `running`
    without an active request becomes `idle`. Returns the ids of the requests it settled.

    `cells_replaced` says that the cells were just reloaded from the file while
    `collab_exec` came from the YStore, as jupyter_server_ydoc does when the file is older
    than the store after a crash: a finished request whose results its cell no longer
    holds becomes `interrupted`, so that no record claims outputs nobody can see.
    """
    ycells = list(ycells or ())
    settled = []
    # Only what exists is read: reconciling creates nothing.
    requests = existing_part(ydoc, schema.REQUESTS)
    if requests is not None:
        if cells_replaced:
            settled.extend(_settle_lost_results(requests, ycells, now))
        settled.extend(_settle_requests(requests, active_request_ids, now))
    inputs = existing_part(ydoc, schema.INPUTS)
    if inputs is not None:
        _settle_inputs(inputs, pending_input_ids)
    for ycell in ycells:
        if (
            isinstance(ycell, Map)
            and ycell.get("execution_state") == "running"
            and ycell.get("id") not in (active_cell_ids or set())
        ):
            ycell["execution_state"] = "idle"
    return settled


def _settle_requests(requests: Map[Any], active_request_ids: set[str], now: float) -> list[str]:
    settled = []
    for request_id, entry in list(requests.items()):
        if request_id in active_request_ids:
            continue
        if not isinstance(entry, Map):
            del requests[request_id]
            continue
        status = entry.get(schema.STATUS)
        if status in schema.FINAL_STATUSES:
            continue
        entry[schema.STATUS] = "cancelled" if status == "queued" else "interrupted"
        entry[schema.FINISHED_AT] = now
        settled.append(request_id)
    return settled


def _settle_inputs(inputs: Map[Any], pending_input_ids: set[str]) -> None:
    for input_id, entry in list(inputs.items()):
        if not isinstance(entry, Map):
            del inputs[input_id]
            continue
        if entry.get(schema.STATUS) == "pending" and input_id not in pending_input_ids:
            entry[schema.STATUS] = "cancelled"


def _settle_lost_results(requests: Map[Any], ycells: list[Any], now: float) -> list[str]:
    """The latest `ok` or `error` request of each cell whose execution count the cell does
    not show: its results were lost with the cells; it becomes `interrupted`."""
    latest: dict[str, tuple[Any, str, Map[Any]]] = {}
    for request_id, entry in requests.items():
        if not isinstance(entry, Map):
            continue
        cell_id = entry.get(schema.CELL_ID)
        stamp = entry.get(schema.SUBMITTED_AT, 0)
        if isinstance(cell_id, str) and (cell_id not in latest or stamp > latest[cell_id][0]):
            latest[cell_id] = (stamp, request_id, entry)
    counts = {
        ycell.get("id"): ycell.get("execution_count") for ycell in ycells if isinstance(ycell, Map)
    }
    lost = []
    for cell_id, (_, request_id, entry) in latest.items():
        if entry.get(schema.STATUS) not in ("ok", "error") or cell_id not in counts:
            continue
        if counts[cell_id] != entry.get(schema.EXECUTION_COUNT):
            entry[schema.STATUS] = "interrupted"
            entry[schema.FINISHED_AT] = now
            lost.append(request_id)
    return lost
