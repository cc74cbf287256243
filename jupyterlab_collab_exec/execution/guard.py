"""Repairing the server's root maps (`collab_exec`, `collab_widgets`) at any time.

Any client can write anything into a Y.Doc; the server's records win. For each guarded root
map of a document, the guard keeps a copy of it as the server last wrote it, taken from the
server's own transactions, and puts that copy back wherever a client changes the map:
added entries go, changed and deleted ones come back. It does so whether the server has
work in the document or not, and for widgets of kernels that are gone.

The one thing clients may write is what the contract lets them: the shared typing of a
pending input's `value` (never a password's).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Text

from ..doc import schema
from ..doc.collab_map import ORIGIN

Path = tuple[str | int, ...]
_MISSING = object()


class _SharedMap(dict[str, Any]):
    """A Y.Map in the copy: restored as a Y.Map, not as a JSON object."""


class _SharedText(str):
    """A Y.Text in the copy."""


class _SharedArray(list[Any]):
    """A Y.Array in the copy."""


def _copy(value: Any) -> Any:
    """What the doc holds, as the copy keeps it. pycrdt reads plain values as new objects."""
    if isinstance(value, Map):
        return _SharedMap({key: _copy(item) for key, item in value.items()})
    if isinstance(value, Text):
        return _SharedText(str(value))
    if isinstance(value, Array):
        return _SharedArray(_copy(item) for item in value)
    return value


def _prelim(value: Any) -> Any:
    """What the copy keeps, as a value to write into the doc."""
    if isinstance(value, _SharedMap):
        return Map({key: _prelim(item) for key, item in value.items()})
    if isinstance(value, _SharedText):
        return Text(str(value))
    if isinstance(value, _SharedArray):
        return Array([_prelim(item) for item in value])
    return copy.deepcopy(value)


def _merge(known: _SharedMap, value: Map[Any]) -> None:
    for key, item in value.items():
        if isinstance(item, Map) and isinstance(known.get(key), _SharedMap):
            _merge(known[key], item)
        else:
            known[key] = _copy(item)


def _child(container: Any, key: str | int) -> Any:
    if isinstance(container, Map | dict):
        return container.get(key, _MISSING) if isinstance(key, str) else _MISSING
    if isinstance(container, Array | list) and isinstance(key, int) and 0 <= key < len(container):
        return container[key]
    return _MISSING


def _at(container: Any, path: Path) -> Any:
    for key in path:
        container = _child(container, key)
        if container is _MISSING:
            break
    return container


def _same(have: Any, want: Any) -> bool:
    if isinstance(want, _SharedMap | _SharedText | _SharedArray):
        return False
    if isinstance(have, Map | Text | Array):
        return False
    return bool(have == want)


def _put_back(container: Map[Any], key: str, want: Any) -> None:
    """Make `container[key]` what the copy holds, writing only what differs."""
    have = container.get(key, _MISSING)
    if want is _MISSING:
        if have is not _MISSING:
            del container[key]
        return
    if isinstance(want, _SharedMap) and isinstance(have, Map):
        for extra in [name for name in have.keys() if name not in want]:  # noqa: SIM118
            del have[extra]
        for name, item in want.items():
            _put_back(have, name, item)
        return
    if isinstance(want, _SharedText) and isinstance(have, Text):
        if str(have) != want:
            del have[:]
            have += str(want)
        return
    if have is _MISSING or not _same(have, want):
        container[key] = _prelim(want)


# Whether a client may make a change: the copy as the server wrote it, the path of the
# change, and what the doc holds there now.
ClientMayWrite = Callable[[Any, Path, Any], bool]


def pending_input_typing(server_copy: Any, path: Path, value: Any) -> bool:
    """`collab_exec`: collaborators type into a pending input's shared value, which stays
    a Y.Text; a password's value stays empty."""
    if len(path) != 3 or path[0] != schema.INPUTS or path[2] != schema.VALUE:
        return False
    entry = _at(server_copy, path[:2])
    return (
        isinstance(value, Text)
        and isinstance(entry, dict)
        and entry.get(schema.STATUS) == "pending"
        and entry.get(schema.PASSWORD) is False
    )


def nothing(server_copy: Any, path: Path, value: Any) -> bool:
    return False


@dataclass
class _Watch:
    notebook: YNotebook
    root: Map[Any]
    subscription: Any
    copy: _SharedMap
    client_may_write: ClientMayWrite
    dirty: set[Path] = field(default_factory=set)


class RootMapGuard:
    """Guards one root map, by name, in every document it is given."""

    def __init__(self, root_name: str, client_may_write: ClientMayWrite = nothing) -> None:
        self._root_name = root_name
        self._client_may_write = client_may_write
        self._watches: dict[str, _Watch] = {}
        self._repairs_due: set[str] = set()

    def watch(self, document_id: str, notebook: YNotebook) -> None:
        """Guard the map of this document from now on, as it is now."""
        watched = self._watches.get(document_id)
        if watched is not None and watched.notebook is notebook:
            return
        self.unwatch(document_id)
        root: Map[Any] = notebook.ydoc.get(self._root_name, type=Map)
        watch = _Watch(
            notebook,
            root,
            None,
            _copy(root),
            self._client_may_write,
        )
        watch.subscription = root.observe_deep(
            lambda events: self._on_change(document_id, watch, events)
        )
        self._watches[document_id] = watch

    def watching(self, document_id: str) -> YNotebook | None:
        watched = self._watches.get(document_id)
        return watched.notebook if watched is not None else None

    def unwatch(self, document_id: str) -> None:
        watched = self._watches.pop(document_id, None)
        if watched is not None:
            watched.root.unobserve(watched.subscription)
            watched.dirty.clear()

    def keep_only(self, live: Callable[[str], YNotebook | None]) -> None:
        """Stop guarding documents whose room is gone (or was reloaded as another doc)."""
        for document_id, watched in list(self._watches.items()):
            if live(document_id) is not watched.notebook:
                self.unwatch(document_id)

    def _on_change(self, document_id: str, watch: _Watch, events: Sequence[Any]) -> None:
        if not events:
            return
        if events[0].transaction.origin == ORIGIN:
            for event in events:
                self._take_server_write(watch, event)
            return
        for path in _changed_paths(events):
            if watch.client_may_write(watch.copy, path, _at(watch.root, path)):
                self._adopt(watch, path)
            else:
                watch.dirty.add(path)
        if watch.dirty and document_id not in self._repairs_due:
            # The doc cannot change inside its own observer: repair right after.
            self._repairs_due.add(document_id)
            asyncio.get_running_loop().call_soon(self._repair, document_id, watch)

    def _take_server_write(self, watch: _Watch, event: Any) -> None:
        """The server wrote: its copy follows."""
        path = tuple(event.path)
        if isinstance(event.target, Text):
            self._adopt(watch, path)
            return
        keys = getattr(event, "keys", None)
        parent = _at(watch.copy, path)
        if not isinstance(keys, dict) or not isinstance(parent, dict):
            # A change inside an array, or where the copy lost track: take the whole part.
            self._adopt(watch, path)
            return
        for key, change in keys.items():
            value = _at(watch.root, (*path, key))
            known = parent.get(key)
            if watch.dirty and isinstance(value, Map) and isinstance(known, _SharedMap):
                # The server wrote into a part that a client deleted, before the repair:
                # what it wrote adds to what it had written there.
                _merge(known, value)
            elif isinstance(change, dict) and change.get("action") == "delete":
                parent.pop(key, None)
            else:
                self._adopt(watch, (*path, key))

    def _adopt(self, watch: _Watch, path: Path) -> None:
        """Copy what the doc holds at a path into the copy, as the server's."""
        if not path:
            watch.copy = _copy(watch.root)
            return
        parent = _at(watch.copy, path[:-1])
        if not isinstance(parent, dict):
            self._adopt(watch, path[:-1])
            return
        value = _at(watch.root, path)
        if value is _MISSING:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = _copy(value)

    def _repair(self, document_id: str, watch: _Watch) -> None:
        self._repairs_due.discard(document_id)
        if self._watches.get(document_id) is not watch:
            return
        dirty, watch.dirty = watch.dirty, set()
        with watch.notebook.ydoc.transaction(origin=ORIGIN):
            for path in _outermost(dirty):
                self._put_back_at(watch, path)

    def _put_back_at(self, watch: _Watch, path: Path) -> None:
        if not path:
            for extra in [name for name in watch.root.keys() if name not in watch.copy]:  # noqa: SIM118
                del watch.root[extra]
            for name, value in watch.copy.items():
                _put_back(watch.root, name, value)
            return
        container = _at(watch.root, path[:-1])
        key = path[-1]
        if not isinstance(container, Map) or not isinstance(key, str):
            # The part that holds it was replaced: put that part back instead.
            self._put_back_at(watch, path[:-1])
            return
        _put_back(container, key, _at(watch.copy, path))

    def close(self) -> None:
        for document_id in list(self._watches):
            self.unwatch(document_id)


def _changed_paths(events: Sequence[Any]) -> set[Path]:
    paths: set[Path] = set()
    for event in events:
        path = tuple(event.path)
        keys = getattr(event, "keys", None)
        if isinstance(event.target, Map) and isinstance(keys, dict) and keys:
            paths.update((*path, key) for key in keys)
        else:
            paths.add(path)
    return paths


def _outermost(paths: set[Path]) -> list[Path]:
    """The paths that no other one contains, shortest first."""
    kept: list[Path] = []
    for path in sorted(paths, key=len):
        if not any(path[: len(other)] == other for other in kept):
            kept.append(path)
    return kept
