"""Room access: the live shared notebook of a collaboration room, kept alive while we work in it.

jupyter_server_ydoc evicts a room `document_cleanup_delay` seconds after its last websocket
closes, and drops any edit that was not saved yet. While the server has queued or running
work for a document it holds a lease: a stand-in channel in the room's client set, so that
eviction is never scheduled. Releasing the last lease saves the notebook and, when no
browser is connected, schedules the eviction that jupyter_server_ydoc would have made.

jupyter_server_ydoc's save waits for a pause in the changes, which a long run never makes,
and after a crash it reloads the cells from the file rather than from its store. So while
a lease is held, the notebook is also saved every `checkpoint_interval` if it changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from jupyter_core.utils import ensure_async
from jupyter_ydoc import YNotebook

from ..common.errors import DocumentNotFound

if TYPE_CHECKING:
    from jupyter_server_ydoc.app import YDocExtension
    from jupyter_server_ydoc.rooms import DocumentRoom

ROOM_READY_TIMEOUT = 30.0


class NotebookRooms(Protocol):
    """What the execution core needs of the rooms: the live notebooks, and giving back
    the lease taken for each request."""

    def live_notebook(self, document_id: str) -> YNotebook | None: ...

    async def release(self, document_id: str, count: int = 1, *, save: bool = True) -> None: ...


class _LeaseChannel:
    """Occupies a place in `room.clients`; updates sent to it go nowhere."""

    def __init__(self, room_id: str) -> None:
        self.path = f"collab-exec-lease/{room_id}"

    async def send(self, message: bytes) -> None:
        return None

    async def recv(self) -> bytes:
        raise RuntimeError("The server's lease channel receives nothing.")

    def __aiter__(self) -> _LeaseChannel:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


@dataclass
class _Held:
    room: DocumentRoom
    notebook: YNotebook
    channel: _LeaseChannel
    count: int = 0
    checkpoints: asyncio.Task[None] | None = None


def notebook_room_id(file_id: str) -> str:
    """The room id of a notebook's file id, as jupyter-collaboration names it."""
    return f"json:notebook:{file_id}"


def parse_notebook_room_id(document_id: str) -> str:
    """The file id of a notebook room id such as `json:notebook:<file id>`."""
    parts = document_id.split(":", 2)
    if len(parts) != 3 or parts[0] != "json" or parts[1] != "notebook" or not parts[2]:
        raise DocumentNotFound(f"Unknown document {document_id!r}: not a notebook room id.")
    try:
        # The file id database takes UTF-8 only; a lone surrogate names no file.
        parts[2].encode("utf-8")
    except UnicodeEncodeError:
        raise DocumentNotFound(f"Unknown document {document_id!r}: no such file.") from None
    return parts[2]


class RoomAccess:
    def __init__(
        self,
        ydoc_extension: YDocExtension,
        log: logging.Logger,
        *,
        checkpoint_interval: float = 0.0,
    ) -> None:
        self._ydoc = ydoc_extension
        self._log = log
        self._checkpoint_interval = checkpoint_interval
        self._held: dict[str, _Held] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def _lock(self, document_id: str) -> asyncio.Lock:
        return self._locks.setdefault(document_id, asyncio.Lock())

    def _live_room(self, document_id: str) -> Any:
        return self._ydoc.ywebsocket_server.rooms.get(document_id)

    def live_notebook(self, document_id: str) -> YNotebook | None:
        """The notebook of a room that is loaded now, without reopening an evicted one."""
        room = self._live_room(document_id)
        if room is None or not room.ready:
            return None
        document = room._document
        return document if isinstance(document, YNotebook) else None

    def check_known(self, document_id: str) -> None:
        """Raise DocumentNotFound unless the id names an existing notebook."""
        file_id = parse_notebook_room_id(document_id)
        file_id_manager = self._ydoc.serverapp.web_app.settings.get("file_id_manager")
        if file_id_manager is None or file_id_manager.get_path(file_id) is None:
            raise DocumentNotFound(f"Unknown document {document_id!r}: no such file.")

    async def read_file(self, document_id: str) -> dict[str, Any] | None:
        """The notebook's file, as the contents manager loads it (its cells marked trusted
        as the notary judges its signature); None if it cannot be read."""
        file_id = parse_notebook_room_id(document_id)
        serverapp = self._ydoc.serverapp
        file_id_manager = serverapp.web_app.settings.get("file_id_manager")
        path = file_id_manager.get_path(file_id) if file_id_manager is not None else None
        if path is None:
            return None
        try:
            model = await ensure_async(
                serverapp.contents_manager.get(path, content=True, type="notebook")
            )
        except Exception:
            self._log.warning("Could not read %s to see what it brings", path, exc_info=True)
            return None
        content = model.get("content")
        return content if isinstance(content, dict) else None

    async def open(self, document_id: str) -> YNotebook:
        """The live notebook of a room, reopened from disk if it was evicted."""
        held = self._held.get(document_id)
        if held is not None and self._live_room(document_id) is held.room:
            return held.notebook
        self.check_known(document_id)
        try:
            document = await self._ydoc.get_document(room_id=document_id, copy=False, create=True)
        except Exception as error:
            raise DocumentNotFound(f"Unknown document {document_id!r}: {error}") from error
        room = self._live_room(document_id)
        if not isinstance(document, YNotebook) or room is None:
            raise DocumentNotFound(f"Unknown document {document_id!r}: not a notebook.")
        await asyncio.wait_for(room.ready_event.wait(), ROOM_READY_TIMEOUT)
        return document

    async def acquire(self, document_id: str, count: int = 1) -> YNotebook:
        """Open the notebook and keep its room alive until `count` matching releases."""
        async with self._lock(document_id):
            notebook = await self.open(document_id)
            room = self._live_room(document_id)
            held = self._held.get(document_id)
            if held is None or held.room is not room:
                if held is not None and held.checkpoints is not None:
                    held.checkpoints.cancel()
                held = _Held(room=room, notebook=notebook, channel=_LeaseChannel(document_id))
                self._held[document_id] = held
                if self._checkpoint_interval > 0:
                    held.checkpoints = asyncio.ensure_future(self._checkpoint(held))
            held.count += count
            if held.channel not in room.clients:
                room.clients.add(held.channel)
            cleaner = room.cleaner
            if cleaner is not None and not cleaner.done():
                cleaner.cancel()
            return notebook

    async def release(self, document_id: str, count: int = 1, *, save: bool = True) -> None:
        """Give back leases; the last one saves the notebook, unless `save` is False (for
        work that was turned away before it changed anything)."""
        async with self._lock(document_id):
            held = self._held.get(document_id)
            if held is None:
                return
            held.count -= count
            if held.count > 0:
                return
            del self._held[document_id]
            if held.checkpoints is not None:
                held.checkpoints.cancel()
            room = held.room
            room.clients.discard(held.channel)
            if save:
                await self._save(room)
            if not room.clients and self._live_room(document_id) is room:
                room.cleaner = asyncio.create_task(self._evict_later(document_id, room))

    async def _save(self, room: DocumentRoom) -> None:
        # The room's own save is debounced and is cancelled on eviction: save now instead.
        try:
            saving = room._save_to_disc()
            if saving is not None:
                await saving
        except Exception:
            self._log.exception("Saving %s failed", room.room_id)

    async def _checkpoint(self, held: _Held) -> None:
        """Save the held notebook every interval in which it changed."""
        saved_state = held.notebook.ydoc.get_state()
        while True:
            await asyncio.sleep(self._checkpoint_interval)
            if held.notebook.ydoc.get_state() != saved_state:
                await self._save(held.room)
                # A save writes `state.dirty` and `state.hash` into the document: count
                # them as saved, or every interval would save (and change the doc) again.
                saved_state = held.notebook.ydoc.get_state()

    async def _evict_later(self, document_id: str, room: DocumentRoom) -> None:
        delay = self._ydoc.document_cleanup_delay
        if delay is None:
            return
        await asyncio.sleep(delay)
        async with self._ydoc._room_locks[document_id]:
            if (
                room.clients
                or document_id in self._held
                or self._live_room(document_id) is not room
            ):
                return
            self._log.info("Evicting room %s after its work finished", document_id)
            await self._ydoc.ywebsocket_server.delete_room(room=room)
            file_id = parse_notebook_room_id(document_id)
            loaders = self._ydoc.file_loaders
            if file_id in loaders and loaders[file_id].number_of_subscriptions == 0:
                await loaders.remove(file_id)

    async def close(self) -> None:
        """Save every held room; used at server shutdown."""
        for held in list(self._held.values()):
            if held.checkpoints is not None:
                held.checkpoints.cancel()
            with contextlib.suppress(Exception):
                await self._save(held.room)
