"""Display routing: messages with a display id, delivered between the executions of a kernel."""

from __future__ import annotations

from typing import Any, Protocol

from .reducer import DISPLAY_MESSAGE_TYPES, display_id_of, output_from_message


class DisplayTarget(Protocol):
    """Something whose outputs a display update can replace."""

    def update_display(self, display_id: str, output: dict[str, Any]) -> None: ...


class DisplayRouter:
    """Routes messages with a display id between the executions of one kernel.

    JupyterLab's kernel connection delivers a message with a display id, as an update, to
    every earlier execution that showed that id and is still alive; an update goes
    nowhere else, and a new display is also shown by its own execution.
    """

    def __init__(self) -> None:
        self._shown_by: dict[str, list[DisplayTarget]] = {}

    def route(
        self, writer: DisplayTarget, msg_type: str, content: dict[str, Any]
    ) -> tuple[bool, list[DisplayTarget]]:
        """Deliver display updates to earlier executions.

        Returns whether the message needs nothing more, and the targets it updated.
        """
        display_id = display_id_of(content) if msg_type in DISPLAY_MESSAGE_TYPES else None
        if display_id is None:
            return False, []
        update = output_from_message("update_display_data", content)
        updated = list(self._shown_by.get(display_id, []))
        for earlier in updated:
            earlier.update_display(display_id, update)
        if msg_type == "update_display_data":
            return True, updated
        shown_by = self._shown_by.setdefault(display_id, [])
        if writer not in shown_by:
            shown_by.append(writer)
        return False, updated

    def forget(self, writer: DisplayTarget) -> None:
        for display_id, writers in list(self._shown_by.items()):
            if writer in writers:
                writers.remove(writer)
                if not writers:
                    del self._shown_by[display_id]

    def holds(self, writer: DisplayTarget) -> bool:
        return any(writer in writers for writers in self._shown_by.values())

    def clear(self) -> None:
        self._shown_by.clear()
