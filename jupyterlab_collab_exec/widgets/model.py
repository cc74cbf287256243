"""One ipywidgets model as the server holds it: its JSON state, its binary values as bytes
under the path that the widget protocol gives them (replaced whole per state key), and the
forms it takes in the doc (`collab_widgets`, large values by reference), in the file (the
widget-state format) and in the digests that browsers check.

Pure: no doc, no event loop.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..trust.digests import json_digest, widget_entry_digest
from .blobs import INLINE, BufferForm, digested_payload, referenced_digest

MODEL_REFERENCE = "IPY_MODEL_"
OUTPUT_MODEL_NAME = "OutputModel"
OUTPUT_MODEL_MODULE = "@jupyter-widgets/output"

BufferPath = tuple[str | int, ...]

_ABSENT = object()


@dataclass
class WidgetModel:
    model_id: str
    model_name: str
    model_module: str
    model_module_version: str
    state: dict[str, Any]
    buffers: dict[BufferPath, bytes] = field(default_factory=dict)
    live: bool = True
    # Closed by the kernel (a `comm_close`), rather than left behind by a kernel that went.
    closed: bool = False
    # The header date of the kernel's last message applied, in microseconds since the epoch:
    # a browser drops the kernel's updates that are older than the state it took from the
    # doc (src/widgets/kernelUpdates.ts).
    kernel_time: int | None = None
    _key_sizes: dict[str, int] = field(default_factory=dict, repr=False)
    # The digest of each state value and buffer as the doc holds it, once asked; a change
    # forgets those it touches (trust.digests).
    _state_digests: dict[str, str | None] = field(default_factory=dict, repr=False)
    _buffer_digests: dict[BufferPath, str | None] = field(default_factory=dict, repr=False)
    # Each buffer as the doc holds it (`encoding`, `data`), once asked.
    _buffer_forms: dict[BufferPath, dict[str, Any]] = field(default_factory=dict, repr=False)

    @property
    def is_output(self) -> bool:
        return self.model_name == OUTPUT_MODEL_NAME and self.model_module == OUTPUT_MODEL_MODULE

    @property
    def size(self) -> int:
        """About how many bytes the model takes: its JSON state and its buffers."""
        return sum(self._key_sizes.values())

    def apply(
        self,
        state: dict[str, Any],
        buffer_paths: list[BufferPath],
        buffers: list[bytes],
        room: int | None = None,
    ) -> tuple[set[str], int] | None:
        """Merge a state update; returns the keys it changed and how many bytes the model
        grew by. With `room`, an update that would grow it by more is left out (None)."""
        placed = [(path, data) for path, data in zip(buffer_paths, buffers, strict=False) if path]
        touched = set(state) | {str(path[0]) for path, _ in placed}
        sizes = {
            key: _json_size(state[key] if key in state else self.state.get(key)) for key in touched
        }
        for path, data in placed:
            sizes[str(path[0])] += len(data)
        growth = sum(sizes.values()) - sum(self._key_sizes.get(key, 0) for key in touched)
        if room is not None and growth > room:
            return None
        changed = {key for key, value in state.items() if self.state.get(key, _ABSENT) != value}
        for path in [path for path in self.buffers if str(path[0]) in touched]:
            del self.buffers[path]
            self._buffer_digests.pop(path, None)
            self._buffer_forms.pop(path, None)
        self.state.update(state)
        for key in touched:
            self._state_digests.pop(key, None)
        for path, data in placed:
            self.buffers[path] = data
            self._buffer_digests.pop(path, None)
            self._buffer_forms.pop(path, None)
            changed.add(str(path[0]))
        self._key_sizes.update(sizes)
        return changed, growth

    def entry_digest(self, form: BufferForm = INLINE) -> str | None:
        """The digest of the model's entry in `collab_widgets` as the doc holds it."""
        for key, value in self.state.items():
            if key not in self._state_digests:
                self._state_digests[key] = json_digest(plain_json(value))
        forms = self._forms(form)
        for path in self.buffers:
            if path not in self._buffer_digests:
                self._buffer_digests[path] = json_digest(digested_payload(forms[path]))
        return widget_entry_digest(
            self.model_name,
            self.model_module,
            self.model_module_version,
            {key: self._state_digests[key] for key in self.state},
            kernel_time=self.kernel_time,
            buffer_digests=[
                (list(path), str(forms[path]["encoding"]), self._buffer_digests[path])
                for path in self.buffers
            ],
        )

    def _forms(self, form: BufferForm) -> dict[BufferPath, dict[str, Any]]:
        for path, data in self.buffers.items():
            if path not in self._buffer_forms:
                self._buffer_forms[path] = form.of(data)
        return self._buffer_forms

    def doc_buffers(self, form: BufferForm) -> list[dict[str, Any]]:
        """The buffers as the doc holds them: large ones by reference (blobs.py)."""
        forms = self._forms(form)
        return [{"path": list(path), **forms[path]} for path in self.buffers]

    def blobs(self, form: BufferForm, keys: set[str] | None = None) -> list[tuple[str, bytes]]:
        """The buffers that the doc names by their digest (of the given state keys, or of
        all), with their bytes."""
        forms = self._forms(form)
        named = []
        for path, data in self.buffers.items():
            digest = referenced_digest(forms[path])
            if digest is not None and (keys is None or str(path[0]) in keys):
                named.append((digest, data))
        return named

    def references(self) -> set[str]:
        """The models that this one's state names (`IPY_MODEL_<id>`)."""
        return set(_referenced_ids(self.state))

    def buffers_json(self) -> list[dict[str, Any]]:
        """Every buffer in base64, as the widget-state format of the file holds them."""
        return [
            {"path": list(path), "encoding": "base64", "data": _base64(data)}
            for path, data in self.buffers.items()
        ]

    @classmethod
    def from_state_entry(cls, model_id: str, entry: dict[str, Any]) -> WidgetModel | None:
        """A model saved in the widget-state format, frozen; None if it is malformed."""
        state = entry.get("state")
        if not isinstance(state, dict):
            return None
        model = cls(
            model_id=model_id,
            model_name=str(entry.get("model_name", "")),
            model_module=str(entry.get("model_module", "")),
            model_module_version=str(entry.get("model_module_version", "")),
            state={},
            live=False,
        )
        paths: list[BufferPath] = []
        buffers: list[bytes] = []
        for buffer in entry.get("buffers") or ():
            if not isinstance(buffer, dict) or not isinstance(buffer.get("path"), list):
                continue
            try:
                data = str(buffer.get("data", ""))
                decoded = (
                    bytes.fromhex(data)
                    if buffer.get("encoding") == "hex"
                    else base64.b64decode(data)
                )
            except ValueError:
                continue
            paths.append(tuple(buffer["path"]))
            buffers.append(decoded)
        model.apply(state, paths, buffers)
        return model

    def to_state_entry(self) -> dict[str, Any]:
        """The model as the widget-state format (version 2) stores it."""
        entry: dict[str, Any] = {
            "model_name": self.model_name,
            "model_module": self.model_module,
            "model_module_version": self.model_module_version,
            "state": plain_json(self.state),
        }
        if self.buffers:
            entry["buffers"] = self.buffers_json()
        return entry


def plain_json(value: Any) -> Any:
    """A value as JSON holds it: what a Y.Map stores of it."""
    return json.loads(json.dumps(value, default=str))


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str))


def _referenced_ids(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if value.startswith(MODEL_REFERENCE):
            yield value[len(MODEL_REFERENCE) :]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _referenced_ids(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _referenced_ids(item)
