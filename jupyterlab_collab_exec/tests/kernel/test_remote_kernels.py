"""Kernels that die, vanish or stop answering, local and behind a real Kernel Gateway or
Enterprise Gateway."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ..conftest import ENTERPRISE_GATEWAY, OpenNotebookFactory, started
from ..gateway import GatewayProcess

pytestmark = pytest.mark.both_kernels

STARTED = "import time\nprint('started', flush=True)\ntime.sleep(120)"
TEN_MEGABYTES = "for _ in range(10):\n    print('x' * 1_000_000)"
RATE_NOTICE = "IOPub data rate exceeded"


@pytest.mark.enterprise_gateway
async def test_a_kernel_that_exits_settles_its_request_and_the_next_run_works(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = ["import os\nos._exit(1)", "print('after')"]
    async with open_notebook("exit.ipynb", sources) as notebook:
        client = notebook.client
        [exiting] = await notebook.run("cell-0")
        await notebook.wait_statuses([exiting], ["interrupted"], timeout=10, what="the exit")
        assert client.requests()[exiting]["reason"]
        await notebook.wait_idle()
        [again] = await notebook.run("cell-1")
        await notebook.wait_statuses([again], ["ok"], what="the next run")
        assert client.cell("cell-1")["outputs"][0]["text"] == "after\n"


@pytest.mark.gateway_kernel
@pytest.mark.enterprise_gateway
async def test_a_kernel_deleted_on_the_gateway_settles_the_request_in_flight(
    caplog: pytest.LogCaptureFixture,
    gateway_process: GatewayProcess,
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("deleted.ipynb", [STARTED]) as notebook:
        client = notebook.client
        [running] = await notebook.run("cell-0")
        await client.wait_until(lambda: started(client, "cell-0"))
        await asyncio.to_thread(gateway_process.delete_kernel, notebook.kernel_id)
        await notebook.wait_statuses([running], ["interrupted"], what="the deletion noticed")
        await notebook.wait_idle()
        reason = client.requests()[running]["reason"]
        assert reason
        assert reason in caplog.text


@pytest.mark.gateway_kernel
@pytest.mark.enterprise_gateway
async def test_an_idle_server_costs_no_cpu_with_a_gateway_conversation_open(
    jp_serverapp: Any, notebook_factory: Any, document_id_for: Any, start_kernel: Any, execute: Any
) -> None:
    """Gateway channels are queues that a thread fills: they are awaited, not polled."""
    path = notebook_factory("idle.ipynb", ["print('warm')"])
    document_id, _ = await document_id_for(path)
    kernel_id = await start_kernel()
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    [warm] = await execute(document_id, kernel_id, "cell-0")
    deadline = time.monotonic() + 60
    while warm in service.active_request_ids:
        assert time.monotonic() < deadline, "the run did not end"
        await asyncio.sleep(0.05)
    runner = service._runners[kernel_id]
    assert runner._link.conversation is not None
    before = time.process_time()
    await asyncio.sleep(10)
    used = time.process_time() - before
    print(f"CPU over 10 s idle with a gateway conversation open: {used:.3f} s")
    assert used < 0.5


@pytest.mark.gateway_kernel
@pytest.mark.enterprise_gateway
@pytest.mark.parametrize("gateway_arguments", [[]])
@pytest.mark.parametrize(
    "extra_server_config",
    [
        {
            "CollabExecApp": {"kernel_response_timeout": 2.0},
            "GatewayClient": {"connect_timeout": 2.0},
        }
    ],
)
async def test_a_gateway_that_stops_answering_settles_what_waits_for_it(
    caplog: pytest.LogCaptureFixture,
    gateway_arguments: list[str],
    extra_server_config: dict[str, Any],
    gateway_process: GatewayProcess,
    jp_fetch: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = ["x = 1", "print('never')", "print('nor this')"]
    async with open_notebook("frozen.ipynb", sources) as notebook:
        client = notebook.client
        try:
            [warm] = await notebook.run("cell-0")
            await notebook.wait_statuses([warm], ["ok"])
            gateway_process.pause()
            # Sent on the open connection, it never starts: a probe goes unanswered.
            [stuck] = await notebook.run("cell-1")
            await notebook.wait_statuses([stuck], ["interrupted"])
            assert "answered nothing" in client.requests()[stuck]["reason"]
            # With no connection, connecting fails.
            [queued] = await notebook.run("cell-2")
            await notebook.wait_statuses([queued], ["interrupted"])
            reason = client.requests()[queued]["reason"]
            assert reason.startswith("Could not connect to the kernel")
            await notebook.wait_idle()
            assert "answered nothing" in caplog.text
            assert reason in caplog.text
        finally:
            gateway_process.resume()
            await jp_fetch("api", "kernels", notebook.kernel_id, method="DELETE")


@pytest.mark.parametrize(
    ("kernel_kind", "gateway_arguments", "whole"),
    [
        ("gateway", None, False),
        ("gateway", ["--ZMQChannelsWebsocketConnection.limit_rate=False"], True),
        (ENTERPRISE_GATEWAY, None, True),
    ],
    ids=["default rate limit", "rate limit off", "enterprise gateway"],
    indirect=["kernel_kind"],
)
async def test_ten_megabytes_through_the_gateway(
    kernel_kind: str,
    gateway_arguments: list[str] | None,
    whole: bool,
    jp_fetch: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    """Kernel Gateway applies jupyter_server's IOPub rate limit to its own websocket. By
    default it drops most of a 10 MB print, and the cell shows its notice; with the limit
    off on the gateway, every byte arrives. Enterprise Gateway 3.3 sets no limit (its
    websocket handler's limits stay at zero, and it has no setting for them): every byte
    arrives."""
    async with open_notebook("big.ipynb", [TEN_MEGABYTES]) as notebook:
        client = notebook.client
        try:
            [printing] = await notebook.run("cell-0")
            await notebook.wait_statuses([printing], ["ok"])
            outputs = client.cell("cell-0")["outputs"]
            stdout = "".join(o["text"] for o in outputs if o.get("name") == "stdout")
            stderr = "".join(o["text"] for o in outputs if o.get("name") == "stderr")
            if whole:
                assert stdout == ("x" * 1_000_000 + "\n") * 10
                assert stderr == ""
            else:
                assert RATE_NOTICE in stderr
                assert len(stdout) < 10_000_000
        finally:
            if gateway_arguments is not None:
                await jp_fetch("api", "kernels", notebook.kernel_id, method="DELETE")
