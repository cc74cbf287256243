"""Stream text as JupyterLab's output area edits it, and its minimal sync into a shared Text.

JupyterLab counts stream text in UTF-16 code units and handles `\\r`, `\\b` and `\\n` with a
cursor; pycrdt indexes a Text by UTF-8 bytes. The helpers here translate between the three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pycrdt import Text

_CONTROL = re.compile("[\n\r\b]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def to_utf16_units(text: str) -> str:
    """JupyterLab edits stream text in UTF-16 code units: split astral characters into
    their surrogate pairs so that overwriting and backspacing count the same way."""
    if not _ASTRAL.search(text):
        return text
    return _ASTRAL.sub(lambda match: _surrogate_pair(match.group()), text)


def _surrogate_pair(char: str) -> str:
    code = ord(char) - 0x10000
    return chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF))


def from_utf16_units(units: str) -> str:
    """Join surrogate pairs back; a lone one becomes U+FFFD, as Yjs encodes it."""
    if not _SURROGATE.search(units):
        return units
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def utf8_len(text: str) -> int:
    """pycrdt indexes Text by UTF-8 byte offsets."""
    return len(text.encode("utf-8"))


class StreamText:
    """A stream's text with JupyterLab's handling of `\\r`, `\\b` and `\\n`.

    JupyterLab keeps a cursor: characters overwrite at the cursor, `\\r` moves it to the
    start of its line, `\\b` deletes before it (and, as JupyterLab does, the character
    under it), and `\\n` appends a newline at the very end. The cursor therefore never
    leaves the last line, so finished lines are kept as immutable chunks and only the
    last line is edited: the cost is linear in the text written. Like JupyterLab, it
    counts in UTF-16 code units; `text` gives ordinary characters.
    """

    def __init__(self) -> None:
        self.done: list[str] = []
        self.done_length = 0
        self.line: list[str] = []
        self.cursor = 0

    def __len__(self) -> int:
        return self.done_length + len(self.line)

    def write(self, text: str) -> None:
        text = to_utf16_units(text)
        if "\r" not in text and "\b" not in text and self.cursor == len(self.line):
            self._append(text)
            return
        start = 0
        for match in _CONTROL.finditer(text):
            end = match.start()
            if end > start:
                self._overwrite(text[start:end])
            control = match.group()
            if control == "\n":
                self._end_line()
            elif control == "\r":
                self.cursor = 0
            elif self.cursor > 0:
                del self.line[self.cursor - 1 : self.cursor + 1]
                self.cursor -= 1
            start = end + 1
        if start < len(text):
            self._overwrite(text[start:])

    def _append(self, text: str) -> None:
        """The common case: no overwriting, the cursor at the end."""
        lines = text.split("\n")
        if len(lines) == 1:
            self.line.extend(text)
            self.cursor = len(self.line)
            return
        first = "".join(self.line) + lines[0] + "\n"
        self.done.append(first)
        self.done_length += len(first)
        for middle in lines[1:-1]:
            self.done.append(middle + "\n")
            self.done_length += len(middle) + 1
        self.line = list(lines[-1])
        self.cursor = len(self.line)

    def _end_line(self) -> None:
        self.line.append("\n")
        chunk = "".join(self.line)
        self.done.append(chunk)
        self.done_length += len(chunk)
        self.line = []
        self.cursor = 0

    def _overwrite(self, chunk: str) -> None:
        cursor = self.cursor
        if cursor == len(self.line):
            self.line.extend(chunk)
        else:
            self.line[cursor : cursor + len(chunk)] = chunk
        self.cursor = cursor + len(chunk)

    @property
    def text(self) -> str:
        return from_utf16_units("".join(self.done) + "".join(self.line))

    @property
    def tail(self) -> str:
        """The text of the last, still editable, line."""
        return from_utf16_units("".join(self.line))


@dataclass
class StreamSync:
    """What of a StreamText is already in the shared Text."""

    done_count: int = 0
    prefix_bytes: int = 0
    tail: str = ""

    @staticmethod
    def initial_text(stream: StreamText) -> tuple[StreamSync, str]:
        """The text of a new shared Text for a stream, and what it holds in sync."""
        done = from_utf16_units("".join(stream.done))
        tail = stream.tail
        return StreamSync(len(stream.done), utf8_len(done), tail), done + tail

    def update(self, ytext: Text, stream: StreamText) -> None:
        """Edit the shared Text minimally: only what follows the synced lines changes."""
        new_done = from_utf16_units("".join(stream.done[self.done_count :]))
        tail = stream.tail
        new_tail = new_done + tail
        same = _common_prefix_length(self.tail, new_tail)
        position = self.prefix_bytes + utf8_len(self.tail[:same])
        old_end = self.prefix_bytes + utf8_len(self.tail)
        if old_end > position:
            del ytext[position:old_end]
        if same < len(new_tail):
            ytext.insert(position, new_tail[same:])
        self.prefix_bytes += utf8_len(new_done)
        self.done_count = len(stream.done)
        self.tail = tail


def _common_prefix_length(left: str, right: str) -> int:
    limit = min(len(left), len(right))
    index = 0
    while index < limit and left[index] == right[index]:
        index += 1
    return index
