"""Output reducer: kernel IOPub messages to the nbformat outputs of one cell.

The outputs it holds are what JupyterLab's OutputAreaModel would hold after the same
messages. Changes accumulate in memory and are written into the cell's shared `outputs`
array by `flush`, so that the caller decides how often the doc changes.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Map, Text

from ..trust.digests import output_digest
from .stream_text import StreamSync, StreamText

DISPLAY_MESSAGE_TYPES = frozenset({"display_data", "update_display_data", "execute_result"})


def display_id_of(content: dict[str, Any]) -> str | None:
    transient = content.get("transient")
    if isinstance(transient, dict):
        display_id = transient.get("display_id")
        if isinstance(display_id, str) and display_id:
            return display_id
    return None


_UNKNOWN = "?"


@dataclass
class _Output:
    value: dict[str, Any]
    stream: StreamText | None = None
    sync: StreamSync = field(default_factory=StreamSync)
    dirty: bool = True
    size: int = 0
    # Its digest, once asked: the value of an output never changes (an update replaces it),
    # and a stream's digest leaves its text out.
    _digest: str | None = _UNKNOWN

    def digest(self) -> str | None:
        if self._digest == _UNKNOWN:
            self._digest = output_digest(self.value)
        return self._digest


def output_from_message(msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The nbformat output that JupyterLab's OutputModel.toJSON gives for a message."""
    output = {key: copy.deepcopy(value) for key, value in content.items() if key != "transient"}
    output["output_type"] = "display_data" if msg_type == "update_display_data" else msg_type
    if msg_type in DISPLAY_MESSAGE_TYPES:
        output.setdefault("data", {})
        output.setdefault("metadata", {})
    return output


def to_youtput(output: dict[str, Any]) -> Map[Any]:
    """A shared output, as @jupyter/ydoc and jupyter_ydoc build it."""
    value = dict(output)
    if value.get("output_type") == "stream":
        text = value.get("text", "")
        value["text"] = Text(text if isinstance(text, str) else "".join(text))
    return Map(value)


def truncation_notice(max_bytes: int) -> dict[str, Any]:
    megabytes = max_bytes / (1024 * 1024)
    return {
        "output_type": "stream",
        "name": "stderr",
        "text": (
            f"[collab-exec] Output truncated: this cell's output reached the limit of "
            f"{megabytes:g} MiB (CollabExecApp.max_output_bytes); what followed was dropped.\n"
        ),
    }


def _json_size(value: dict[str, Any]) -> int:
    return len(json.dumps(value, default=str))


class OutputReducer:
    """The outputs of one cell during and after one execution."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self._max_bytes = max_bytes
        self._outputs: list[_Output] = []
        self._last_stream_name = ""
        self._clear_next = False
        self._needs_reset = True
        self._flushed_count = 0
        self._display_indices: dict[str, list[int]] = {}
        self._size = 0
        self.truncated = False

    @property
    def drops_streams(self) -> bool:
        """Whether `add_stream` would drop its text unseen: past the cap, with no deferred
        clear to start afresh."""
        return self.truncated and not self._clear_next

    @property
    def has_pending(self) -> bool:
        return self._needs_reset or any(output.dirty for output in self._outputs)

    def add_message(self, msg_type: str, content: dict[str, Any]) -> bool:
        """Apply one IOPub message of this execution; returns whether the outputs changed."""
        if msg_type == "clear_output":
            self.clear(wait=bool(content.get("wait", False)))
            return True
        if msg_type == "update_display_data":
            return self.update_display(
                display_id_of(content), output_from_message(msg_type, content)
            )
        if msg_type == "stream":
            return self.add_stream(str(content.get("name", "stdout")), _stream_text(content))
        if msg_type in ("display_data", "execute_result", "error"):
            added = self.add_output(output_from_message(msg_type, content))
            display_id = display_id_of(content)
            if added and msg_type == "display_data" and display_id:
                self._display_indices.setdefault(display_id, []).append(len(self._outputs) - 1)
            return added
        return False

    def add_stream(self, name: str, text: str) -> bool:
        self._apply_deferred_clear()
        if self.truncated:
            return False
        text, over_budget = self._within_budget(text)
        last = self._outputs[-1] if self._outputs else None
        if last is not None and last.stream is not None and name == self._last_stream_name:
            stream = last.stream
            before = len(stream)
            stream.write(text)
            self._grow(last, len(stream) - before)
            last.dirty = True
        else:
            stream = StreamText()
            stream.write(text)
            output = _Output(value={"output_type": "stream", "name": name}, stream=stream)
            self._outputs.append(output)
            self._grow(output, len(stream))
            self._last_stream_name = name
        if over_budget:
            self._truncate()
        return True

    def add_output(self, value: dict[str, Any]) -> bool:
        self._apply_deferred_clear()
        if self.truncated:
            return False
        size = _json_size(value)
        if self._max_bytes is not None and self._size + size > self._max_bytes:
            self._truncate()
            return True
        output = _Output(value=value)
        self._outputs.append(output)
        self._grow(output, size)
        self._last_stream_name = ""
        return True

    def update_display(self, display_id: str | None, value: dict[str, Any]) -> bool:
        """Replace every output of this cell shown with a display id, as JupyterLab does."""
        if not display_id:
            return False
        indices = self._display_indices.get(display_id, [])
        for index in indices:
            old = self._outputs[index]
            replacement = _Output(value=copy.deepcopy(value))
            self._outputs[index] = replacement
            self._size -= old.size
            self._grow(replacement, _json_size(value))
        return bool(indices)

    def clear(self, wait: bool = False) -> None:
        self._last_stream_name = ""
        if wait:
            self._clear_next = True
            return
        self._outputs = []
        self._display_indices = {}
        self._size = 0
        self.truncated = False
        self._needs_reset = True

    def _apply_deferred_clear(self) -> None:
        if self._clear_next:
            self._clear_next = False
            self.clear()

    def _within_budget(self, text: str) -> tuple[str, bool]:
        """What of a stream's text fits under the cap, and whether some did not."""
        if self._max_bytes is None or self._size + len(text) <= self._max_bytes:
            return text, False
        allowed = max(0, self._max_bytes - self._size)
        return text[:allowed], True

    def _truncate(self) -> None:
        """Show, once, that output was dropped; the notice is not counted against the cap."""
        if self.truncated:
            return
        assert self._max_bytes is not None
        self.truncated = True
        notice = truncation_notice(self._max_bytes)
        stream = StreamText()
        stream.write(notice["text"])
        self._outputs.append(
            _Output(value={"output_type": "stream", "name": "stderr"}, stream=stream)
        )
        self._last_stream_name = ""

    def _grow(self, output: _Output, delta: int) -> None:
        output.size += delta
        self._size += delta

    def to_json(self) -> list[dict[str, Any]]:
        return [_output_json(output) for output in self._outputs]

    def outputs(self) -> list[dict[str, Any]]:
        """The outputs as the cell shows them, in nbformat."""
        return [
            {**output.value, "text": output.stream.text}
            if output.stream is not None
            else copy.deepcopy(output.value)
            for output in self._outputs
        ]

    def digests(self) -> list[str | None]:
        """The digest of each output, as browsers compute them (trust.digests)."""
        return [output.digest() for output in self._outputs]

    def flush(self, youtputs: Array[Any]) -> None:
        """Bring the shared outputs in line with the reducer, inside the caller's transaction."""
        if not self._needs_reset and len(youtputs) != self._flushed_count:
            self._adopt_external_clear()
        if self._needs_reset:
            if len(youtputs):
                youtputs.clear()
            self._flushed_count = 0
            for output in self._outputs:
                output.dirty = True
                output.sync = StreamSync()
            self._needs_reset = False
        for index, output in enumerate(self._outputs):
            if not output.dirty:
                continue
            if index >= self._flushed_count:
                youtputs.append(self._new_youtput(output))
                self._flushed_count += 1
            elif output.stream is not None:
                output.sync.update(youtputs[index]["text"], output.stream)
            else:
                youtputs[index] = to_youtput(output.value)
            output.dirty = False

    def _adopt_external_clear(self) -> None:
        """Someone else changed the outputs (for example cleared them in their browser):
        keep only what they never saw, and start new outputs after theirs, as JupyterLab's
        model does after a clear."""
        unseen = self._outputs[self._flushed_count :]
        self._outputs = unseen
        self._size = sum(output.size for output in unseen)
        self._display_indices = {}
        self._last_stream_name = ""
        self._needs_reset = True

    @staticmethod
    def _new_youtput(output: _Output) -> Map[Any]:
        if output.stream is None:
            return to_youtput(output.value)
        output.sync, text = StreamSync.initial_text(output.stream)
        return Map({**output.value, "text": Text(text)})


def _stream_text(content: dict[str, Any]) -> str:
    text = content.get("text", "")
    return text if isinstance(text, str) else "".join(text)


def _output_json(output: _Output) -> dict[str, Any]:
    if output.stream is None:
        return copy.deepcopy(output.value)
    return {**output.value, "text": output.stream.text}
