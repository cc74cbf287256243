"""Collaborative input(): one shared box, exactly one answer, no deadlocks, no leaked secret."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map, Text

from ..clients import RoomClient, saved_cell, wait_for
from ..conftest import OpenNotebookFactory, answer, statuses

pytestmark = pytest.mark.both_kernels

ASK_NAME = 'name = input("Name?")\nprint(f"Hello {name}")'
SECRET = "s3cr3t-TOKEN-4711"
ROUNDS = 100


def outputs_text(client: Any, cell_id: str) -> list[tuple[str, str]]:
    return [(o.get("name", ""), o.get("text", "")) for o in client.cell(cell_id)["outputs"]]


def stored_files(root: Path, notebook: str) -> dict[str, bytes]:
    """The bytes of the .ipynb and of the YStore database files."""
    paths = [root / notebook, *root.glob(".jupyter_ystore.db*")]
    return {path.name: path.read_bytes() for path in paths}


@pytest.mark.enterprise_gateway
async def test_an_answer_reaches_the_kernel_and_is_echoed(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = ["print('before', flush=True)\n" + ASK_NAME]
    async with open_notebook("ask.ipynb", sources) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        input_id = await client.wait_for_input("Name?")
        assert input_id is not None
        entry = client.inputs()[input_id]
        assert entry["password"] is False
        assert entry["value"] == ""
        assert entry["request_id"] == request_id
        assert statuses(client, request_id) == ["awaiting_input"]
        # What the cell printed before asking shows (IOPub and stdin are separate channels).
        await client.wait_until(lambda: outputs_text(client, "cell-0") == [("stdout", "before\n")])

        code, reply = await notebook.answer(input_id, "Bob")
        assert (code, reply) == (200, {"status": "answered"})
        await notebook.wait_statuses([request_id], ["ok"])
        await notebook.wait_idle()
        assert outputs_text(client, "cell-0") == [
            ("stdout", "before\n"),
            ("stdin", "Name? Bob\n"),
            ("stdout", "Hello Bob\n"),
        ]
        entry = client.inputs()[input_id]
        assert entry["status"] == "answered"
        assert entry["value"] == "Bob"
        assert entry["answered_by"]["username"]
        assert client.status_history[request_id] == [
            "queued",
            "running",
            "awaiting_input",
            "running",
            "ok",
        ]
        # A late answer learns who answered.
        code, reply = await notebook.answer(input_id, "Eve")
        assert code == 409
        assert reply["status"] == "answered"
        assert reply["answered_by"] == entry["answered_by"]


async def test_concurrent_answers_exactly_one_wins(open_notebook: OpenNotebookFactory) -> None:
    asking = f"answers = []\nfor i in range({ROUNDS}):\n    answers.append(input(f'q{{i}}'))"
    sources = [asking, "import json\nprint(json.dumps(answers))"]
    async with open_notebook("race.ipynb", sources) as notebook:
        client = notebook.client
        await notebook.run("cell-0")
        winners = []
        for round_ in range(ROUNDS):
            prompt = f"q{round_}"
            input_id = await client.wait_for_input(prompt)
            first, second = await asyncio.gather(
                notebook.answer(input_id, f"a{round_}"),
                notebook.answer(input_id, f"b{round_}"),
            )
            codes = sorted([first[0], second[0]])
            assert codes == [200, 409], (round_, first, second)
            winner, loser = (first, second) if first[0] == 200 else (second, first)
            winners.append(f"a{round_}" if winner is first else f"b{round_}")
            assert loser[1]["status"] == "answered"
        [printed] = await notebook.run("cell-1")
        await notebook.wait_statuses([printed], ["ok"])
        [output] = client.cell("cell-1")["outputs"]
        assert json.loads(output["text"]) == winners


async def test_typing_from_two_clients_merges(open_notebook: OpenNotebookFactory) -> None:
    async with open_notebook("typing.ipynb", [ASK_NAME]) as notebook, notebook.join() as bob:
        alice = notebook.client
        [request_id] = await notebook.run("cell-0")
        input_id = await alice.wait_for_input()
        await bob.wait_for_input()

        def shared_text(client: RoomClient) -> Text:
            entries = client.notebook.ydoc.get("collab_exec", type=Map)["inputs"]
            text = entries[input_id]["value"]
            assert isinstance(text, Text)
            return text

        def both_edits_in(client: RoomClient) -> Callable[[], bool]:
            return lambda: len(str(shared_text(client))) == len("AdaLovelace")

        # Both type at once, before either sees the other.
        shared_text(alice).insert(0, "Ada")
        shared_text(bob).insert(0, "Lovelace")
        for client in (alice, bob):
            await client.wait_until(both_edits_in(client), what="the two edits to merge")
        merged = str(shared_text(alice))
        assert merged == str(shared_text(bob))
        # Concurrent inserts at one place keep both, in an order every client agrees on.
        assert merged in ("AdaLovelace", "LovelaceAda")

        code, _ = await notebook.answer(input_id, merged)
        assert code == 200
        await notebook.wait_statuses([request_id], ["ok"])
        assert outputs_text(alice, "cell-0")[-1] == ("stdout", f"Hello {merged}\n")


async def test_getpass_secret_never_stored_or_logged(
    jp_root_dir: Path,
    jp_serverapp: Any,
    caplog: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    caplog.set_level("DEBUG")
    sources = ["from getpass import getpass\nsecret = getpass('Password:')\nprint(len(secret))"]
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    async with open_notebook("secret.ipynb", sources) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        input_id = await client.wait_for_input("Password:")
        assert client.inputs()[input_id]["password"] is True
        code, _ = await notebook.answer(input_id, SECRET)
        assert code == 200
        await notebook.wait_statuses([request_id], ["ok"])
        assert outputs_text(client, "cell-0") == [
            ("stdin", "Password: ········\n"),
            ("stdout", f"{len(SECRET)}\n"),
        ]
        assert client.inputs()[input_id]["value"] == ""
        document_bytes = client.notebook.ydoc.get_update()
    await wait_for(lambda: not service.active_request_ids, what="the run")
    on_disk = jp_root_dir / notebook.path
    await wait_for(lambda: saved_cell(on_disk).get("execution_count") == 1, what="the save")
    secret = SECRET.encode()
    assert secret not in document_bytes
    stored = stored_files(jp_root_dir, notebook.path)
    assert ".jupyter_ystore.db" in stored
    for name, content in stored.items():
        assert secret not in content, name
    assert SECRET not in caplog.text
    assert "POST" in caplog.text  # the log was captured at all


@pytest.mark.enterprise_gateway
@pytest.mark.parametrize("action", ["interrupt", "restart"])
async def test_interrupt_or_restart_cancels_a_pending_input(
    action: str, open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    async with open_notebook("cancel-input.ipynb", [ASK_NAME]) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        input_id = await client.wait_for_input("Name?")
        await jp_fetch("api", "kernels", notebook.kernel_id, action, method="POST", body="")
        await client.wait_until(
            lambda: client.inputs()[input_id]["status"] == "cancelled", what="input cancelled"
        )
        await notebook.wait_statuses([request_id], ["interrupted"])
        await notebook.wait_idle()
        code, reply = await notebook.answer(input_id, "too late")
        assert code == 409
        assert reply["status"] == "cancelled"


@pytest.mark.parametrize("document_cleanup_delay", [1.0])
async def test_pending_input_outlives_its_browsers_without_blocking_the_server(
    document_cleanup_delay: float, open_notebook: OpenNotebookFactory
) -> None:
    async with open_notebook("waiting.ipynb", [ASK_NAME]) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        await client.wait_for_input("Name?")
    # Nobody is connected. Another notebook, on another kernel, still runs.
    async with open_notebook("other.ipynb", ["print('other notebook')"]) as other:
        [other_request] = await other.run("cell-0")
        await other.wait_statuses([other_request], ["ok"])
    # Whoever opens the notebook later finds the prompt and answers it.
    async with notebook.join() as late:
        input_id = late.pending_input("Name?")
        assert input_id is not None
        code, _ = await notebook.answer(input_id, "Grace")
        assert code == 200
        await late.wait_until(lambda: statuses(late, request_id) == ["ok"])
        assert outputs_text(late, "cell-0")[-1] == ("stdout", "Hello Grace\n")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"document_id": "json:notebook:x", "input_id": "i"}, 400),
        ({"document_id": "json:notebook:x", "input_id": "", "value": "v"}, 400),
        ({"document_id": "json:notebook:x", "input_id": "i", "value": 3}, 400),
        ({"document_id": "json:notebook:unknown", "input_id": "i", "value": "v"}, 404),
    ],
)
async def test_input_rejects_bad_bodies(post_json: Any, body: Any, code: int) -> None:
    status, reply = await post_json("api", "collab-exec", "input", body=body)
    assert status == code
    assert reply["message"]


async def test_unknown_input_of_a_known_document_is_404(
    notebook_factory: Any, document_id_for: Any, post_json: Any
) -> None:
    path = notebook_factory("known.ipynb", ["1"])
    document_id, _ = await document_id_for(path)
    code, reply = await answer(post_json, document_id, "no-such-input", "v")
    assert code == 404
    assert "Unknown input" in reply["message"]


async def test_tampering_with_inputs_and_requests_is_repaired(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = ["from getpass import getpass\nsecret = getpass('Password:')"]
    async with open_notebook("tamper.ipynb", sources) as notebook:
        client = notebook.client
        [request_id] = await notebook.run("cell-0")
        input_id = await client.wait_for_input("Password:")
        root = client.notebook.ydoc.get("collab_exec", type=Map)
        with client.notebook.ydoc.transaction():
            entry = root["inputs"][input_id]
            entry["password"] = False
            entry["status"] = "answered"
            entry["value"].insert(0, "typed into the doc")
            root["inputs"]["forged"] = Map({"request_id": request_id, "status": "pending"})
            root["requests"][request_id]["status"] = "ok"
            root["requests"]["fake"] = Map(
                {"cell_id": "cell-0", "kernel_id": notebook.kernel_id, "status": "running"}
            )

        def repaired() -> bool:
            real = client.inputs().get(input_id, {})
            return (
                real.get("password") is True
                and real.get("status") == "pending"
                and real.get("value") == ""
                # What the server never wrote goes.
                and "forged" not in client.inputs()
                and "fake" not in client.requests()
                and statuses(client, request_id) == ["awaiting_input"]
            )

        await client.wait_until(repaired, what="the server to repair collab_exec")
        code, _ = await notebook.answer(input_id, SECRET)
        assert code == 200
        await notebook.wait_statuses([request_id], ["ok"])
