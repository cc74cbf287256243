"""Queue and request lifecycle: the `collab_exec.requests` records and each kernel's FIFO queue.

Everything here is free of tornado and of the kernel, so that it runs on a bare pycrdt Doc.
"""

from __future__ import annotations

import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map

from . import schema


def now_ms() -> float:
    return float(time.time() * 1000)


class AcceptanceClock:
    """`submitted_at` stamps that strictly increase in acceptance order, so that ordering
    requests by it gives the queue's FIFO order, within a batch too."""

    def __init__(self) -> None:
        self._last = 0.0

    def stamp(self) -> float:
        self._last = max(now_ms(), self._last + 0.001)
        return self._last


def new_request_id() -> str:
    return uuid.uuid4().hex


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
    child = root.get(key)
    if not isinstance(child, Map):
        child = Map()
        root[key] = child
    return child


def requests_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.REQUESTS)


def kernel_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.KERNEL)


def inputs_map(ydoc: Doc[Any]) -> Map[Any]:
    return _child_map(collab_exec_root(ydoc), schema.INPUTS)


def set_kernel_state(ydoc: Doc[Any], kernel_id: str, execution_state: str) -> None:
    kernel = kernel_map(ydoc)
    if kernel.get(schema.KERNEL_ID) != kernel_id:
        kernel[schema.KERNEL_ID] = kernel_id
    if kernel.get(schema.EXECUTION_STATE) != execution_state:
        kernel[schema.EXECUTION_STATE] = execution_state


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
    requests = requests_map(ydoc)
    if cells_replaced:
        settled.extend(_settle_lost_results(requests, ycells, now))
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
    inputs = inputs_map(ydoc)
    for input_id, entry in list(inputs.items()):
        if not isinstance(entry, Map):
            del inputs[input_id]
            continue
        if entry.get("status") == "pending" and input_id not in pending_input_ids:
            entry["status"] = "cancelled"
    for ycell in ycells:
        if (
            isinstance(ycell, Map)
            and ycell.get("execution_state") == "running"
            and ycell.get("id") not in (active_cell_ids or set())
        ):
            ycell["execution_state"] = "idle"
    return settled


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


def restore_request(ydoc: Doc[Any], request: QueuedRequest) -> None:
    """Put back what a client changed in the entry of an active request."""
    update_request(
        ydoc,
        request.request_id,
        cell_id=request.cell_id,
        kernel_id=request.kernel_id,
        status=request.status,
        submitted_by=request.submitted_by.to_json(),
        submitted_at=request.submitted_at,
    )


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


@dataclass
class QueuedRequest:
    """One accepted cell execution, waiting in or taken from its kernel's queue."""

    request_id: str
    document_id: str
    kernel_id: str
    cell_id: str
    code: str
    batch_id: str
    record_timing: bool
    submitted_by: Person
    submitted_at: float = 0.0
    status: str = "queued"


@dataclass
class KernelQueue:
    """The FIFO of requests for one kernel; batches keep JupyterLab's stop-on-error."""

    pending: deque[QueuedRequest] = field(default_factory=deque)

    def extend(self, requests: Iterable[QueuedRequest]) -> None:
        self.pending.extend(requests)

    def peek(self) -> QueuedRequest | None:
        return self.pending[0] if self.pending else None

    def pop(self) -> QueuedRequest | None:
        return self.pending.popleft() if self.pending else None

    def __len__(self) -> int:
        return len(self.pending)

    def __iter__(self) -> Iterator[QueuedRequest]:
        return iter(self.pending)

    def remove_all(self) -> list[QueuedRequest]:
        removed = list(self.pending)
        self.pending.clear()
        return removed

    def remove_matching(self, matches: Callable[[QueuedRequest], bool]) -> list[QueuedRequest]:
        return self._remove(matches)

    def remove_batch(self, batch_id: str) -> list[QueuedRequest]:
        """Take out the rest of a batch, as JupyterLab aborts it after an error."""
        return self._remove(lambda request: request.batch_id == batch_id)

    def _remove(self, matches: Callable[[QueuedRequest], bool]) -> list[QueuedRequest]:
        removed = [request for request in self.pending if matches(request)]
        if removed:
            self.pending = deque(request for request in self.pending if not matches(request))
        return removed
