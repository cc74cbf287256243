"""Fault injection: the kernel client raises while connecting, sending and reading.

Each time the requests it touched end `interrupted` with the reason, the traceback is in
the log, and the next execution runs: nothing dies silently, and the queue goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from jupyter_client.asynchronous.client import AsyncKernelClient

from jupyterlab_collab_exec.kernel.channels import GatewayChannelsClient

from ..conftest import OpenNotebookFactory

pytestmark = pytest.mark.both_kernels

SLOW = "import time\nprint('started', flush=True)\ntime.sleep(1)\nprint('finished')"
DEADLINE = 30.0


class Injected(RuntimeError):
    pass


def raising_once(original: Callable[..., Any], where: str) -> Callable[..., Any]:
    raised: list[str] = []

    def patched(*args: Any, **kwargs: Any) -> Any:
        if not raised:
            raised.append(where)
            raise Injected(f"injected {where}")
        return original(*args, **kwargs)

    return patched


def always_raising(where: str) -> Callable[..., Any]:
    def patched(*args: Any, **kwargs: Any) -> Any:
        raise Injected(f"injected {where}")

    return patched


@pytest.mark.parametrize("fault", ["connecting", "sending", "reading"])
async def test_a_failing_kernel_client_settles_what_it_touched(
    fault: str,
    kernel_kind: str,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    jp_serverapp: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    sources = ["print('warm')", SLOW, "print('next')"]
    async with open_notebook("faults.ipynb", sources) as notebook:
        client = notebook.client
        if fault == "connecting":
            client_class = GatewayChannelsClient if kernel_kind == "gateway" else AsyncKernelClient
            monkeypatch.setattr(client_class, "start_channels", always_raising(fault))
            [hit] = await notebook.run("cell-0")
        else:
            [warm] = await notebook.run("cell-0")
            await notebook.wait_statuses([warm], ["ok"])
            conversation = service._runners[notebook.kernel_id]._link.conversation
            kernel_client = conversation._client
            if fault == "sending":
                monkeypatch.setattr(
                    kernel_client, "execute", raising_once(kernel_client.execute, fault)
                )
                [hit] = await notebook.run("cell-1")
            else:
                [hit] = await notebook.run("cell-1")
                await client.wait_until(
                    lambda: "started" in str(client.cell("cell-1")["outputs"]), what="the start"
                )
                if kernel_kind == "gateway":
                    channel = kernel_client.iopub_channel
                    monkeypatch.setattr(
                        channel, "get_nowait", raising_once(channel.get_nowait, fault)
                    )
                else:
                    session = kernel_client.session
                    monkeypatch.setattr(
                        session, "deserialize", raising_once(session.deserialize, fault)
                    )
        await notebook.wait_statuses(
            [hit], ["interrupted"], timeout=DEADLINE, what=f"the request hit while {fault} to end"
        )
        await notebook.wait_idle(timeout=DEADLINE)
        assert f"injected {fault}" in client.requests()[hit]["reason"]
        assert f"injected {fault}" in caplog.text
        assert "Traceback" in caplog.text
        monkeypatch.undo()
        [after] = await notebook.run("cell-2")
        await notebook.wait_statuses([after], ["ok"], what="the next run")
        assert client.cell("cell-2")["outputs"][0]["text"] == "next\n"
