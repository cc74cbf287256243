"""What the run history keeps of a settled request, and how it answers for it.

A run is one request that reached a final state: the cell's source as it ran, who ran it
and when, its status, its final outputs as the cell showed them, and the inputs answered
during it. A password prompt's value is never part of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RUN = "run"
RESTORE = "restore"


@dataclass(frozen=True)
class RunQuery:
    """Which runs of a notebook to list: newest first, older than `before` when given."""

    cell_id: str | None = None
    # A username: only this person's runs.
    submitted_by: str | None = None
    before: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class AnsweredInput:
    prompt: str
    password: bool
    value: str | None
    answered_by: dict[str, str] | None
    answered_at: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "password": self.password,
            # Whatever was given, a password's value is never kept.
            "value": None if self.password else self.value,
            "answered_by": self.answered_by,
            "answered_at": self.answered_at,
        }


@dataclass(frozen=True)
class RunRecord:
    """One settled request, or one restore of an earlier run's outputs into its cell."""

    run_id: str
    file_id: str
    cell_id: str
    source: str
    execution_count: int | None
    status: str
    reason: str | None
    submitted_by: dict[str, str]
    submitted_at: float | None
    started_at: float | None
    finished_at: float | None
    # The final outputs (nbformat), or None where a listing left them out.
    outputs: list[dict[str, Any]] | None
    output_count: int
    inputs: list[AnsweredInput] = field(default_factory=list)
    kind: str = RUN
    restored_from: str | None = None

    def summary(self) -> dict[str, Any]:
        """The run as the history's listing gives it: everything but its outputs."""
        entry: dict[str, Any] = {
            "run_id": self.run_id,
            "cell_id": self.cell_id,
            "source": self.source,
            "execution_count": self.execution_count,
            "status": self.status,
            "reason": self.reason,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "output_count": self.output_count,
            "inputs": [answered.to_json() for answered in self.inputs],
            "kind": self.kind,
        }
        if self.restored_from is not None:
            entry["restored_from"] = self.restored_from
        return entry

    def detail(self) -> dict[str, Any]:
        """The run with its outputs."""
        return {**self.summary(), "outputs": self.outputs or []}
