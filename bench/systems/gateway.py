"""Kernels behind a Jupyter Kernel Gateway, and the limit through one.

Every run starts a fresh `jupyter kernelgateway` on loopback (the tests' own
`KernelGatewayProcess`) and stops it by its process id afterwards, as the servers are.
The gateway's IOPub rate limit is off, as in a deployment that must not lose output: with it,
the gateway drops any stream output past 1 MB/s averaged over 3 s (W1's 1.2 MB stays under that
today, but a larger flood would lose output in both systems alike).

The limit through the gateway is a bare client of the gateway's kernel websocket (the
Jupyter JSON protocol, each message carrying its channel). It sends what a notebook
sends (all cells at once for a run-all, or each cell once the previous reply is in) and
reads every message; the outputs it would show are reduced with this project's reducer
only to check the expected outputs. It does not use jupyter_server's
`GatewayKernelClient`, whose async reads busy-wait and would take CPU from the system
being measured.

A stock gateway's kernel websocket leaves Nagle's algorithm on: after the first small frame
of a reply (status busy), the next ones wait for the client's acknowledgement, which Linux
delays by up to 40 ms, so each cell sent one at a time would cost that much. Both the server
and the bare client ask for immediate acknowledgements before each read."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import httpx
from jupyter_client.jsonutil import json_default
from jupyter_client.session import Session
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from bench.systems.base import Workload, WorkloadResult
from bench.workloads import outputs_match
from jupyterlab_collab_exec.kernel.channels import acknowledge_quickly
from jupyterlab_collab_exec.outputs.reducer import OutputReducer
from jupyterlab_collab_exec.tests.gateway import KernelGatewayProcess

GATEWAY_LIMIT_NAME = "bare client via gateway (limit)"
GATEWAY_ONE_AT_A_TIME_NAME = "bare client via gateway, one at a time"

GATEWAY_WORKLOADS = frozenset({"W1", "W4"})
"""A flood and a run-all: the workloads whose cost a remote kernel's transport changes."""

GATEWAY_ARGUMENTS = ("--ZMQChannelsWebsocketConnection.limit_rate=False",)
REQUEST_TIMEOUT = 60.0


def gateway_unavailable() -> str | None:
    """None when a Kernel Gateway can run here, else why not."""
    if importlib.util.find_spec("kernel_gateway") is None:
        return "jupyter-kernel-gateway is not installed (the test extra installs it)"
    return None


async def start_gateway(work_dir: Path) -> KernelGatewayProcess:
    """A fresh gateway for one run, its kernels and log under `work_dir`."""
    gateway = KernelGatewayProcess(work_dir / "kernel-gateway", *GATEWAY_ARGUMENTS)
    # Its start and stop poll and wait synchronously: off the event loop.
    await asyncio.to_thread(gateway.start)
    return gateway


async def stop_gateway(gateway: KernelGatewayProcess) -> None:
    await asyncio.to_thread(gateway.stop)


def server_arguments(gateway: KernelGatewayProcess) -> list[str]:
    """The command-line arguments that put a jupyter_server's kernels on this gateway."""
    return [f"--GatewayClient.{name}={value}" for name, value in gateway.server_config().items()]


class KernelWebsocket:
    """One kernel's channels on the gateway, as JSON websocket messages."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._session = Session()

    @classmethod
    async def connect(cls, gateway: KernelGatewayProcess, kernel_id: str) -> KernelWebsocket:
        url = gateway.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        request = HTTPRequest(url, headers=gateway.headers, connect_timeout=REQUEST_TIMEOUT)
        return cls(await websocket_connect(request))

    async def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        """Send one message; returns its msg_id. Without `channel`, the gateway would
        route it to shell."""
        msg = self._session.msg(msg_type, content)
        msg["channel"] = channel
        await self._connection.write_message(json.dumps(msg, default=json_default))
        return str(msg["header"]["msg_id"])

    async def receive(self) -> dict[str, Any]:
        # As the project's own gateway client does: without it, each cell waits for a
        # delayed ACK (see the docstring of this module).
        acknowledge_quickly(self._connection.stream.socket)
        frame = await self._connection.read_message()
        if frame is None:
            raise ConnectionError("the gateway closed the kernel's websocket")
        message: dict[str, Any] = json.loads(frame)
        return message

    def close(self) -> None:
        self._connection.close()


class Execution:
    """Cells sent to one kernel, and what came back for each."""

    def __init__(self, kernel: KernelWebsocket) -> None:
        self.kernel = kernel
        self.reducers: dict[str, OutputReducer] = {}
        self.replied: set[str] = set()
        self.idle: set[str] = set()

    async def run(self, sources: list[str], *, one_at_a_time: bool) -> list[list[dict[str, Any]]]:
        """Run the cells; returns each one's outputs as JupyterLab would hold them."""
        order = []
        for source in sources:
            msg_id = await self.kernel.send(
                "shell",
                "execute_request",
                {
                    "code": source,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            )
            self.reducers[msg_id] = OutputReducer()
            order.append(msg_id)
            while one_at_a_time and msg_id not in self.replied:
                await self._read()
        while not self.idle.issuperset(order):
            await self._read()
        return [self.reducers[msg_id].to_json() for msg_id in order]

    async def _read(self) -> None:
        msg = await self.kernel.receive()
        parent = msg["parent_header"].get("msg_id")
        if parent not in self.reducers:
            return
        if msg["channel"] == "shell":
            if msg["msg_type"] == "execute_reply":
                self.replied.add(parent)
        elif msg["channel"] == "iopub":
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                self.idle.add(parent)
            else:
                self.reducers[parent].add_message(msg["msg_type"], msg["content"])


async def wait_for_kernel_info(kernel: KernelWebsocket) -> None:
    """The kernel answers on shell: it is ready."""
    msg_id = await kernel.send("shell", "kernel_info_request", {})
    while True:
        msg = await kernel.receive()
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "kernel_info_reply":
            return


class BareGatewayClientSystem:
    def __init__(self, *, one_at_a_time: bool = False) -> None:
        self.one_at_a_time = one_at_a_time
        self.name = GATEWAY_ONE_AT_A_TIME_NAME if one_at_a_time else GATEWAY_LIMIT_NAME

    def available(self) -> str | None:
        return gateway_unavailable()

    def applies_to(self, workload: Workload) -> bool:
        # Sending a single cell one at a time is the limit itself.
        if workload.key not in GATEWAY_WORKLOADS:
            return False
        return not self.one_at_a_time or len(workload.cells) > 1

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        result = WorkloadResult(system=self.name, workload=workload.key)
        if workload.expected is None:
            result.error = "not applicable: the bare gateway client checks outputs only"
            return result
        try:
            gateway = await start_gateway(work_dir)
        except RuntimeError as error:
            result.error = str(error)
            return result
        try:
            async with httpx.AsyncClient(
                base_url=gateway.url, headers=gateway.headers, timeout=REQUEST_TIMEOUT
            ) as http:
                response = await http.post("/api/kernels", json={"name": "python3"})
                response.raise_for_status()
                kernel_id = response.json()["id"]
                try:
                    await self._measure(gateway, kernel_id, workload, result)
                finally:
                    await http.delete(f"/api/kernels/{kernel_id}")
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
        finally:
            await stop_gateway(gateway)
        return result

    async def _measure(
        self,
        gateway: KernelGatewayProcess,
        kernel_id: str,
        workload: Workload,
        result: WorkloadResult,
    ) -> None:
        assert workload.expected is not None
        kernel = await KernelWebsocket.connect(gateway, kernel_id)
        try:
            # Ready and warmed up before the clock starts, as the other systems are.
            await wait_for_kernel_info(kernel)
            await Execution(kernel).run(["pass"], one_at_a_time=False)
            started = time.perf_counter()
            outputs = await Execution(kernel).run(workload.cells, one_at_a_time=self.one_at_a_time)
            result.seconds = time.perf_counter() - started
            result.correct = outputs_match(outputs, workload.expected)
            if not result.correct:
                result.error = "the final outputs differ from the expected ones"
        finally:
            kernel.close()
