"""Request lifecycle against a real kernel: queue order, stop-on-error, cancel, interrupt,
restart, kernel death, pruning, timing, identity and the kernel state mirror."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.auth.identity import IdentityProvider, User
from pycrdt import Array, Doc, Map

from jupyterlab_collab_exec.doc.collab_map import requests_map
from jupyterlab_collab_exec.execution.ledger import AcceptanceClock
from jupyterlab_collab_exec.execution.reconcile import reconcile
from jupyterlab_collab_exec.execution.request_records import update_request

from ..conftest import DocumentIdFor, OpenNotebookFactory, started

pytestmark = pytest.mark.both_kernels

SLOW = "import time\nprint('started', flush=True)\ntime.sleep({seconds})\nprint('slow done')"


async def test_batches_run_fifo_per_kernel(open_notebook: OpenNotebookFactory) -> None:
    sources = [
        "import time\norder = []\ntime.sleep(0.5)\norder.append('a')",
        "order.append('b')",
        "order.append('c')",
        "print(order)",
    ]
    async with open_notebook("fifo.ipynb", sources) as notebook:
        client = notebook.client
        first = await notebook.run("cell-0", "cell-1")
        second = await notebook.run("cell-2")
        third = await notebook.run("cell-3")
        everything = [*first, *second, *third]
        await notebook.wait_statuses(everything, ["ok"] * 4)
        await notebook.wait_idle()
        assert client.cell("cell-3")["outputs"][0]["text"] == "['a', 'b', 'c']\n"
        counts = [client.cell(f"cell-{index}")["execution_count"] for index in range(4)]
        assert counts == sorted(counts)
        assert len(set(counts)) == 4
        for request_id in everything:
            assert client.status_history[request_id] == ["queued", "running", "ok"]
        stamps = [client.requests()[request_id]["submitted_at"] for request_id in everything]
        assert stamps == sorted(stamps)
        assert len(set(stamps)) == len(stamps)


async def test_cancel_removes_queued_requests_only(
    open_notebook: OpenNotebookFactory, post_json: Any
) -> None:
    sources = [SLOW.format(seconds=2), "print('one')", "print('two')", "print('three')"]
    async with open_notebook("cancel.ipynb", sources) as notebook:
        client = notebook.client
        document_id = notebook.document_id
        slow, one, two, three = await notebook.run("cell-0", "cell-1", "cell-2", "cell-3")
        await client.wait_until(lambda: started(client, "cell-0"))

        code, answer = await post_json(
            "api",
            "collab-exec",
            "cancel",
            body={"document_id": document_id, "request_ids": [one, slow, "unknown"]},
        )
        assert code == 200
        assert answer == {"cancelled": [one]}
        code, answer = await post_json(
            "api", "collab-exec", "cancel", body={"document_id": document_id}
        )
        assert code == 200
        assert sorted(answer["cancelled"]) == sorted([two, three])

        await notebook.wait_statuses(
            [slow, one, two, three], ["ok", "cancelled", "cancelled", "cancelled"]
        )
        await notebook.wait_idle()
        for cell_id in ("cell-1", "cell-2", "cell-3"):
            assert client.cell(cell_id)["outputs"] == []
            assert client.cell(cell_id)["execution_count"] is None


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"document_id": 4}, 400),
        ({"document_id": "json:notebook:x", "request_ids": "all"}, 400),
        ({"document_id": "json:notebook:x", "request_ids": [1]}, 400),
        ({"document_id": "json:notebook:unknown-file"}, 404),
    ],
)
async def test_cancel_rejects_bad_bodies(post_json: Any, body: Any, code: int) -> None:
    status, answer = await post_json("api", "collab-exec", "cancel", body=body)
    assert status == code
    assert answer["message"]


@pytest.mark.enterprise_gateway
async def test_interrupt_fails_running_and_cancels_queue(
    open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    sources = [SLOW.format(seconds=60), "print('queued')"]
    async with open_notebook("interrupt.ipynb", sources) as notebook:
        client = notebook.client
        running, queued = await notebook.run("cell-0", "cell-1")
        await client.wait_until(lambda: started(client, "cell-0"))
        await jp_fetch("api", "kernels", notebook.kernel_id, "interrupt", method="POST", body="")
        await notebook.wait_statuses([running, queued], ["interrupted", "cancelled"])
        await notebook.wait_idle()
        started_output, error = client.cell("cell-0")["outputs"]
        assert started_output["text"] == "started\n"
        assert error["ename"] == "KeyboardInterrupt"
        # The kernel survives and runs the next request.
        [again] = await notebook.run("cell-1")
        await notebook.wait_statuses([again], ["ok"])


@pytest.mark.enterprise_gateway
async def test_restart_cancels_everything_and_resets_cells(
    open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    sources = [SLOW.format(seconds=60), "print('queued')"]
    async with open_notebook("restart.ipynb", sources) as notebook:
        client = notebook.client
        kernel_id = notebook.kernel_id
        running, queued = await notebook.run("cell-0", "cell-1")
        await client.wait_until(lambda: started(client, "cell-0"))
        await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="")
        await notebook.wait_statuses([running, queued], ["interrupted", "cancelled"])
        await notebook.wait_idle()
        await client.wait_until(
            lambda: client.kernel_state() == {"kernel_id": kernel_id, "execution_state": "idle"},
            what="kernel idle after restart",
        )
        [again] = await notebook.run("cell-1")
        await notebook.wait_statuses([again], ["ok"])
        assert client.cell("cell-1")["execution_count"] == 1


@pytest.mark.enterprise_gateway
async def test_kernel_death_interrupts_running_and_cancels_queue(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = ["import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "print('queued')"]
    async with open_notebook("death.ipynb", sources) as notebook:
        client = notebook.client
        dying, queued = await notebook.run("cell-0", "cell-1")
        await notebook.wait_statuses(
            [dying, queued], ["interrupted", "cancelled"], what="death noticed"
        )
        await notebook.wait_idle()
        # jupyter_client restarts the kernel, and the next request runs on the new one.
        [again] = await notebook.run("cell-1")
        await notebook.wait_statuses([again], ["ok"], what="rerun")
        assert client.cell("cell-1")["execution_count"] == 1


async def test_kernel_state_and_timing_are_recorded(open_notebook: OpenNotebookFactory) -> None:
    async with open_notebook("timing.ipynb", ["1 + 1"]) as notebook:
        client = notebook.client
        kernel_id = notebook.kernel_id
        code, answer = await notebook.post_execute("cell-0", record_timing=True)
        assert code == 202
        request_id = answer["requests"][0]["request_id"]
        await notebook.wait_statuses([request_id], ["ok"])
        await client.wait_until(lambda: "execution" in client.cell("cell-0")["metadata"])
        timing = client.cell("cell-0")["metadata"]["execution"]
        assert set(timing) == {
            "iopub.status.busy",
            "iopub.execute_input",
            "iopub.status.idle",
            "shell.execute_reply.started",
            "shell.execute_reply",
        }
        assert timing["iopub.status.busy"] <= timing["shell.execute_reply"]
        await client.wait_until(
            lambda: client.kernel_state() == {"kernel_id": kernel_id, "execution_state": "idle"}
        )


@pytest.mark.parametrize("extra_server_config", [{"CollabExecApp": {"retained_requests": 3}}])
async def test_finished_requests_are_pruned(
    extra_server_config: Any, open_notebook: OpenNotebookFactory
) -> None:
    async with open_notebook("prune.ipynb", ["1", "2", "3", "4", "5"]) as notebook:
        client = notebook.client
        latest: dict[str, str] = {}
        for round_ in range(3):
            ids = await notebook.run(*(f"cell-{index}" for index in range(5)))
            latest = {f"cell-{index}": request_id for index, request_id in enumerate(ids)}
            await notebook.wait_statuses(ids, ["ok"] * 5)
            # 3 retained, a quarter over before pruning, and the latest of each cell.
            assert len(client.requests()) <= 5, round_
        # The latest request of every cell survives pruning.
        assert set(client.requests()) == set(latest.values())


class TwoPeople(IdentityProvider):
    """Two people behind two tokens, as JupyterHub would present them to a shared server."""

    people = {
        "alice-token": User(username="alice", name="Alice Liddell", display_name="Alice Liddell"),
        "bob-token": User(username="bob", name="Bob Builder", display_name="Bob Builder"),
    }

    def get_user(self, handler: Any) -> User | None:
        header = handler.request.headers.get("Authorization", "")
        user = self.people.get(header.removeprefix("token ").strip())
        if user is not None:
            # Token-authenticated requests are exempt from XSRF checks, as with real tokens.
            handler._token_authenticated = True
        return user


@pytest.mark.parametrize(
    "extra_server_config", [{"ServerApp": {"identity_provider_class": TwoPeople}}]
)
async def test_submitted_by_is_the_caller(
    extra_server_config: Any,
    notebook_factory: Any,
    document_id_for: DocumentIdFor,
    jp_fetch: Any,
    jp_serverapp: Any,
) -> None:
    path = notebook_factory("people.ipynb", ["1", "2"])
    alice = {"Authorization": "token alice-token"}
    bob = {"Authorization": "token bob-token"}
    document_id, _ = await document_id_for(path, headers=alice)
    response = await jp_fetch("api", "kernels", method="POST", headers=alice, body="{}")
    kernel_id = json.loads(response.body)["id"]
    submitted = {}
    for cell_id, headers in (("cell-0", alice), ("cell-1", bob)):
        response = await jp_fetch(
            "api",
            "collab-exec",
            "execute",
            method="POST",
            headers=headers,
            body=json.dumps(
                {
                    "document_id": document_id,
                    "kernel_id": kernel_id,
                    "cells": [{"cell_id": cell_id}],
                }
            ),
        )
        submitted[cell_id] = json.loads(response.body)["requests"][0]["request_id"]
    rooms = jp_serverapp.web_app.settings["collab_exec_service"]._rooms
    entries = requests_map(rooms.live_notebook(document_id).ydoc)
    assert entries[submitted["cell-0"]]["submitted_by"] == {
        "username": "alice",
        "display_name": "Alice Liddell",
    }
    assert entries[submitted["cell-1"]]["submitted_by"] == {
        "username": "bob",
        "display_name": "Bob Builder",
    }


def test_acceptance_stamps_strictly_increase() -> None:
    clock = AcceptanceClock()
    stamps = [clock.stamp() for _ in range(1000)]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)


def test_results_lost_with_reloaded_cells_are_not_claimed() -> None:
    """After a crash jupyter_server_ydoc reloads the cells from an older file while
    `collab_exec` comes from the YStore: a finished request whose count its cell does not
    show becomes `interrupted`; older requests and matching ones stay as they are."""
    ydoc: Doc[Any] = Doc()
    ycells = ydoc.get("cells", type=Array)
    for cell_id, count in (("kept", 3), ("lost", None), ("stale", 7)):
        ycells.append(Map({"id": cell_id, "execution_count": count, "outputs": Array()}))
    records = [
        ("old-kept", "kept", 1, "ok", 1),
        ("kept-run", "kept", 2, "ok", 3),
        ("old-lost", "lost", 3, "ok", 2),
        ("lost-run", "lost", 4, "ok", 4),
        ("stale-run", "stale", 5, "error", 5),
    ]
    for request_id, cell_id, stamp, status, count in records:
        update_request(
            ydoc,
            request_id,
            cell_id=cell_id,
            submitted_at=stamp,
            status=status,
            execution_count=count,
        )

    def statuses_now() -> dict[str, str]:
        return {rid: entry["status"] for rid, entry in requests_map(ydoc).items()}

    untouched = statuses_now()
    assert (
        reconcile(ydoc, active_request_ids=set(), pending_input_ids=set(), now=9, ycells=ycells)
        == []
    )
    assert statuses_now() == untouched

    settled = reconcile(
        ydoc,
        active_request_ids=set(),
        pending_input_ids=set(),
        now=9,
        ycells=ycells,
        cells_replaced=True,
    )
    assert sorted(settled) == ["lost-run", "stale-run"]
    assert statuses_now() == {
        "old-kept": "ok",
        "kept-run": "ok",
        "old-lost": "ok",
        "lost-run": "interrupted",
        "stale-run": "interrupted",
    }
