"""What the widget mirror keeps for one kernel: its models, what it has yet to write into
the docs, and the timers of its writes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from .models import KernelWidgets
from .sender import KernelWidgetSender


@dataclass(frozen=True)
class WidgetSettings:
    flush_interval: float
    snapshot_interval: float
    max_widget_bytes: int | None
    max_output_bytes: int | None
    # Binary values of at least this many bytes go into the doc by their digest (blobs.py).
    blob_threshold: int | None = None


@dataclass
class Timed:
    """A piece of work that runs at most once per interval: its timer, and when it last
    ran."""

    timer: asyncio.TimerHandle | None = None
    last: float = 0.0

    def ran(self) -> None:
        """It runs now: a timer set for it is not needed any more."""
        self.cancel()
        self.last = time.monotonic()

    def cancel(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


@dataclass
class KernelMirror:
    widgets: KernelWidgets
    kernel: KernelWidgetSender
    documents: set[str] = field(default_factory=set)
    # Model id: the state keys to write, or None for the whole model.
    pending: dict[str, set[str] | None] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    captured: set[str] = field(default_factory=set)
    # Output widgets whose captured outputs the kernel has not been sent yet.
    unsent: set[str] = field(default_factory=set)
    flushes: Timed = field(default_factory=Timed)
    snapshots: Timed = field(default_factory=Timed)
    snapshot_due: bool = False
    capped: bool = False

    def mark(self, model_id: str, keys: set[str] | None) -> None:
        if keys is None or model_id not in self.pending:
            self.pending[model_id] = None if keys is None else set(keys)
            return
        current = self.pending[model_id]
        if current is not None:
            current |= keys
