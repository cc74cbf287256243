"""The run history with a real server and kernel: every settled request is recorded with
who ran it, its source, its outputs and the inputs answered (never a password), listed
newest first over REST, kept across a rename, restored into its cell for everyone, and bad
requests get a clear 4xx."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Map
from tornado.httpclient import HTTPClientError

from ..clients import DEFAULT_TIMEOUT, saved_cell, wait_for
from ..conftest import OpenNotebookFactory, PostJson
from ..inputs.test_inputs import outputs_text
from ..trust.test_trust import verdict

COUNTING = "runs = globals().get('runs', 0) + 1\nprint(f'run {runs}')"
SECRET = "history-secret-9f1c"


async def get_json(jp_fetch: Any, *path: str, **params: str) -> tuple[int, Any]:
    try:
        response = await jp_fetch("api", "collab-exec", *path, params=params)
    except HTTPClientError as error:
        body = error.response.body if error.response is not None else b"{}"
        return error.code, json.loads(body)
    return response.code, json.loads(response.body)


async def history(jp_fetch: Any, document_id: str, **params: str) -> dict[str, Any]:
    code, answer = await get_json(jp_fetch, "history", document_id=document_id, **params)
    assert code == 200, answer
    return dict(answer)


async def history_until(
    jp_fetch: Any, document_id: str, holds: Callable[[dict[str, Any]], bool], **params: str
) -> dict[str, Any]:
    """The history's answer once it holds: runs are written off the event loop."""
    deadline = asyncio.get_running_loop().time() + DEFAULT_TIMEOUT
    while not holds(answer := await history(jp_fetch, document_id, **params)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"Timed out waiting for the history: {answer}")
        await asyncio.sleep(0.05)
    return answer


async def three_runs_and_one(notebook: Any) -> list[str]:
    """Run cell 0 three times, then cell 1 once; the ids of cell 0's runs, in order."""
    runs = []
    for _ in range(3):
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        runs.append(run)
    [other] = await notebook.run("cell-1")
    await notebook.wait_statuses([other], ["ok"])
    return runs


async def test_three_runs_of_a_cell_are_three_records_newest_first(
    open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    async with open_notebook("history.ipynb", [COUNTING, "1 + 1"]) as notebook:
        runs = await three_runs_and_one(notebook)
        document_id = notebook.document_id
        answer = await history_until(
            jp_fetch, document_id, lambda found: len(found["runs"]) == 3, cell_id="cell-0"
        )
        listed = answer["runs"]
        assert [run["run_id"] for run in listed] == runs[::-1]
        # Views learn that the history changed from a count per cell, nothing more.
        client = notebook.client
        await client.wait_until(
            lambda: recorded_counts(client) == {"cell-0": 3, "cell-1": 1},
            what="the counts of recorded runs in collab_exec.history",
        )
        assert answer["next"] is None
        newest = listed[0]
        assert newest["cell_id"] == "cell-0"
        assert newest["source"] == COUNTING
        assert (newest["status"], newest["execution_count"], newest["output_count"]) == (
            "ok",
            3,
            1,
        )
        assert newest["submitted_by"]["username"]
        assert newest["submitted_at"] <= newest["started_at"] <= newest["finished_at"]
        assert newest["inputs"] == []
        assert "outputs" not in newest

        # One run, with its outputs as the cell showed them.
        code, first = await get_json(jp_fetch, "history", runs[0], document_id=document_id)
        assert code == 200, first
        assert first["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "run 1\n"}]

        # The whole notebook, and in pages.
        everything = await history_until(
            jp_fetch, document_id, lambda found: len(found["runs"]) == 4
        )
        assert [run["cell_id"] for run in everything["runs"]] == ["cell-1"] + ["cell-0"] * 3
        page = await history(jp_fetch, document_id, limit="2")
        assert len(page["runs"]) == 2
        rest = await history(jp_fetch, document_id, limit="2", before=page["next"])
        assert [run["run_id"] for run in rest["runs"]] == runs[1::-1]
        assert rest["next"] is None
        # One person's runs (each request here is its own anonymous user).
        username = newest["submitted_by"]["username"]
        mine = await history(jp_fetch, document_id, submitted_by=username)
        assert [run["run_id"] for run in mine["runs"]] == [
            run["run_id"]
            for run in everything["runs"]
            if run["submitted_by"]["username"] == username
        ]
        assert runs[-1] in [run["run_id"] for run in mine["runs"]]
        assert (await history(jp_fetch, document_id, submitted_by=f"not-{username}"))["runs"] == []

        # A rename keeps the file id, and so the history.
        renamed = "history-renamed.ipynb"
        await jp_fetch(
            "api",
            "contents",
            notebook.path,
            method="PATCH",
            body=f'{{"path": "{renamed}"}}',
        )
        after = await history(jp_fetch, document_id, cell_id="cell-0")
        assert [run["run_id"] for run in after["runs"]] == runs[::-1]


async def test_an_answered_input_is_kept_and_a_password_nowhere(
    open_notebook: OpenNotebookFactory,
    jp_fetch: Any,
    jp_root_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    source = (
        "from getpass import getpass\n"
        "name = input('Name?')\n"
        "secret = getpass('Password:')\n"
        "print(name, len(secret))"
    )
    async with open_notebook("history-input.ipynb", [source]) as notebook:
        client = notebook.client
        [run] = await notebook.run("cell-0")
        name_id = await client.wait_for_input("Name?")
        assert (await notebook.answer(name_id, "Ada"))[0] == 200
        password_id = await client.wait_for_input("Password:")
        assert (await notebook.answer(password_id, SECRET))[0] == 200
        await notebook.wait_statuses([run], ["ok"])

        found = await history_until(
            jp_fetch, notebook.document_id, lambda found: len(found["runs"]) == 1
        )
        [entry] = found["runs"]
        name, password = entry["inputs"]
        assert (name["prompt"], name["password"], name["value"]) == ("Name?", False, "Ada")
        assert (password["prompt"], password["password"], password["value"]) == (
            "Password:",
            True,
            None,
        )
        assert name["answered_by"]["username"]
        assert name["answered_at"] <= password["answered_at"]
        # The doc, as every collaborator holds it, with its whole history of edits.
        doc_bytes = client.notebook.ydoc.get_update()
        assert b"Ada" in doc_bytes
        assert SECRET.encode() not in doc_bytes
    # Every file that the server keeps beside the notebook: the history's database (and
    # its write-ahead log), the YStore, the file.
    stored = stored_files(jp_root_dir)
    assert any(name.startswith(".jupyter_collab_exec_history.db") for name in stored)
    assert [name for name, content in stored.items() if SECRET.encode() in content] == []
    # Nor in the server's log, at every level.
    assert any(record.name == "ServerApp" for record in caplog.records)
    assert SECRET not in caplog.text


def stored_files(root: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in root.rglob("*") if path.is_file()}


async def test_bad_history_requests_get_a_clear_4xx(
    open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    async with open_notebook("history-bad.ipynb", ["1"]) as notebook:
        document_id = notebook.document_id
        for params, code, words in [
            ({}, 400, "document_id"),
            ({"document_id": document_id, "limit": "many"}, 400, "whole number"),
            ({"document_id": document_id, "limit": "0"}, 400, "between 1 and 500"),
            ({"document_id": document_id, "limit": "501"}, 400, "between 1 and 500"),
            ({"document_id": "json:notebook:no-such-file"}, 404, "Unknown document"),
            ({"document_id": "not-a-room"}, 404, "Unknown document"),
        ]:
            status, answer = await get_json(jp_fetch, "history", **params)
            assert (status, words in answer["message"]) == (code, True), (params, answer)
        status, answer = await get_json(jp_fetch, "history", "no-such-run", document_id=document_id)
        assert status == 404
        assert "no-such-run" in answer["message"]
        status, answer = await get_json(jp_fetch, "history", "some-run")
        assert status == 400


async def test_restoring_a_run_puts_its_outputs_back_for_everyone(
    open_notebook: OpenNotebookFactory, jp_fetch: Any, post_json: PostJson, jp_root_dir: Path
) -> None:
    async with open_notebook("restore.ipynb", [COUNTING, "1 + 1"]) as notebook:
        client = notebook.client
        document_id = notebook.document_id
        runs = await three_runs_and_one(notebook)
        await history_until(jp_fetch, document_id, lambda found: len(found["runs"]) == 4)
        assert outputs_text(client, "cell-0") == [("stdout", "run 3\n")]

        code, answer = await restore(post_json, document_id, "cell-0", runs[0])
        assert code == 200, answer
        assert answer["restored_from"] == runs[0]
        await client.wait_until(
            lambda: outputs_text(client, "cell-0") == [("stdout", "run 1\n")],
            what="run 1's outputs in the doc",
        )
        assert client.cell("cell-0")["execution_count"] == 1
        # Trusted as what the server wrote, and saved in the file.
        assert (
            await verdict(post_json, document_id, "cell-0", client.cell("cell-0")["outputs"])
        ) == "trusted"
        path = jp_root_dir / notebook.path
        await wait_for(
            lambda: saved_cell(path).get("outputs", [{}])[0].get("text") == "run 1\n",
            what="run 1's outputs in the file",
        )
        # The restore is an entry of the cell's history, by who restored it.
        found = await history(jp_fetch, document_id, cell_id="cell-0")
        entry = found["runs"][0]
        assert (entry["run_id"], entry["kind"], entry["restored_from"]) == (
            answer["run_id"],
            "restore",
            runs[0],
        )
        assert (entry["execution_count"], entry["output_count"]) == (1, 1)
        assert entry["submitted_by"]["username"]
        assert [run["run_id"] for run in found["runs"][1:]] == runs[::-1]
        await client.wait_until(
            lambda: recorded_counts(client).get("cell-0") == 4, what="the restore counted"
        )

        # Unknown runs, a run of another cell, and bodies that say nothing usable.
        assert (await restore(post_json, document_id, "cell-0", "no-such-run"))[0] == 404
        code, answer = await restore(post_json, document_id, "cell-1", runs[0])
        assert code == 404
        assert "not a run of cell" in answer["message"]
        unknown = await restore(post_json, "json:notebook:no-such-file", "cell-0", runs[0])
        assert unknown[0] == 404
        for body in [{}, {"document_id": document_id, "cell_id": "cell-0"}, [1], "x"]:
            code, answer = await post_json("api", "collab-exec", "history", "restore", body=body)
            assert code == 400, (body, answer)

        # While the cell has a request in the kernel, it is not restored.
        [waiting] = await notebook.run({"cell_id": "cell-0", "source": "input('Wait?')"})
        input_id = await client.wait_for_input("Wait?")
        code, answer = await restore(post_json, document_id, "cell-0", runs[1])
        assert code == 409
        assert "queued or running" in answer["message"]
        assert (await notebook.answer(input_id, "done"))[0] == 200
        await notebook.wait_statuses([waiting], ["ok"])
        assert (await restore(post_json, document_id, "cell-0", runs[1]))[0] == 200
        await client.wait_until(
            lambda: outputs_text(client, "cell-0") == [("stdout", "run 2\n")],
            what="run 2's outputs in the doc",
        )


def recorded_counts(client: Any) -> dict[str, Any]:
    history = client.notebook.ydoc.get("collab_exec", type=Map).get("history")
    counts = history.to_py() if isinstance(history, Map) else None
    return dict(counts or {})


async def restore(
    post_json: PostJson, document_id: str, cell_id: str, run_id: str
) -> tuple[int, dict[str, Any]]:
    return await post_json(
        "api",
        "collab-exec",
        "history",
        "restore",
        body={"document_id": document_id, "cell_id": cell_id, "run_id": run_id},
    )
