"""The ipywidgets models of one kernel, as its IOPub tells them.

Every `jupyter.widget` comm message of the kernel is applied here, whoever caused it: the
kernel's own `comm_open` and `update`, the `echo_update` of what a browser changed, and
`comm_close`. Each model (model.py) keeps its state, and the kernel's time of it.

Nothing here touches a doc or the event loop: the mirror reads what changed and writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kernel.events import CommMessage
from .model import BufferPath, WidgetModel

WIDGET_TARGET = "jupyter.widget"


def _stamp(model: WidgetModel, event: CommMessage) -> bool:
    """Take the message's time when it is later; returns whether it was."""
    if event.kernel_time is None or (
        model.kernel_time is not None and event.kernel_time <= model.kernel_time
    ):
        return False
    model.kernel_time = event.kernel_time
    return True


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
