"""What a client writes into `collab_exec` is put back within a second, whether the server
has work in the document or not: forged requests and inputs go, changed statuses, people
and kernel states come back. Collaborators still type into a pending input's value."""

from __future__ import annotations

from typing import Any

from pycrdt import Map, Text

from ..clients import RoomClient
from ..conftest import OpenNotebookFactory, started
from ..reliability.test_hostile import has_seen

PRINTER = "import time\nprint('started', flush=True)\nfor i in range(600):\n    time.sleep(0.05)"
REPAIR_DEADLINE = 1.0


def collab_exec(client: RoomClient) -> dict[str, Any]:
    root = client.notebook.ydoc.get("collab_exec", type=Map)
    return dict(root.to_py() or {})


def forge(mallory: RoomClient, request_id: str, kernel_id: str) -> None:
    """A forged request and input, a finished request changed, the kernel shown dead."""
    root = mallory.notebook.ydoc.get("collab_exec", type=Map)
    with mallory.notebook.ydoc.transaction():
        requests = root["requests"]
        requests["forged"] = Map(
            {
                "cell_id": "cell-1",
                "kernel_id": kernel_id,
                "status": "ok",
                "submitted_by": {"username": "alice", "display_name": "Alice"},
            }
        )
        requests[request_id]["status"] = "error"
        requests[request_id]["submitted_by"] = {"username": "eve", "display_name": "Eve"}
        inputs = root.get("inputs")
        if not isinstance(inputs, Map):
            inputs = Map()
            root["inputs"] = inputs
        inputs["forged-input"] = Map(
            {
                "request_id": request_id,
                "cell_id": "cell-0",
                "prompt": "Password:",
                "status": "pending",
            }
        )
        root["kernel"]["execution_state"] = "dead"


async def repaired_within_deadline(
    alice: RoomClient, mallory: RoomClient, before: dict[str, Any], what: str
) -> None:
    def repaired() -> bool:
        return has_seen(alice, mallory) and collab_exec(alice) == before

    await alice.wait_until(repaired, timeout=REPAIR_DEADLINE, what=what)


async def test_a_finished_documents_records_are_put_back(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("guard-idle.ipynb", ["print('done')", "1"]) as notebook:
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        alice = notebook.client
        await alice.wait_until(
            lambda: (alice.kernel_state() or {}).get("execution_state") == "idle",
            what="the kernel idle",
        )
        before = collab_exec(alice)
        async with notebook.join() as mallory:
            forge(mallory, run, notebook.kernel_id)
            await repaired_within_deadline(
                alice, mallory, before, "the records put back with no work in the document"
            )
            # And again, some other time.
            with mallory.notebook.ydoc.transaction():
                del mallory.notebook.ydoc.get("collab_exec", type=Map)["requests"]
            await repaired_within_deadline(alice, mallory, before, "the deleted history back")


async def test_records_are_put_back_while_a_cell_runs(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("guard-busy.ipynb", ["print('done')", PRINTER]) as notebook:
        [done] = await notebook.run("cell-0")
        await notebook.wait_statuses([done], ["ok"])
        [running] = await notebook.run("cell-1")
        alice = notebook.client
        await alice.wait_until(lambda: started(alice, "cell-1"), what="the printer running")
        await alice.wait_until(
            lambda: (alice.kernel_state() or {}).get("execution_state") == "busy",
            what="the kernel busy",
        )
        before = collab_exec(alice)
        assert before["requests"][running]["status"] == "running"
        async with notebook.join() as mallory:
            forge(mallory, done, notebook.kernel_id)
            await repaired_within_deadline(
                alice, mallory, before, "the records put back while a cell runs"
            )
            with mallory.notebook.ydoc.transaction():
                mallory.notebook.ydoc.get("collab_exec", type=Map)["requests"][running][
                    "status"
                ] = "cancelled"
            await repaired_within_deadline(alice, mallory, before, "the running status back")


async def test_a_room_where_nothing_ran_gets_no_records_from_clients(
    open_notebook: OpenNotebookFactory,
) -> None:
    async with open_notebook("guard-fresh.ipynb", ["1"]) as notebook:
        alice = notebook.client
        before = collab_exec(alice)
        async with notebook.join() as mallory:
            root = mallory.notebook.ydoc.get("collab_exec", type=Map)
            with mallory.notebook.ydoc.transaction():
                root["requests"] = Map(
                    {"forged": Map({"cell_id": "cell-0", "status": "ok", "kernel_id": "k"})}
                )
            await repaired_within_deadline(alice, mallory, before, "the forged request gone")


async def test_collaborators_type_into_a_pending_input_and_nothing_else(
    open_notebook: OpenNotebookFactory,
) -> None:
    source = "name = input('Name?')\nprint('Hello', name)"
    async with open_notebook("guard-input.ipynb", [source]) as notebook:
        [run] = await notebook.run("cell-0")
        alice = notebook.client
        input_id = await alice.wait_for_input("Name?")
        async with notebook.join() as mallory:
            await mallory.wait_until(
                lambda: mallory.pending_input("Name?") == input_id, what="the input at Mallory"
            )
            entry = mallory.notebook.ydoc.get("collab_exec", type=Map)["inputs"][input_id]
            value = entry["value"]
            assert isinstance(value, Text)
            with mallory.notebook.ydoc.transaction():
                value += "Ada"
            await alice.wait_until(lambda: has_seen(alice, mallory), what="the typing at Alice")

            def typed() -> bool:
                return bool(alice.inputs()[input_id]["value"] == "Ada")

            assert typed()
            before = collab_exec(alice)
            with mallory.notebook.ydoc.transaction():
                entry["prompt"] = "Password:"
                entry["status"] = "answered"
            await repaired_within_deadline(alice, mallory, before, "the prompt and status back")
            assert typed()
        code, reply = await notebook.answer(input_id, "Ada")
        assert (code, reply) == (200, {"status": "answered"})
        await notebook.wait_statuses([run], ["ok"])
