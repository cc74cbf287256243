"""How late the server's event loop runs what it was told to run: every message of every
room, kernel and browser waits behind whatever holds the loop, so its lag is the first
thing to watch on a loaded server.

The probe sleeps a short interval again and again; whatever it wakes up past the
interval is lag. It is exported with jupyter_server's own metrics (`/metrics`, Prometheus
text format), as a histogram and as the worst lag since the server started.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc

from prometheus_client import Gauge, Histogram

# Defined once per process, as Prometheus requires; every server of the process shares them.
LOOP_LAG_SECONDS = Histogram(
    "collab_exec_event_loop_lag_seconds",
    "How late the server's event loop woke a task up, measured every 0.1 s",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOOP_LAG_MAX_SECONDS = Gauge(
    "collab_exec_event_loop_lag_max_seconds",
    "The worst event loop lag since the server started",
)

PROBE_INTERVAL = 0.1


class LoopLagProbe:
    def __init__(self, interval: float = PROBE_INTERVAL) -> None:
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        # The worst lag seen, in seconds, and how many times the lag was measured.
        self.worst = 0.0
        self.samples = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._probe())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _probe(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asleep = loop.time()
            await asyncio.sleep(self._interval)
            lag = max(0.0, loop.time() - asleep - self._interval)
            LOOP_LAG_SECONDS.observe(lag)
            self.samples += 1
            if lag > self.worst:
                self.worst = lag
                LOOP_LAG_MAX_SECONDS.set(lag)


def freeze_live_objects() -> None:
    """Leave what exists now out of the garbage collector's passes: a full pass walks every
    object it tracks, and holds the event loop for as long."""
    gc.collect()
    gc.freeze()
