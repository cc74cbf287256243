"""An observing room client that counts what it receives."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from httpx_ws import aconnect_ws
from pycrdt import Provider, YMessageType, YSyncMessageType
from pycrdt.websocket.websocket import HttpxWebsocket

from bench.systems.base import Workload, WorkloadResult
from bench.workloads import outputs_match
from jupyterlab_collab_exec.tests.clients import RoomClient, WidgetUpdateCount

SYNC_TIMEOUT = 120.0


class CountingWebsocket(HttpxWebsocket):
    """A pycrdt channel that counts the bytes it receives, and sends no updates back.

    pycrdt's Provider sends every update the doc applies, remote ones included; a browser
    does not echo them, and the server would parse each a second time. An observer never
    edits, so every update it would send is such an echo."""

    bytes_received = 0

    async def recv(self) -> bytes:
        message = await super().recv()
        self.bytes_received += len(message)
        return message

    async def send(self, message: bytes) -> None:
        if message[:2] == bytes([YMessageType.SYNC, YSyncMessageType.SYNC_UPDATE]):
            return
        await super().send(message)


@dataclass
class Observer:
    client: RoomClient
    channel: CountingWebsocket
    widget_updates: WidgetUpdateCount

    @property
    def updates(self) -> int:
        """Transactions applied to the observer's doc."""
        return self.client.update_count

    @property
    def bytes_received(self) -> int:
        return self.channel.bytes_received

    def busiest_second(self, since: float) -> int:
        """The most updates received within one second, after `since` (time.monotonic)."""
        times = [moment for moment in self.client.update_times if moment >= since]
        busiest, start = 0, 0
        for end, moment in enumerate(times):
            while moment - times[start] >= 1.0:
                start += 1
            busiest = max(busiest, end - start + 1)
        return busiest

    def outputs(self) -> list[list[dict[str, Any]]]:
        notebook = self.client.notebook
        return [
            list(notebook.get_cell(index).get("outputs", []))
            for index in range(notebook.cell_number)
        ]

    def doc_bytes(self) -> int:
        return len(self.client.notebook.ydoc.get_update())

    def widget_values(self) -> dict[str, Any]:
        """The `value` of each model in `collab_widgets`, by model name."""
        values: dict[str, Any] = {}
        for entry in self.client.widget_models().values():
            state = entry.get("state", {})
            if "value" in state:
                values[entry.get("model_name", "")] = state["value"]
        return values


@asynccontextmanager
async def observe(url: str, room_id: str) -> AsyncIterator[Observer]:
    """Join a room with a pycrdt client and wait until it is in sync."""
    client = RoomClient(track_statuses=False)
    # No keepalive ping: its pong queues behind the updates not yet read, and an observer
    # more than 20 s behind a flood would be disconnected.
    async with aconnect_ws(url, keepalive_ping_interval_seconds=None) as websocket:  # type: ignore[var-annotated]
        channel = CountingWebsocket(websocket, room_id)
        async with Provider(client.notebook.ydoc, channel) as provider:
            await asyncio.wait_for(provider.synced.wait(), SYNC_TIMEOUT)
            await client.wait_until(lambda: client.notebook.cell_number > 0, SYNC_TIMEOUT)
            yield Observer(client=client, channel=channel, widget_updates=WidgetUpdateCount(client))


async def measure_reconnect(
    workload: Workload, url: str, room_id: str, result: WorkloadResult, deadline: float
) -> list[list[dict[str, Any]]]:
    """W6: a second client joins a room that one client already loaded; fills `result`
    and returns the outputs the late client synced."""
    assert workload.prefilled_outputs is not None
    cells = len(workload.cells)
    async with observe(url, room_id):
        started = time.perf_counter()
        async with observe(url, room_id) as late:

            def complete() -> bool:
                outputs = late.outputs()
                return len(outputs) == cells and all(outputs)

            await late.client.wait_until(complete, deadline, what="the late client to sync")
            result.seconds = time.perf_counter() - started
            result.observer_updates = late.updates
            result.observer_bytes = late.bytes_received
            result.doc_bytes = late.doc_bytes()
            outputs = late.outputs()
            result.correct = outputs_match(outputs, workload.prefilled_outputs)
            return outputs
