"""The schedule of a churn run, drawn from a seeded RNG before the run starts: when each of a
notebook's coming-and-going clients joins and leaves, and how it leaves.

A slot is one place in the crowd that clients take in turn. Each client stays a while and
leaves; most leave cleanly (a close frame), one departure in ten drops its connection
without closing it (its process killed, or frozen and then killed), and in some slots the
client that left comes back later with the doc it kept (a stale state vector) and stays to
the end."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["join", "rejoin", "leave", "drop"]
DROP_SHARE = 0.1
STALE_SHARE = 0.1


@dataclass(frozen=True)
class Step:
    at: float
    """Seconds from the start of the run."""
    action: Action
    client: int
    own_process: bool = False
    """For a join: the client will be dropped, so it gets a process of its own."""
    frozen_for: float = 0.0
    """For a drop: how long the process is stopped (SIGSTOP) before it is killed."""


@dataclass
class _Life:
    client: int
    join: float
    leave: float | None
    stale_return: bool = False
    dropped: bool = False
    frozen_for: float = 0.0


@dataclass
class ChurnPlan:
    slots: list[list[Step]] = field(default_factory=list)

    def count(self, action: Action) -> int:
        return sum(step.action == action for steps in self.slots for step in steps)

    @property
    def frozen(self) -> int:
        return sum(step.frozen_for > 0 for steps in self.slots for step in steps)

    def staying(self) -> set[int]:
        """The clients joined at the end of the plan."""
        joined: set[int] = set()
        for steps in self.slots:
            for step in steps:
                if step.action in ("join", "rejoin"):
                    joined.add(step.client)
                else:
                    joined.discard(step.client)
        return joined

    def rejoined(self) -> list[int]:
        return [step.client for steps in self.slots for step in steps if step.action == "rejoin"]


def plan_churn(
    rng: random.Random,
    slots: int,
    first_client: int,
    seconds: float,
    stay: tuple[float, float],
    away: tuple[float, float],
) -> ChurnPlan:
    """Clients numbered from `first_client` coming and going in `slots` places for
    `seconds`, with at least one drop and one stale return."""
    numbers = iter(range(first_client, 1 << 30))
    lives: list[list[_Life]] = []
    for _ in range(slots):
        slot: list[_Life] = []
        moment = rng.uniform(0, away[1])
        while moment < seconds:
            leaving = moment + rng.uniform(*stay)
            leave = leaving if leaving < seconds else None
            slot.append(_Life(next(numbers), moment, leave))
            if leave is None:
                break
            moment = leave + rng.uniform(*away)
        lives.append(slot)
    _choose_stale_returns(rng, lives)
    _choose_drops(rng, lives)
    return ChurnPlan([_steps(slot) for slot in lives])


def _choose_stale_returns(rng: random.Random, lives: list[list[_Life]]) -> None:
    """In some slots, the client of one life comes back as the next one and stays."""
    departures = sum(life.leave is not None for slot in lives for life in slot)
    candidates = [slot for slot in lives if len(slot) > 1]
    assert candidates, "no client leaves and comes back: make the run longer"
    wanted = min(len(candidates), max(1, round(departures * STALE_SHARE)))
    for slot in rng.sample(candidates, wanted):
        index = rng.randrange(len(slot) - 1)
        back = slot[index + 1]
        slot[index + 1 :] = [_Life(slot[index].client, back.join, None, stale_return=True)]


def _choose_drops(rng: random.Random, lives: list[list[_Life]]) -> None:
    """One departure in ten (two at least), none before a stale return (that client must
    keep its doc)."""
    departures = [
        life
        for slot in lives
        for index, life in enumerate(slot)
        if life.leave is not None and not (index + 1 < len(slot) and slot[index + 1].stale_return)
    ]
    assert len(departures) >= 2, "too few clients leave for good: make the run longer"
    # At least one drop of each kind, however short the run.
    dropped = rng.sample(departures, max(2, math.ceil(len(departures) * DROP_SHARE)))
    for number, life in enumerate(dropped):
        life.dropped = True
        # Every other drop freezes the process first: its connection stays open, silent.
        life.frozen_for = rng.uniform(1.0, 3.0) if number % 2 else 0.0


def _steps(slot: list[_Life]) -> list[Step]:
    steps = []
    for life in slot:
        join: Action = "rejoin" if life.stale_return else "join"
        steps.append(Step(life.join, join, life.client, own_process=life.dropped))
        if life.leave is not None:
            leave: Action = "drop" if life.dropped else "leave"
            steps.append(Step(life.leave, leave, life.client, frozen_for=life.frozen_for))
    return steps
