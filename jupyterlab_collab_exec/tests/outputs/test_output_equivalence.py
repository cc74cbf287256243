"""The outputs the server stores equal what JupyterLab's OutputAreaModel holds.

The fixtures are IOPub messages recorded from a real kernel (scripts/record_iopub.py);
their `.expected.json` companions are computed by JupyterLab's own OutputAreaModel in jest
(src/__tests__/outputs-equivalence.spec.ts), never written by hand.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import pytest
from jupyter_ydoc import YNotebook

from jupyterlab_collab_exec.doc import cells
from jupyterlab_collab_exec.outputs.display_router import DisplayRouter
from jupyterlab_collab_exec.outputs.reducer import OutputReducer

from ..conftest import OpenNotebookFactory, statuses

pytestmark = pytest.mark.both_kernels

FIXTURES = Path(__file__).parents[1] / "fixtures" / "iopub"
RECORDINGS = sorted(
    path for path in FIXTURES.glob("*.json") if not path.name.endswith(".expected.json")
)


def load(path: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    recording = json.loads(path.read_text("utf-8"))
    expected = json.loads(path.with_suffix(".expected.json").read_text("utf-8"))
    return recording, expected


class CellReducer:
    """One cell's reducer, as the server's writer holds it, without the flush timer."""

    def __init__(self) -> None:
        self.reducer = OutputReducer()

    def update_display(self, display_id: str, output: dict[str, Any]) -> None:
        self.reducer.update_display(display_id, output)


def test_corpus_is_present() -> None:
    assert len(RECORDINGS) >= 5
    names = {path.stem for path in RECORDINGS}
    assert {"streams_cr_bs", "clear_output", "update_display_two_cells"} <= names


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
@pytest.mark.parametrize("flushes", ["every message", "random", "once at the end"])
def test_reducer_stores_what_jupyterlab_holds(path: Path, flushes: str) -> None:
    recording, expected = load(path)
    notebook = YNotebook()
    notebook.set(
        {
            "cells": [
                {"cell_type": "code", "id": cell["cell_id"], "source": cell["code"]}
                for cell in recording["cells"]
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )
    router = DisplayRouter()
    reducers: dict[str, CellReducer] = {}
    chance = random.Random(path.stem)

    def flush_all() -> None:
        with notebook.ydoc.transaction():
            for cell_id, target in reducers.items():
                found = cells.find_cell(notebook.ycells, cell_id)
                assert found is not None
                target.reducer.flush(cells.cell_outputs(found[1]))

    for cell in recording["cells"]:
        target = reducers[cell["cell_id"]] = CellReducer()
        for message in cell["messages"]:
            msg_type, content = message["msg_type"], message["content"]
            handled, _ = router.route(target, msg_type, content)
            if not handled:
                target.reducer.add_message(msg_type, content)
            if flushes == "every message" or (flushes == "random" and chance.random() < 0.4):
                flush_all()
    flush_all()

    stored = {
        cell["cell_id"]: notebook.get_cell(index)["outputs"]
        for index, cell in enumerate(recording["cells"])
    }
    assert stored == expected
    # The reducer's own view agrees with what it wrote.
    assert {cell_id: target.reducer.to_json() for cell_id, target in reducers.items()} == stored


HEX_ID = re.compile(r"[0-9a-f]{32}|0x[0-9a-f]+")


def comparable(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outputs with what differs between two runs of the same code made uniform: random
    display ids, and the traceback text that depends on the IPython version."""
    result = []
    for output in json.loads(HEX_ID.sub("<id>", json.dumps(outputs))):
        if output.get("output_type") == "error":
            output["traceback"] = len(output["traceback"]) > 0
        result.append(output)
    return result


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda path: path.stem)
async def test_server_stores_what_jupyterlab_holds(
    path: Path, open_notebook: OpenNotebookFactory
) -> None:
    """The same cells, run by a real kernel through the server, end as JupyterLab's model
    holds the recorded messages."""
    recording, expected = load(path)
    sources = [cell["code"] for cell in recording["cells"]]
    async with open_notebook(f"{path.stem}.ipynb", sources) as notebook:
        client = notebook.client
        request_ids = [(await notebook.run(cell["cell_id"]))[0] for cell in recording["cells"]]
        await client.wait_until(
            lambda: all(status in ("ok", "error") for status in statuses(client, *request_ids)),
            what="every cell ran",
        )
        await client.wait_until(
            lambda: all(
                client.cell(cell["cell_id"])["execution_state"] == "idle"
                for cell in recording["cells"]
            )
        )
        for cell in recording["cells"]:
            stored = client.cell(cell["cell_id"])["outputs"]
            assert comparable(stored) == comparable(expected[cell["cell_id"]]), cell["cell_id"]
