"""Collaborative input(): one shared box, exactly one answer, no deadlocks, no leaked secret."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map, Text

from .clients import saved_cell, wait_for
from .conftest import all_cells_idle, answer, statuses

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


async def test_an_answer_reaches_the_kernel_and_is_echoed(
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    path = notebook_factory("ask.ipynb", ["print('before', flush=True)\n" + ASK_NAME])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with join_room(document_id, session_id) as client:
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await client.wait_until(lambda: client.pending_input("Name?") is not None)
        input_id = client.pending_input("Name?")
        assert input_id is not None
        entry = client.inputs()[input_id]
        assert entry["password"] is False
        assert entry["value"] == ""
        assert entry["request_id"] == request_id
        assert statuses(client, request_id) == ["awaiting_input"]
        # What the cell printed before asking shows (IOPub and stdin are separate channels).
        await client.wait_until(lambda: outputs_text(client, "cell-0") == [("stdout", "before\n")])

        code, reply = await answer(post_json, document_id, input_id, "Bob")
        assert (code, reply) == (200, {"status": "answered"})
        await client.wait_until(lambda: statuses(client, request_id) == ["ok"])
        await client.wait_until(lambda: all_cells_idle(client))
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
        code, reply = await answer(post_json, document_id, input_id, "Eve")
        assert code == 409
        assert reply["status"] == "answered"
        assert reply["answered_by"] == entry["answered_by"]


async def test_concurrent_answers_exactly_one_wins(
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    asking = f"answers = []\nfor i in range({ROUNDS}):\n    answers.append(input(f'q{{i}}'))"
    path = notebook_factory("race.ipynb", [asking, "import json\nprint(json.dumps(answers))"])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with join_room(document_id, session_id) as client:
        await execute(document_id, kernel_id, "cell-0")
        winners = []
        for round_ in range(ROUNDS):
            prompt = f"q{round_}"
            await client.wait_until(lambda prompt=prompt: client.pending_input(prompt) is not None)
            input_id = client.pending_input(prompt)
            first, second = await asyncio.gather(
                answer(post_json, document_id, input_id, f"a{round_}"),
                answer(post_json, document_id, input_id, f"b{round_}"),
            )
            codes = sorted([first[0], second[0]])
            assert codes == [200, 409], (round_, first, second)
            winner, loser = (first, second) if first[0] == 200 else (second, first)
            winners.append(f"a{round_}" if winner is first else f"b{round_}")
            assert loser[1]["status"] == "answered"
        [printed] = await execute(document_id, kernel_id, "cell-1")
        await client.wait_until(lambda: statuses(client, printed) == ["ok"])
        [output] = client.cell("cell-1")["outputs"]
        assert json.loads(output["text"]) == winners


async def test_typing_from_two_clients_merges(
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    path = notebook_factory("typing.ipynb", [ASK_NAME])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with (
        join_room(document_id, session_id) as alice,
        join_room(document_id, session_id) as bob,
    ):
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await alice.wait_until(lambda: alice.pending_input() is not None)
        await bob.wait_until(lambda: bob.pending_input() is not None)
        input_id = alice.pending_input()

        def shared_text(client: Any) -> Text:
            entries = client.notebook.ydoc.get("collab_exec", type=Map)["inputs"]
            text = entries[input_id]["value"]
            assert isinstance(text, Text)
            return text

        # Both type at once, before either sees the other.
        shared_text(alice).insert(0, "Ada")
        shared_text(bob).insert(0, "Lovelace")
        for client in (alice, bob):
            await client.wait_until(
                lambda client=client: len(str(shared_text(client))) == len("AdaLovelace"),
                what="the two edits to merge",
            )
        merged = str(shared_text(alice))
        assert merged == str(shared_text(bob))
        # Concurrent inserts at one place keep both, in an order every client agrees on.
        assert merged in ("AdaLovelace", "LovelaceAda")

        code, _ = await answer(post_json, document_id, input_id, merged)
        assert code == 200
        await alice.wait_until(lambda: statuses(alice, request_id) == ["ok"])
        assert outputs_text(alice, "cell-0")[-1] == ("stdout", f"Hello {merged}\n")


async def test_getpass_secret_never_stored_or_logged(
    jp_root_dir: Path,
    jp_serverapp: Any,
    caplog: Any,
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    caplog.set_level("DEBUG")
    path = notebook_factory(
        "secret.ipynb",
        ["from getpass import getpass\nsecret = getpass('Password:')\nprint(len(secret))"],
    )
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    async with join_room(document_id, session_id) as client:
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await client.wait_until(lambda: client.pending_input("Password:") is not None)
        input_id = client.pending_input("Password:")
        assert client.inputs()[input_id]["password"] is True
        code, _ = await answer(post_json, document_id, input_id, SECRET)
        assert code == 200
        await client.wait_until(lambda: statuses(client, request_id) == ["ok"])
        assert outputs_text(client, "cell-0") == [
            ("stdin", "Password: ········\n"),
            ("stdout", f"{len(SECRET)}\n"),
        ]
        assert client.inputs()[input_id]["value"] == ""
        document_bytes = client.notebook.ydoc.get_update()
    await wait_for(lambda: not service.active_request_ids, what="the run")
    on_disk = jp_root_dir / path
    await wait_for(lambda: saved_cell(on_disk).get("execution_count") == 1, what="the save")
    secret = SECRET.encode()
    assert secret not in document_bytes
    stored = stored_files(jp_root_dir, path)
    assert ".jupyter_ystore.db" in stored
    for name, content in stored.items():
        assert secret not in content, name
    assert SECRET not in caplog.text
    assert "POST" in caplog.text  # the log was captured at all


@pytest.mark.parametrize("action", ["interrupt", "restart"])
async def test_interrupt_or_restart_cancels_a_pending_input(
    action: str,
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
    jp_fetch: Any,
) -> None:
    path = notebook_factory("cancel-input.ipynb", [ASK_NAME])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with join_room(document_id, session_id) as client:
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await client.wait_until(lambda: client.pending_input("Name?") is not None)
        input_id = client.pending_input("Name?")
        await jp_fetch("api", "kernels", kernel_id, action, method="POST", body="")
        await client.wait_until(
            lambda: client.inputs()[input_id]["status"] == "cancelled", what="input cancelled"
        )
        await client.wait_until(lambda: statuses(client, request_id) == ["interrupted"])
        await client.wait_until(lambda: all_cells_idle(client))
        code, reply = await answer(post_json, document_id, input_id, "too late")
        assert code == 409
        assert reply["status"] == "cancelled"


@pytest.mark.parametrize("document_cleanup_delay", [1.0])
async def test_pending_input_outlives_its_browsers_without_blocking_the_server(
    document_cleanup_delay: float,
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    path = notebook_factory("waiting.ipynb", [ASK_NAME])
    other = notebook_factory("other.ipynb", ["print('other notebook')"])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with join_room(document_id, session_id) as client:
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await client.wait_until(lambda: client.pending_input("Name?") is not None)
    # Nobody is connected. Another notebook, on another kernel, still runs.
    other_id, other_session = await document_id_for(other)
    other_kernel = await start_kernel()
    async with join_room(other_id, other_session) as other_client:
        [other_request] = await execute(other_id, other_kernel, "cell-0")
        await other_client.wait_until(lambda: statuses(other_client, other_request) == ["ok"])
    # Whoever opens the notebook later finds the prompt and answers it.
    document_id, session_id = await document_id_for(path)
    async with join_room(document_id, session_id) as late:
        input_id = late.pending_input("Name?")
        assert input_id is not None
        code, _ = await answer(post_json, document_id, input_id, "Grace")
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
    notebook_factory: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    path = notebook_factory(
        "tamper.ipynb", ["from getpass import getpass\nsecret = getpass('Password:')"]
    )
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    async with join_room(document_id, session_id) as client:
        [request_id] = await execute(document_id, kernel_id, "cell-0")
        await client.wait_until(lambda: client.pending_input("Password:") is not None)
        input_id = client.pending_input("Password:")
        root = client.notebook.ydoc.get("collab_exec", type=Map)
        with client.notebook.ydoc.transaction():
            entry = root["inputs"][input_id]
            entry["password"] = False
            entry["status"] = "answered"
            entry["value"].insert(0, "typed into the doc")
            root["inputs"]["forged"] = Map({"request_id": request_id, "status": "pending"})
            root["requests"][request_id]["status"] = "ok"
            root["requests"]["fake"] = Map(
                {"cell_id": "cell-0", "kernel_id": kernel_id, "status": "running"}
            )

        def repaired() -> bool:
            real = client.inputs().get(input_id, {})
            return (
                real.get("password") is True
                and real.get("status") == "pending"
                and real.get("value") == ""
                and client.inputs().get("forged", {}).get("status") == "cancelled"
                and statuses(client, request_id, "fake") == ["awaiting_input", "interrupted"]
            )

        await client.wait_until(repaired, what="the server to repair collab_exec")
        code, _ = await answer(post_json, document_id, input_id, SECRET)
        assert code == 200
        await client.wait_until(lambda: statuses(client, request_id) == ["ok"])
