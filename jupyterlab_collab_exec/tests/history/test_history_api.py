"""The run history with a real server and kernel: every settled request is recorded with
who ran it, its source, its outputs and the inputs answered (never a password), listed
newest first over REST, kept across a rename, and bad requests get a clear 4xx."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPClientError

from ..clients import DEFAULT_TIMEOUT
from ..conftest import OpenNotebookFactory

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


async def test_three_runs_of_a_cell_are_three_records_newest_first(
    open_notebook: OpenNotebookFactory, jp_fetch: Any
) -> None:
    async with open_notebook("history.ipynb", [COUNTING, "1 + 1"]) as notebook:
        runs = []
        for _ in range(3):
            [run] = await notebook.run("cell-0")
            await notebook.wait_statuses([run], ["ok"])
            runs.append(run)
        [other] = await notebook.run("cell-1")
        await notebook.wait_statuses([other], ["ok"])
        document_id = notebook.document_id
        answer = await history_until(
            jp_fetch, document_id, lambda found: len(found["runs"]) == 3, cell_id="cell-0"
        )
        listed = answer["runs"]
        assert [run["run_id"] for run in listed] == runs[::-1]
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
    open_notebook: OpenNotebookFactory, jp_fetch: Any, jp_root_dir: Path
) -> None:
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
    # Every file that the server keeps beside the notebook: the history's database (and
    # its write-ahead log), the YStore, the file.
    stored = stored_files(jp_root_dir)
    assert any(name.startswith(".jupyter_collab_exec_history.db") for name in stored)
    assert [name for name, content in stored.items() if SECRET.encode() in content] == []


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
