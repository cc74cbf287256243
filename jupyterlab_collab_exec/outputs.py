"""Output reducer: kernel IOPub messages to the nbformat outputs of one cell.

The outputs it holds are what JupyterLab's OutputAreaModel would hold after the same
messages. Changes accumulate in memory and are written into the cell's shared
`outputs` array by `flush`, so that the caller decides how often the doc changes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Map, Text

OUTPUT_MESSAGE_TYPES = frozenset(
    {"stream", "display_data", "execute_result", "error", "clear_output", "update_display_data"}
)


def utf8_len(text: str) -> int:
    """pycrdt indexes Text by UTF-8 byte offsets."""
    return len(text.encode("utf-8"))


class StreamText:
    """A stream's text with JupyterLab's handling of `\\r`, `\\b` and `\\n`.

    JupyterLab keeps a cursor: characters overwrite at the cursor, `\\r` moves it to the
    start of its line, `\\b` deletes before it (and, as JupyterLab does, the character
    under it), and `\\n` appends a newline at the very end. The cursor therefore never
    leaves the last line, so finished lines are kept as immutable chunks and only the
    last line is edited: the cost is linear in the text written.
    """

    def __init__(self) -> None:
        self.done: list[str] = []
        self.line: list[str] = []
        self.cursor = 0

    def write(self, text: str) -> None:
        start = 0
        length = len(text)
        while start < length:
            end = start
            while end < length and text[end] not in "\n\r\b":
                end += 1
            if end > start:
                self._overwrite(text[start:end])
            if end == length:
                break
            control = text[end]
            if control == "\n":
                self.line.append("\n")
                self.done.append("".join(self.line))
                self.line = []
                self.cursor = 0
            elif control == "\r":
                self.cursor = 0
            elif self.cursor > 0:
                del self.line[self.cursor - 1 : self.cursor + 1]
                self.cursor -= 1
            start = end + 1

    def _overwrite(self, chunk: str) -> None:
        cursor = self.cursor
        if cursor == len(self.line):
            self.line.extend(chunk)
        else:
            self.line[cursor : cursor + len(chunk)] = chunk
        self.cursor = cursor + len(chunk)

    @property
    def text(self) -> str:
        return "".join(self.done) + "".join(self.line)


@dataclass
class _StreamSync:
    """What of a StreamText is already in the shared Text."""

    done_count: int = 0
    prefix_bytes: int = 0
    tail: str = ""


@dataclass
class _Output:
    value: dict[str, Any]
    stream: StreamText | None = None
    sync: _StreamSync = field(default_factory=_StreamSync)
    dirty: bool = True


def output_from_message(msg_type: str, content: dict[str, Any]) -> dict[str, Any]:
    """The nbformat output that JupyterLab's OutputModel.toJSON gives for a message."""
    output = {key: copy.deepcopy(value) for key, value in content.items() if key != "transient"}
    output["output_type"] = "display_data" if msg_type == "update_display_data" else msg_type
    if msg_type in ("display_data", "execute_result", "update_display_data"):
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


class OutputReducer:
    """The outputs of one cell during one execution."""

    def __init__(self) -> None:
        self._outputs: list[_Output] = []
        self._last_stream_name = ""
        self._clear_next = False
        self._needs_reset = True
        self._flushed_count = 0
        self._display_indices: dict[str, list[int]] = {}

    @property
    def has_pending(self) -> bool:
        return self._needs_reset or any(output.dirty for output in self._outputs)

    def add_message(self, msg_type: str, content: dict[str, Any]) -> bool:
        """Apply one IOPub message; returns whether the outputs changed."""
        if msg_type == "clear_output":
            self.clear(wait=bool(content.get("wait", False)))
            return True
        if msg_type == "update_display_data":
            display_id = (content.get("transient") or {}).get("display_id")
            return self.update_display(display_id, output_from_message(msg_type, content))
        if msg_type == "stream":
            self.add_stream(str(content.get("name", "stdout")), _stream_text(content))
            return True
        if msg_type in ("display_data", "execute_result", "error"):
            self.add_output(output_from_message(msg_type, content))
            if msg_type == "display_data":
                display_id = (content.get("transient") or {}).get("display_id")
                if display_id:
                    self._display_indices.setdefault(display_id, []).append(len(self._outputs) - 1)
            return True
        return False

    def add_stream(self, name: str, text: str) -> None:
        self._apply_deferred_clear()
        last = self._outputs[-1] if self._outputs else None
        if last is not None and last.stream is not None and name == self._last_stream_name:
            last.stream.write(text)
            last.dirty = True
            return
        stream = StreamText()
        stream.write(text)
        self._outputs.append(_Output(value={"output_type": "stream", "name": name}, stream=stream))
        self._last_stream_name = name

    def add_output(self, output: dict[str, Any]) -> None:
        self._apply_deferred_clear()
        self._outputs.append(_Output(value=output))
        self._last_stream_name = ""

    def update_display(self, display_id: str | None, output: dict[str, Any]) -> bool:
        if not display_id:
            return False
        indices = self._display_indices.get(display_id, [])
        for index in indices:
            self._outputs[index] = _Output(value=copy.deepcopy(output))
        return bool(indices)

    def clear(self, wait: bool = False) -> None:
        if wait:
            self._clear_next = True
            return
        self._outputs = []
        self._last_stream_name = ""
        self._display_indices = {}
        self._needs_reset = True

    def _apply_deferred_clear(self) -> None:
        if self._clear_next:
            self._clear_next = False
            self.clear()

    def to_json(self) -> list[dict[str, Any]]:
        return [_output_json(output) for output in self._outputs]

    def flush(self, youtputs: Array[Any]) -> None:
        """Bring the shared outputs in line with the reducer, inside the caller's transaction."""
        if self._needs_reset or len(youtputs) != self._flushed_count:
            # First flush of the execution, a clear, or someone else edited the outputs.
            youtputs.clear()
            self._flushed_count = 0
            for output in self._outputs:
                output.dirty = True
                output.sync = _StreamSync()
            self._needs_reset = False
        for index, output in enumerate(self._outputs):
            if not output.dirty:
                continue
            if index >= self._flushed_count:
                youtputs.append(self._new_youtput(output))
                self._flushed_count += 1
            elif output.stream is not None:
                _sync_stream_text(youtputs[index]["text"], output)
            else:
                youtputs[index] = to_youtput(output.value)
            output.dirty = False

    @staticmethod
    def _new_youtput(output: _Output) -> Map[Any]:
        if output.stream is None:
            return to_youtput(output.value)
        stream = output.stream
        text = stream.text
        output.sync = _StreamSync(
            done_count=len(stream.done),
            prefix_bytes=utf8_len(text) - utf8_len("".join(stream.line)),
            tail="".join(stream.line),
        )
        return Map({**output.value, "text": Text(text)})


def _stream_text(content: dict[str, Any]) -> str:
    text = content.get("text", "")
    return text if isinstance(text, str) else "".join(text)


def _output_json(output: _Output) -> dict[str, Any]:
    if output.stream is None:
        return copy.deepcopy(output.value)
    return {**output.value, "text": output.stream.text}


def _common_prefix_length(left: str, right: str) -> int:
    limit = min(len(left), len(right))
    index = 0
    while index < limit and left[index] == right[index]:
        index += 1
    return index


def _sync_stream_text(ytext: Text, output: _Output) -> None:
    """Edit the shared Text minimally: only what follows the already-synced lines changes."""
    stream = output.stream
    assert stream is not None
    sync = output.sync
    new_done = stream.done[sync.done_count :]
    new_tail = "".join(new_done) + "".join(stream.line)
    same = _common_prefix_length(sync.tail, new_tail)
    position = sync.prefix_bytes + utf8_len(sync.tail[:same])
    old_end = sync.prefix_bytes + utf8_len(sync.tail)
    if old_end > position:
        del ytext[position:old_end]
    if same < len(new_tail):
        ytext.insert(position, new_tail[same:])
    sync.prefix_bytes += sum(utf8_len(chunk) for chunk in new_done)
    sync.done_count = len(stream.done)
    sync.tail = "".join(stream.line)
