"""This project: a `jupyter server` with jupyter-collaboration and jupyterlab-collab-exec,
driven over its REST API as the frontend drives it. With `extension=False` it is the same
server without this extension: the reference of the reconnect workload. With `gateway=True`
its kernels run behind a fresh Jupyter Kernel Gateway (see bench/systems/gateway.py)."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.systems.base import Workload, WorkloadResult, cpu_seconds, peak_rss
from bench.systems.gateway import (
    GATEWAY_WORKLOADS,
    gateway_unavailable,
    server_arguments,
    start_gateway,
    stop_gateway,
)
from bench.systems.observer import Observer, measure_reconnect, observe
from bench.workloads import (
    input_latencies_ms,
    kernel_seconds,
    outputs_match,
    percentile,
    widget_values_match,
)
from jupyterlab_collab_exec.tests.clients import RoomClient, ServerProcess

NOTEBOOK = "bench.ipynb"
FINAL = ("ok", "error", "cancelled", "interrupted")
DEADLINE = 600.0

OURS_VIA_GATEWAY_NAME = "jupyterlab-collab-exec via gateway"


async def pending_input(client: RoomClient, prompt: str) -> str:
    """The id of the input asked with this prompt, once the doc shows it."""
    await client.wait_until(lambda: client.pending_input(prompt) is not None, DEADLINE)
    input_id = client.pending_input(prompt)
    assert input_id is not None
    return input_id


class CollabExecSystem:
    def __init__(
        self,
        *,
        extension: bool = True,
        gateway: bool = False,
        python: Path | str = sys.executable,
        name: str | None = None,
        server_arguments: Sequence[str] = (),
        only: frozenset[str] | None = None,
    ) -> None:
        """`python` runs the server (bench/systems/baseline.py gives one that imports this
        package from an earlier commit), and `name` then tells that system apart; so it does
        for a server with other `server_arguments`, which may run `only` some workloads."""
        self.extension = extension
        self.gateway = gateway
        self.python = python
        self.server_arguments = list(server_arguments)
        self.only = only
        if name is not None:
            self.name = name
        elif gateway:
            self.name = OURS_VIA_GATEWAY_NAME
        else:
            self.name = "jupyterlab-collab-exec" if extension else "jupyter-collaboration alone"

    def available(self) -> str | None:
        return gateway_unavailable() if self.gateway else None

    def applies_to(self, workload: Workload) -> bool:
        if self.only is not None and workload.key not in self.only:
            return False
        if self.gateway:
            return workload.key in GATEWAY_WORKLOADS
        # The room without the extension is the reference of the reconnect only.
        return self.extension or workload.prefilled_outputs is not None

    def server(self, work_dir: Path, extra_arguments: list[str] | None = None) -> ServerProcess:
        arguments = [
            f"--SQLiteYStore.db_path={work_dir / '.ystore.db'}",
            f"--BaseFileIdManager.db_path={work_dir / '.fileid.db'}",
            f"--BaseFileIdManager.root_dir={work_dir}",
            *self.server_arguments,
            *(extra_arguments or []),
        ]
        if not self.extension:
            arguments.append("--ServerApp.jpserver_extensions=jupyterlab_collab_exec=False")
        return ServerProcess(
            work_dir,
            python=self.python,
            arguments=arguments,
            ready_path="api/collab-exec" if self.extension else "api/status",
        )

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        if not self.gateway:
            return await self._run(workload, work_dir)
        try:
            gateway = await start_gateway(work_dir)
        except RuntimeError as error:
            return WorkloadResult(system=self.name, workload=workload.key, error=str(error))
        try:
            # Kernels started through the server's POST /api/kernels then live on the gateway.
            return await self._run(workload, work_dir, server_arguments(gateway))
        finally:
            await stop_gateway(gateway)

    async def _run(
        self, workload: Workload, work_dir: Path, extra_arguments: list[str] | None = None
    ) -> WorkloadResult:
        result = WorkloadResult(system=self.name, workload=workload.key)
        workload.write(work_dir / NOTEBOOK)
        server = self.server(work_dir, extra_arguments)
        await server.start()
        try:
            room_id, session_id = await server.session(NOTEBOOK)
            url = f"{server.url}/api/collaboration/room/{room_id}?sessionId={session_id}"
            url += f"&token={server.token}"
            if workload.prefilled_outputs is not None:
                await measure_reconnect(workload, url, room_id, result, DEADLINE)
            else:
                await self._execute(server, workload, url, room_id, result)
            assert server.process is not None
            result.peak_rss_bytes = peak_rss(server.process.pid)
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
        finally:
            try:
                await server.stop_gracefully()
            except AssertionError as error:
                # The measurement stands; say that the server was slow to stop.
                result.extra["shutdown_error"] = str(error)
        return result

    async def _execute(
        self,
        server: ServerProcess,
        workload: Workload,
        url: str,
        room_id: str,
        result: WorkloadResult,
    ) -> None:
        kernel = await server.request("POST", "api/kernels", {})
        async with observe(url, room_id) as observer:
            # Connect and warm the kernel up before the clock starts, as the limit does.
            await self._wait_done(
                server, observer, room_id, kernel["id"], [{"cell_id": "cell-0", "source": "pass"}]
            )
            updates, received = observer.updates, observer.bytes_received
            widget_updates, doc_before = observer.widget_updates.count, observer.doc_bytes()
            assert server.process is not None
            cpu_before = cpu_seconds(server.process.pid)
            since = time.monotonic()
            started = time.perf_counter()
            cells = [{"cell_id": f"cell-{index}"} for index in range(len(workload.cells))]
            await self._wait_done(server, observer, room_id, kernel["id"], cells, workload.inputs)
            result.seconds = time.perf_counter() - started
            result.extra["server_cpu_seconds"] = cpu_seconds(server.process.pid) - cpu_before
            result.extra["busiest_second_updates"] = observer.busiest_second(since)
            result.observer_updates = observer.updates - updates
            result.observer_bytes = observer.bytes_received - received
            result.doc_bytes = observer.doc_bytes()
            outputs = observer.outputs()
            if workload.expected is not None:
                result.correct = outputs_match(outputs, workload.expected)
                if not result.correct:
                    result.error = "the final outputs differ from the expected ones"
            elif workload.widget_values is not None:
                self._measure_widgets(workload.widget_values, observer, result)
                result.extra["widget_updates"] = observer.widget_updates.count - widget_updates
                result.extra["widget_updates_per_second_per_widget"] = (
                    result.extra["widget_updates"] / result.seconds / len(workload.widget_values)
                )
                result.extra["doc_growth_bytes"] = result.doc_bytes - doc_before
            else:
                latencies = input_latencies_ms(outputs[0])
                result.correct = len(latencies) == workload.inputs
                if latencies:
                    result.extra["input_latency_median_ms"] = statistics.median(latencies)
                    result.extra["input_latency_p95_ms"] = percentile(latencies, 95)

    @staticmethod
    def _measure_widgets(
        expected: dict[str, int], observer: Observer, result: WorkloadResult
    ) -> None:
        seconds = kernel_seconds(observer.outputs()[0])
        result.extra["kernel_seconds"] = seconds
        result.correct = seconds is not None and widget_values_match(
            observer.widget_values(), expected
        )
        if not result.correct:
            result.error = f"the doc's widgets hold {observer.widget_values()}, not {expected}"

    async def _wait_done(
        self,
        server: ServerProcess,
        observer: Observer,
        room_id: str,
        kernel_id: str,
        cells: list[dict[str, Any]],
        inputs: int = 0,
    ) -> None:
        """Queue the cells in one batch and wait until the doc shows them all finished,
        answering every input() as soon as it shows."""
        accepted = await server.request(
            "POST",
            "api/collab-exec/execute",
            {"document_id": room_id, "kernel_id": kernel_id, "cells": cells},
        )
        request_ids = [request["request_id"] for request in accepted["requests"]]
        client = observer.client
        for index in range(inputs):
            input_id = await pending_input(client, f"q{index}")
            await server.request(
                "POST",
                "api/collab-exec/input",
                {"document_id": room_id, "input_id": input_id, "value": repr(time.time())},
            )

        unfinished = list(reversed(request_ids))

        def finished() -> bool:
            # Requests end in order: look at the oldest unfinished one only.
            while unfinished and client.request_status(unfinished[-1]) in FINAL:
                unfinished.pop()
            return not unfinished

        await client.wait_until(finished, DEADLINE, what="the workload to finish")
