"""Input records: `collab_exec.inputs`, and exactly one answer for each input_request.

The doc shows every pending input so that any collaborator can answer it; the registry
here, in the server's memory, decides which answer reaches the kernel.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, Map, Text

from ..common.errors import Conflict, NotFound
from ..doc import schema
from ..doc.collab_map import Person, inputs_map

PASSWORD_MASK = "········"
RETAINED_SETTLED_INPUTS = 1000


def new_input_id() -> str:
    return uuid.uuid4().hex


def echo_text(prompt: str, value: str, password: bool) -> str:
    """What JupyterLab's Stdin widget adds to the outputs once it is answered."""
    return f"{prompt} {PASSWORD_MASK if password else value}\n"


def add_pending_input(ydoc: Doc[Any], pending: PendingInput) -> None:
    inputs_map(ydoc)[pending.input_id] = Map(
        {
            schema.REQUEST_ID: pending.request_id,
            schema.CELL_ID: pending.cell_id,
            schema.PROMPT: pending.prompt,
            schema.PASSWORD: pending.password,
            schema.VALUE: Text(),
            schema.STATUS: "pending",
        }
    )


def _entry(ydoc: Doc[Any], input_id: str) -> Map[Any]:
    inputs = inputs_map(ydoc)
    entry = inputs.get(input_id)
    if not isinstance(entry, Map):
        # A client deleted or replaced it: the server's record wins.
        entry = Map({schema.STATUS: "pending"})
        inputs[input_id] = entry
    return entry


def mark_answered(
    ydoc: Doc[Any],
    input_id: str,
    *,
    value: str | None,
    answered_by: Person,
    answered_at: float,
) -> None:
    """Settle an input; the final value is shown unless it is a password."""
    entry = _entry(ydoc, input_id)
    text = entry.get(schema.VALUE)
    if not isinstance(text, Text):
        text = Text()
        entry[schema.VALUE] = text
    if value is None:
        if len(text):
            del text[:]
    elif str(text) != value:
        del text[:]
        text += value
    entry[schema.STATUS] = "answered"
    entry[schema.ANSWERED_BY] = answered_by.to_json()
    entry[schema.ANSWERED_AT] = answered_at


def mark_cancelled(ydoc: Doc[Any], input_id: str) -> None:
    entry = _entry(ydoc, input_id)
    if entry.get(schema.STATUS) != "cancelled":
        entry[schema.STATUS] = "cancelled"


@dataclass
class PendingInput:
    """An input_request that the kernel waits on."""

    input_id: str
    document_id: str
    request_id: str
    cell_id: str
    prompt: str
    password: bool
    kernel_id: str
    message: dict[str, Any] = field(repr=False)
    """The kernel's input_request, which the reply names as its parent."""
    status: str = "pending"
    answered_by: Person | None = None


@dataclass
class InputRegistry:
    """The inputs kernels wait for. `claim` is synchronous, so the first valid answer
    wins atomically on the event loop and every later one gets a conflict."""

    _inputs: dict[str, PendingInput] = field(default_factory=dict)

    def add(self, pending: PendingInput) -> None:
        self._inputs[pending.input_id] = pending
        # Settled inputs are kept so that a late answer learns who answered; a bounded few.
        settled = [key for key, item in self._inputs.items() if item.status != "pending"]
        for input_id in settled[: max(0, len(settled) - RETAINED_SETTLED_INPUTS)]:
            del self._inputs[input_id]

    def claim(self, document_id: str, input_id: str, person: Person) -> PendingInput:
        pending = self._inputs.get(input_id)
        if pending is None or pending.document_id != document_id:
            raise NotFound(f"Unknown input {input_id!r} in document {document_id!r}.")
        if pending.status == "answered":
            assert pending.answered_by is not None
            raise Conflict(
                "This input was already answered.",
                status="answered",
                answered_by=pending.answered_by.to_json(),
            )
        if pending.status == "cancelled":
            raise Conflict("This input was cancelled.", status="cancelled")
        pending.status = "answered"
        pending.answered_by = person
        return pending

    def cancel_for_request(self, request_id: str) -> list[PendingInput]:
        """Cancel what a request still waits for; returns what was pending."""
        cancelled = []
        for pending in self._inputs.values():
            if pending.request_id == request_id and pending.status == "pending":
                pending.status = "cancelled"
                cancelled.append(pending)
        return cancelled

    def of_document(self, document_id: str) -> list[PendingInput]:
        return [pending for pending in self._inputs.values() if pending.document_id == document_id]

    def pending_ids(self) -> set[str]:
        return {key for key, pending in self._inputs.items() if pending.status == "pending"}

    def pending_for_request(self, request_id: str) -> bool:
        return any(
            pending.request_id == request_id and pending.status == "pending"
            for pending in self._inputs.values()
        )
