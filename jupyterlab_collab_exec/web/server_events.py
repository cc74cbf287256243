"""Subscriptions: jupyter_server's kernel actions and jupyter_server_ydoc's room events,
passed on to the execution service."""

from __future__ import annotations

import logging
from typing import Any

from ..doc.rooms import RoomAccess
from ..execution.service import ExecutionService

KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
COLLABORATION_SCHEMA = "https://schema.jupyter.org/jupyter_collaboration/session/v1"
# jupyter_server_ydoc's message when it loads a file that differs from its YStore.
OUT_OF_SYNC_MESSAGE = "The file is out-of-sync with the ystore."


class EventForwarder:
    def __init__(self, service: ExecutionService, rooms: RoomAccess, log: logging.Logger) -> None:
        self._service = service
        self._rooms = rooms
        self._log = log
        # Rooms whose cells are being loaded from the file over what the YStore held.
        self._cells_from_file: set[str] = set()

    def subscribe(self, event_logger: Any) -> None:
        event_logger.add_listener(schema_id=KERNEL_ACTIONS_SCHEMA, listener=self.on_kernel_action)
        event_logger.add_listener(schema_id=COLLABORATION_SCHEMA, listener=self.on_room_event)

    async def on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        kernel_id = data.get("kernel_id")
        if data.get("status") != "success" or not isinstance(kernel_id, str):
            return
        action = data.get("action")
        if isinstance(action, str):
            self._service.on_kernel_action(kernel_id, action)

    async def on_room_event(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        room_id = data.get("room")
        action = data.get("action")
        if not isinstance(room_id, str) or action not in ("initialize", "overwrite"):
            return
        if action == "initialize" and data.get("msg") == OUT_OF_SYNC_MESSAGE:
            # Announced before the file's cells replace the store's; settled once loaded.
            self._cells_from_file.add(room_id)
            return
        notebook = self._rooms.live_notebook(room_id)
        if notebook is None:
            return
        cells_replaced = action == "overwrite" or room_id in self._cells_from_file
        self._cells_from_file.discard(room_id)
        settled = self._service.reconcile(room_id, notebook, cells_replaced=cells_replaced)
        if settled:
            self._log.info("Settled %d stale requests in %s", len(settled), room_id)
