"""The write pace: the full rate while few notebooks are written, less often beyond."""

from __future__ import annotations

from jupyterlab_collab_exec.doc.pace import BUSY_WINDOW, WritePace


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rooms_within_the_budget_are_written_at_the_full_rate() -> None:
    clock = Clock()
    pace = WritePace(0.05, 5, clock)
    for room in range(5):
        pace.wrote(f"room-{room}")
        pace.wrote(f"room-{room}")
    assert pace.busy_rooms() == 5
    assert pace.interval() == 0.05


def test_more_rooms_are_each_written_less_often_in_proportion() -> None:
    clock = Clock()
    pace = WritePace(0.05, 5, clock)
    for room in range(20):
        pace.wrote(f"room-{room}")
    assert pace.interval() == 0.05 * 4
    # The server's writes per second stay those of five rooms at the full rate.
    assert pace.busy_rooms() / pace.interval() == 5 / 0.05


def test_a_room_stops_counting_a_second_after_its_last_write() -> None:
    clock = Clock()
    pace = WritePace(0.05, 1, clock)
    pace.wrote("done")
    clock.now += BUSY_WINDOW / 2
    pace.wrote("running")
    assert pace.interval() == 0.1
    clock.now += BUSY_WINDOW * 0.75
    assert pace.busy_rooms() == 1
    assert pace.interval() == 0.05


def test_no_budget_writes_every_room_at_the_full_rate() -> None:
    pace = WritePace(0.05, 0, Clock())
    for room in range(50):
        pace.wrote(f"room-{room}")
    assert pace.interval() == 0.05
