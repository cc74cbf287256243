"""POST /api/collab-exec/execute against a real server, kernel and room client."""

from __future__ import annotations

import json
from typing import Any

import pytest
from jupyter_server.auth import Authorizer
from pycrdt import Array, Doc, Map

from ..conftest import OpenNotebookFactory, all_cells_idle, execute_body, statuses

pytestmark = pytest.mark.both_kernels


async def test_info(jp_fetch: Any) -> None:
    response = await jp_fetch("api", "collab-exec")
    info = json.loads(response.body)
    assert isinstance(info["version"], str)
    assert info["version"]
    assert "execute" in info["features"]


@pytest.mark.enterprise_gateway
async def test_room_client_sees_outputs_count_and_statuses(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("demo.ipynb", ["print('hello')\n40 + 2"]) as notebook:
        client = notebook.client
        code, answer = await notebook.post_execute("cell-0")
        assert code == 202, answer
        [accepted] = answer["requests"]
        assert accepted["cell_id"] == "cell-0"
        request_id = accepted["request_id"]

        await client.wait_until(
            lambda: client.requests().get(request_id, {}).get("status") == "ok",
            what="request ok",
        )
        await client.wait_until(
            lambda: client.cell("cell-0")["execution_state"] == "idle", what="idle cell"
        )
        cell = client.cell("cell-0")
        assert cell["outputs"] == [
            {"output_type": "stream", "name": "stdout", "text": "hello\n"},
            {
                "output_type": "execute_result",
                "data": {"text/plain": "42"},
                "metadata": {},
                "execution_count": 1.0,
            },
        ]
        assert cell["execution_count"] == 1
        assert client.status_history[request_id] == ["queued", "running", "ok"]
        entry = client.requests()[request_id]
        assert entry["kernel_id"] == notebook.kernel_id
        assert entry["cell_id"] == "cell-0"
        assert entry["execution_count"] == 1
        assert entry["submitted_at"] <= entry["started_at"] <= entry["finished_at"]
        assert entry["submitted_by"]["username"]


async def test_given_source_runs_and_batch_runs_in_order(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("order.ipynb", ["x = 1", "print(x)"]) as notebook:
        client = notebook.client
        _, last = await notebook.run({"cell_id": "cell-0", "source": "x = 'given'"}, "cell-1")
        await notebook.wait_statuses([last], ["ok"], what="batch done")
        await client.wait_until(lambda: client.cell("cell-1")["execution_count"] == 2)
        assert client.cell("cell-1")["outputs"][0]["text"] == "given\n"


async def test_error_fails_request_and_cancels_rest_of_batch(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("error.ipynb", ["1 / 0", "print('never')"]) as notebook:
        client = notebook.client
        failing, skipped = await notebook.run("cell-0", "cell-1")

        def settled() -> bool:
            return statuses(client, failing, skipped) == ["error", "cancelled"] and all_cells_idle(
                client
            )

        await client.wait_until(settled, what="error then cancelled")
        [error] = client.cell("cell-0")["outputs"]
        assert error["output_type"] == "error"
        assert error["ename"] == "ZeroDivisionError"
        assert client.cell("cell-1")["outputs"] == []
        assert client.cell("cell-1")["execution_count"] is None


VALID = {"document_id": "json:notebook:x", "kernel_id": "k", "cells": [{"cell_id": "c"}]}


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (None, "JSON object"),
        ([1, 2], "JSON object"),
        ({**VALID, "document_id": ""}, "document_id"),
        ({**VALID, "document_id": 3}, "document_id"),
        ({k: v for k, v in VALID.items() if k != "kernel_id"}, "kernel_id"),
        ({**VALID, "cells": []}, "cells"),
        ({**VALID, "cells": "c"}, "cells"),
        ({**VALID, "cells": ["c"]}, "cells[0]"),
        ({**VALID, "cells": [{"cell_id": ""}]}, "cell_id"),
        ({**VALID, "cells": [{"cell_id": "c", "source": 5}]}, "source"),
        ({**VALID, "record_timing": "yes"}, "record_timing"),
    ],
)
async def test_malformed_bodies_get_400(post_json: Any, body: Any, fragment: str) -> None:
    code, answer = await post_json("api", "collab-exec", "execute", body=body)
    assert code == 400
    assert fragment in answer["message"]


async def test_invalid_json_gets_400(post_json: Any) -> None:
    code, answer = await post_json("api", "collab-exec", "execute", body=None, raw=b"{not json")
    assert code == 400
    assert "not valid JSON" in answer["message"]


async def test_unknown_document_kernel_and_cell_get_404(
    notebook_factory: Any, document_id_for: Any, start_kernel: Any, post_json: Any
) -> None:
    path = notebook_factory("known.ipynb", ["1"])
    document_id, _ = await document_id_for(path)
    kernel_id = await start_kernel()

    async def execute(**changes: Any) -> tuple[int, dict[str, Any]]:
        body = execute_body(document_id, kernel_id, ["cell-0"])
        return await post_json("api", "collab-exec", "execute", body={**body, **changes})

    cases: list[tuple[dict[str, Any], str]] = [
        ({"document_id": "json:notebook:no-such-file-id"}, "Unknown document"),
        ({"document_id": "text:file:abc"}, "Unknown document"),
        ({"document_id": "garbage"}, "Unknown document"),
        ({"kernel_id": "00000000-0000-0000-0000-000000000000"}, "Unknown kernel"),
        ({"cells": [{"cell_id": "no-such-cell"}]}, "Unknown cell"),
    ]
    for changes, fragment in cases:
        code, answer = await execute(**changes)
        assert code == 404, (changes, answer)
        assert fragment in answer["message"]


class DenyExecute(Authorizer):
    """Allows everything but `execute` on `kernels`, and records what it was asked."""

    asked: list[tuple[str, str]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        self.asked.append((action, resource))
        return not (action == "execute" and resource == "kernels")


@pytest.mark.parametrize("extra_server_config", [{"ServerApp": {"authorizer_class": DenyExecute}}])
async def test_execute_needs_kernels_execute(
    extra_server_config: Any, jp_fetch: Any, post_json: Any
) -> None:
    DenyExecute.asked.clear()
    code, answer = await post_json("api", "collab-exec", "execute", body=VALID)
    assert code == 403
    assert "execute" in answer["message"]
    assert ("execute", "kernels") in DenyExecute.asked
    response = await jp_fetch("api", "collab-exec")
    assert response.code == 200
    assert ("read", "kernels") in DenyExecute.asked


@pytest.mark.parametrize("flush_interval", [2.0])
async def test_quick_cells_show_outputs_with_their_final_status(
    flush_interval: float, open_notebook: OpenNotebookFactory
) -> None:
    """A cell that ends within a flush interval of its start reaches clients in one update:
    no client ever sees its outputs while it still runs."""
    async with open_notebook("quick.ipynb", [f"print({index})" for index in range(5)]) as notebook:
        client = notebook.client
        replica: Doc[Any] = Doc()
        replica.apply_update(client.notebook.ydoc.get_update())
        seen: list[tuple[str, str | None]] = []

        def on_transaction(event: Any) -> None:
            # The doc cannot be read inside its observer; a replica can. Each cell of this
            # fresh notebook has one request.
            replica.apply_update(event.update)
            requests = replica.get("collab_exec", type=Map).get("requests")
            status_of_cell = {
                entry.get("cell_id"): entry.get("status")
                for entry in (requests.values() if isinstance(requests, Map) else [])
                if isinstance(entry, Map)
            }
            for ycell in replica.get("cells", type=Array):
                if len(ycell["outputs"]):
                    seen.append((ycell["id"], status_of_cell.get(ycell["id"])))

        subscription = client.notebook.ydoc.observe(on_transaction)
        request_ids = await notebook.run(*(f"cell-{i}" for i in range(5)))
        await notebook.wait_statuses(request_ids, ["ok"] * 5)
        client.notebook.ydoc.unobserve(subscription)
        assert seen
        assert {status for _, status in seen} == {"ok"}, seen
        assert [client.cell(f"cell-{i}")["outputs"][0]["text"] for i in range(5)] == [
            f"{i}\n" for i in range(5)
        ]
