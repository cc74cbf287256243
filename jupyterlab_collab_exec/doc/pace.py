"""How often the server writes into a busy notebook's doc, so that its writes per second
stay within what one process handles however many notebooks run at once.

Every write becomes one update of the room: the server sends it to each client and
jupyter-collaboration appends it to the YStore. The SQLite YStore holds its database's lock
from one event-loop turn to the next while it appends, so a server that writes many rooms
at the full rate queues the appends behind each other until they fail with "database is
locked" (measured with 20 notebooks in docs/scaling.md). A notebook writes at the full rate
while few notebooks write; beyond `full_rate_rooms` of them, each writes less often, in
proportion.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# A room counts as writing for this long after its last write.
BUSY_WINDOW = 1.0


class WritePace:
    """The interval between two writes into one room, from how many rooms write now."""

    def __init__(
        self,
        interval: float,
        full_rate_rooms: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_interval = interval
        self._full_rate_rooms = full_rate_rooms
        self._clock = clock
        self._last_write: dict[str, float] = {}

    def wrote(self, room: str) -> None:
        """The server wrote into the room's doc now."""
        self._last_write[room] = self._clock()

    def busy_rooms(self) -> int:
        """How many rooms wrote within the last second."""
        since = self._clock() - BUSY_WINDOW
        idle = [room for room, last in self._last_write.items() if last < since]
        for room in idle:
            del self._last_write[room]
        return len(self._last_write)

    def interval(self) -> float:
        """How long a room waits between two writes now."""
        if self._full_rate_rooms <= 0:
            return self.base_interval
        share = self.busy_rooms() / self._full_rate_rooms
        return self.base_interval * max(1.0, share)
