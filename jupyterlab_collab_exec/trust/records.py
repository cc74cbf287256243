"""What the server wrote into each notebook, as digests: the one source of trust.

Any room member can write anything into a Y.Doc, so a browser trusts a cell's outputs, a
widget model or the saved widget state only when the server confirms that it wrote exactly
that. These records say what it wrote: per cell the recent lists of output digests (a
browser may be a flush or two behind), per widget model the digests of its entry, and the
saved widget state. And what the file brought, the first time the server loaded it (or when
the file changed on disk since): the saved widget state, and the outputs of a notebook whose
signature JupyterLab trusts. Pure: no doc, no kernel, no tornado; the store persists them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

CellVerdict = Literal["trusted", "untrusted", "unknown"]

# How many of the latest versions of a cell's outputs, of a widget model or of the saved
# widget state still count as written: a browser that lags the server by a few flushes
# holds one of them.
RECENT_LISTS = 32
RECENT_MODEL_VERSIONS = 32
RECENT_WIDGET_STATES = 8

Digests = tuple[str | None, ...]


@dataclass
class PersistedRecord:
    """What the store keeps of one notebook: the latest of each."""

    cells: dict[str, Digests] = field(default_factory=dict)
    models: dict[str, str | None] = field(default_factory=dict)
    widget_state: str | None = None
    file: FileContents | None = None


@dataclass(frozen=True)
class FileContents:
    """What the file brought when the server loaded it: its saved widget state, and the
    outputs of each code cell if the notebook's signature is trusted (none otherwise)."""

    widget_state: str | None
    cells: dict[str, Digests]


@dataclass
class RecordChanges:
    """What changed in one notebook's record since the store last saved it."""

    cells: dict[str, Digests] = field(default_factory=dict)
    models: dict[str, str | None] = field(default_factory=dict)
    removed_models: set[str] = field(default_factory=set)
    widget_state: tuple[str | None] | None = None
    file: FileContents | None = None

    def __bool__(self) -> bool:
        return bool(
            self.cells
            or self.models
            or self.removed_models
            or self.widget_state is not None
            or self.file is not None
        )


@dataclass
class _Record:
    cells: dict[str, deque[Digests]] = field(default_factory=dict)
    models: dict[str, deque[str | None]] = field(default_factory=dict)
    removed_models: set[str] = field(default_factory=set)
    # The saved widget states that the server wrote.
    widget_states: deque[str | None] = field(
        default_factory=lambda: deque(maxlen=RECENT_WIDGET_STATES)
    )
    file: FileContents | None = None
    persisted_merged: bool = False
    changes: RecordChanges = field(default_factory=RecordChanges)


class TrustRecords:
    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}

    def _record(self, document_id: str) -> _Record:
        record = self._records.get(document_id)
        if record is None:
            record = self._records[document_id] = _Record()
        return record

    # What the server writes

    def cell_taken(self, document_id: str, cell_id: str) -> None:
        """A request took the cell: its outputs were cleared, and earlier lists no longer
        count."""
        self._set_cell(document_id, cell_id, deque([()], maxlen=RECENT_LISTS))

    def cell_written(self, document_id: str, cell_id: str, digests: Sequence[str | None]) -> None:
        """The server wrote the cell's outputs: these are now its digests."""
        record = self._record(document_id)
        written = tuple(digests)
        recent = record.cells.get(cell_id)
        if recent is None:
            self._set_cell(document_id, cell_id, deque([written], maxlen=RECENT_LISTS))
            return
        if recent[-1] != written:
            recent.append(written)
            record.changes.cells[cell_id] = written

    def _set_cell(self, document_id: str, cell_id: str, recent: deque[Digests]) -> None:
        record = self._record(document_id)
        record.cells[cell_id] = recent
        record.changes.cells[cell_id] = recent[-1]

    def model_written(self, document_id: str, model_id: str, digest: str | None) -> None:
        record = self._record(document_id)
        versions = record.models.get(model_id)
        if versions is None:
            versions = record.models[model_id] = deque(maxlen=RECENT_MODEL_VERSIONS)
        elif versions[-1] == digest:
            return
        versions.append(digest)
        record.removed_models.discard(model_id)
        record.changes.models[model_id] = digest
        record.changes.removed_models.discard(model_id)

    def models_removed(self, document_id: str, model_ids: Iterable[str]) -> None:
        record = self._record(document_id)
        for model_id in model_ids:
            record.models.pop(model_id, None)
            record.removed_models.add(model_id)
            record.changes.models.pop(model_id, None)
            record.changes.removed_models.add(model_id)

    def widget_state_written(self, document_id: str, digest: str | None) -> None:
        """The server wrote the notebook's saved widget state (None: it removed it)."""
        record = self._record(document_id)
        if not record.widget_states or record.widget_states[-1] != digest:
            record.widget_states.append(digest)
        record.changes.widget_state = (digest,)

    def knows_file(self, document_id: str) -> bool:
        """Whether what the file brought is recorded (now, or by an earlier run)."""
        record = self._records.get(document_id)
        return record is not None and record.file is not None

    def file_loaded(self, document_id: str, contents: FileContents) -> None:
        """What the file brought: it stands for the cells and the saved state that the
        server has not written since."""
        record = self._record(document_id)
        record.file = contents
        record.changes.file = contents

    # What the store had

    def needs_persisted(self, document_id: str) -> bool:
        record = self._records.get(document_id)
        return record is None or not record.persisted_merged

    def merge_persisted(self, document_id: str, persisted: PersistedRecord) -> None:
        """Add what the store kept from earlier runs; what was written since wins."""
        record = self._record(document_id)
        if record.persisted_merged:
            return
        record.persisted_merged = True
        for cell_id, digests in persisted.cells.items():
            if cell_id not in record.cells:
                record.cells[cell_id] = deque([digests], maxlen=RECENT_LISTS)
        for model_id, digest in persisted.models.items():
            if model_id not in record.models and model_id not in record.removed_models:
                record.models[model_id] = deque([digest], maxlen=RECENT_MODEL_VERSIONS)
        if not record.widget_states and persisted.widget_state is not None:
            record.widget_states.append(persisted.widget_state)
        if record.file is None:
            record.file = persisted.file

    def take_changes(self) -> dict[str, RecordChanges]:
        """What changed since the last call, per document, for the store."""
        taken = {}
        for document_id, record in self._records.items():
            if record.changes:
                taken[document_id] = record.changes
                record.changes = RecordChanges()
        return taken

    # What browsers ask

    def cell_verdict(self, document_id: str, cell_id: str, digests: Sequence[str]) -> CellVerdict:
        """`trusted` when the outputs are one of the cell's latest lists that the server
        wrote, or, for a cell it never wrote, what a trusted file brought; `untrusted` when
        the server wrote the cell's outputs (or the file brought them) but not these;
        `unknown` when it knows nothing of the cell's outputs."""
        record = self._records.get(document_id)
        if record is None:
            return "unknown"
        recent: Iterable[Digests] | None = record.cells.get(cell_id)
        if recent is None and record.file is not None and cell_id in record.file.cells:
            recent = (record.file.cells[cell_id],)
        if recent is None:
            return "unknown"
        asked = tuple(digests)
        return "trusted" if any(written == asked for written in recent) else "untrusted"

    def model_confirmed(self, document_id: str, model_id: str, digest: str) -> bool:
        """Whether the server wrote this entry of the model, lately."""
        record = self._records.get(document_id)
        versions = record.models.get(model_id) if record is not None else None
        return versions is not None and digest in versions

    def widget_state_confirmed(self, document_id: str, digest: str) -> bool:
        record = self._records.get(document_id)
        if record is None:
            return False
        if record.widget_states:
            return digest in record.widget_states
        return record.file is not None and record.file.widget_state == digest
