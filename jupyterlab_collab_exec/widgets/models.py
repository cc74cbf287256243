"""The ipywidgets models of one kernel, as its IOPub tells them.

Every `jupyter.widget` comm message of the kernel is applied here, whoever caused it: the
kernel's own `comm_open` and `update`, the `echo_update` of what a browser changed, and
`comm_close`. Binary values are kept as bytes, apart from the JSON state, under the path
that the widget protocol gives them, and are replaced whole per state key.

Nothing here touches a doc or the event loop: the mirror reads what changed and writes it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..kernel.events import CommMessage
from ..trust.digests import json_digest, widget_entry_digest
from .blobs import INLINE, BufferForm, digested_payload, referenced_digest

WIDGET_TARGET = "jupyter.widget"
MODEL_REFERENCE = "IPY_MODEL_"
OUTPUT_MODEL_NAME = "OutputModel"
OUTPUT_MODEL_MODULE = "@jupyter-widgets/output"

BufferPath = tuple[str | int, ...]


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


_ABSENT = object()


def _stamp(model: WidgetModel, event: CommMessage) -> bool:
    """Take the message's time when it is later; returns whether it was."""
    if event.kernel_time is None or (
        model.kernel_time is not None and event.kernel_time <= model.kernel_time
    ):
        return False
    model.kernel_time = event.kernel_time
    return True


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


def _buffer_paths(data: dict[str, Any]) -> list[BufferPath]:
    paths = data.get("buffer_paths")
    if not isinstance(paths, list):
        return []
    return [
        tuple(part for part in path if isinstance(part, str | int))
        for path in paths
        if isinstance(path, list)
    ]


@dataclass
class Change:
    """What one comm message changed: the keys of each model, and which models are new,
    closed or no longer captured into."""

    keys: dict[str, set[str]] = field(default_factory=dict)
    whole: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.keys or self.whole)


class KernelWidgets:
    """The models of one kernel, and the Output widgets capturing output now."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self.session: str | None = None
        self.models: dict[str, WidgetModel] = {}
        self._max_bytes = max_bytes
        # Output models whose `msg_id` is set, in the order it was set: the last one for
        # a request captures its output, as the last message hook registered does.
        self._capturing: list[str] = []
        self.capped = False
        # The sum of the live models' sizes, kept as they change: it is checked on every
        # update. Models that are not live stay only while a view shows them.
        self.size = 0

    def apply(self, event: CommMessage) -> Change:
        """One comm message of the kernel; returns what changed."""
        change = Change()
        if event.session and event.session != self.session:
            if self.session is not None:
                # Another kernel process: the models of the one before are gone with it.
                change.whole |= self.freeze()
            self.session = event.session
        if event.msg_type == "comm_open":
            if event.target_name == WIDGET_TARGET:
                self._open(event, change)
            return change
        model = self.models.get(event.comm_id)
        if model is None:
            return change
        if event.msg_type == "comm_close":
            if model.live:
                self.size -= model.size
                self.capped = False
                model.live = False
                model.closed = True
                self._stop_capturing(model.model_id)
                change.whole.add(model.model_id)
            return change
        method = event.data.get("method")
        state = event.data.get("state")
        if (
            method in ("update", "echo_update")
            and isinstance(state, dict)
            and self._update(model, state, _buffer_paths(event.data), list(event.buffers), change)
            and _stamp(model, event)
        ):
            # A later time is written even when the state stayed the same.
            change.keys.setdefault(model.model_id, set())
        return change

    def _open(self, event: CommMessage, change: Change) -> None:
        state = event.data.get("state")
        if not isinstance(state, dict):
            return
        model = WidgetModel(
            model_id=event.comm_id,
            model_name=str(state.get("_model_name", "")),
            model_module=str(state.get("_model_module", "")),
            model_module_version=str(state.get("_model_module_version", "")),
            state={},
        )
        previous = self.models.get(model.model_id)
        freed = previous.size if previous is not None and previous.live else 0
        applied = model.apply(
            state, _buffer_paths(event.data), list(event.buffers), self._room(freed)
        )
        if applied is None:
            self.capped = True
            return
        if previous is not None:
            self._stop_capturing(previous.model_id)
        self.size += applied[1] - freed
        self.models[model.model_id] = model
        _stamp(model, event)
        change.whole.add(model.model_id)
        self._follow_capture(model)

    def _update(
        self,
        model: WidgetModel,
        state: dict[str, Any],
        buffer_paths: list[BufferPath],
        buffers: list[bytes],
        change: Change,
    ) -> bool:
        applied = model.apply(state, buffer_paths, buffers, self._room())
        if applied is None:
            self.capped = True
            return False
        keys, growth = applied
        if model.live:
            self.size += growth
        if keys:
            change.keys.setdefault(model.model_id, set()).update(keys)
        if "msg_id" in keys:
            self._follow_capture(model)
        return True

    def _room(self, freed: int = 0) -> int | None:
        """How many more bytes the models may take, under the cap."""
        return None if self._max_bytes is None else self._max_bytes - self.size + freed

    def _follow_capture(self, model: WidgetModel) -> None:
        if not model.is_output:
            return
        self._stop_capturing(model.model_id)
        if model.live and model.state.get("msg_id"):
            self._capturing.append(model.model_id)

    def _stop_capturing(self, model_id: str) -> None:
        if model_id in self._capturing:
            self._capturing.remove(model_id)

    def capturing(self, parent_id: str) -> WidgetModel | None:
        """The Output widget that output of a request goes to now, if any."""
        for model_id in reversed(self._capturing):
            model = self.models.get(model_id)
            if model is not None and model.state.get("msg_id") == parent_id:
                return model
        return None

    def set_outputs(self, model: WidgetModel, outputs: list[dict[str, Any]]) -> None:
        """The outputs that the server captured into an Output widget (the output cap,
        not the widget cap, bounds them)."""
        applied = model.apply({"outputs": outputs}, [], [])
        if applied is not None and model.live:
            self.size += applied[1]

    def freeze(self) -> set[str]:
        """The kernel process is gone: its models stay, frozen. Returns those that froze."""
        frozen = {model_id for model_id, model in self.models.items() if model.live}
        for model_id in frozen:
            self.models[model_id].live = False
        self._capturing.clear()
        self.size = 0
        self.capped = False
        return frozen

    def prune(self, needed: set[str]) -> set[str]:
        """Forget the models that are neither live nor needed; returns them."""
        gone = {
            model_id
            for model_id, model in self.models.items()
            if not model.live and model_id not in needed
        }
        for model_id in gone:
            del self.models[model_id]
        return gone
