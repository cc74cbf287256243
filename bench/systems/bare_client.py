"""The limit: a bare jupyter_client on the same kind of kernel. It sends what a notebook
sends (all cells at once for a run-all), answers input() at once, and drains IOPub; the
outputs it would show are reduced with this project's reducer only to check the
expected outputs.

Sent one at a time instead (each cell once the previous one's reply is in), it is the
floor of any executor that keeps queued cells away from the kernel so they can be
cancelled: the kernel protocol cannot take back a request it was sent."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from bench.systems.base import Workload, WorkloadResult, local_kernel
from bench.workloads import (
    WidgetValues,
    input_latencies_ms,
    kernel_seconds,
    outputs_match,
    widget_values_match,
)
from jupyterlab_collab_exec.outputs.reducer import OutputReducer

DEADLINE = 600.0


LIMIT_NAME = "bare jupyter_client (limit)"
ONE_AT_A_TIME_NAME = "bare jupyter_client, one at a time"


class BareClientSystem:
    def __init__(self, *, one_at_a_time: bool = False) -> None:
        self.one_at_a_time = one_at_a_time
        self.name = ONE_AT_A_TIME_NAME if one_at_a_time else LIMIT_NAME

    def available(self) -> str | None:
        return None

    def applies_to(self, workload: Workload) -> bool:
        # A bare client has no room to reconnect to, and sending a single cell one at a
        # time is the limit itself.
        if workload.prefilled_outputs is not None:
            return False
        return not self.one_at_a_time or len(workload.cells) > 1

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        result = WorkloadResult(system=self.name, workload=workload.key)
        if workload.prefilled_outputs is not None:
            result.error = "not applicable: the reconnect workload has no kernel side"
            return result
        try:
            async with local_kernel() as client:
                await self._measure(client, workload, result)
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
        return result

    async def _measure(self, client: Any, workload: Workload, result: WorkloadResult) -> None:
        started = time.perf_counter()
        reducers: dict[str, OutputReducer] = {}
        order = []
        for source in workload.cells:
            msg_id = client.execute(source, allow_stdin=workload.inputs > 0)
            reducers[msg_id] = OutputReducer()
            order.append(msg_id)
            if self.one_at_a_time:
                await self._reply_to(client, msg_id)
        answering = asyncio.create_task(self._answer_inputs(client))
        idle: set[str] = set()
        widgets = WidgetValues()
        while len(idle) < len(order):
            msg = await client.get_iopub_msg(timeout=DEADLINE)
            parent = msg["parent_header"].get("msg_id")
            if parent not in reducers:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle.add(parent)
            elif msg["msg_type"] in ("comm_open", "comm_msg"):
                widgets.apply(msg["msg_type"], msg["content"])
            else:
                reducers[parent].add_message(msg["msg_type"], msg["content"])
        result.seconds = time.perf_counter() - started
        answering.cancel()
        outputs = [reducers[msg_id].to_json() for msg_id in order]
        if workload.expected is not None:
            result.correct = outputs_match(outputs, workload.expected)
        elif workload.widget_values is not None:
            seconds = kernel_seconds(outputs[0])
            result.extra["kernel_seconds"] = seconds
            if not widget_values_match(widgets.values, workload.widget_values):
                # The kernel's IOPub queue is bounded: a client that falls behind loses
                # updates, as a browser would. Read the final values back, as a widget
                # manager does when it restores, and say so.
                await self._request_states(client, widgets)
                result.extra["widget_values_read_back"] = True
            matched = widget_values_match(widgets.values, workload.widget_values)
            result.correct = seconds is not None and matched
        else:
            latencies = input_latencies_ms(outputs[0])
            result.correct = len(latencies) == workload.inputs
            if latencies:
                result.extra["input_latency_median_ms"] = statistics.median(latencies)

    @staticmethod
    async def _request_states(client: Any, widgets: WidgetValues) -> None:
        """Ask each widget model for its state and apply the answers."""
        asked = set()
        for comm_id in widgets.comm_ids:
            message = client.session.msg(
                "comm_msg", {"comm_id": comm_id, "data": {"method": "request_state"}}
            )
            client.shell_channel.send(message)
            asked.add(message["header"]["msg_id"])
        idle: set[str] = set()
        while idle != asked:
            msg = await client.get_iopub_msg(timeout=DEADLINE)
            parent = msg["parent_header"].get("msg_id")
            if parent not in asked:
                continue
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                idle.add(parent)
            elif msg["msg_type"] == "comm_msg":
                widgets.apply(msg["msg_type"], msg["content"])

    @staticmethod
    async def _reply_to(client: Any, msg_id: str) -> None:
        """Wait for one request's execute_reply; IOPub waits in its socket meanwhile."""
        while True:
            reply = await client.get_shell_msg(timeout=DEADLINE)
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    @staticmethod
    async def _answer_inputs(client: Any) -> None:
        """Reply to every input_request as soon as it comes."""
        while True:
            msg = await client.get_stdin_msg()
            if msg["msg_type"] == "input_request":
                client.input(repr(time.time()))
