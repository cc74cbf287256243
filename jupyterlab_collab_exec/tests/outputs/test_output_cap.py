"""The per-cell output cap: a visible notice, never a silent drop or a stall."""

from __future__ import annotations

from typing import Any

import pytest
from pycrdt import Array, Doc

from jupyterlab_collab_exec.outputs.reducer import OutputReducer

from ..conftest import OpenNotebookFactory

pytestmark = pytest.mark.both_kernels

CAP = 4096


def stream(text: str, name: str = "stdout") -> tuple[str, dict[str, Any]]:
    return "stream", {"name": name, "text": text}


def flushed(reducer: OutputReducer) -> list[dict[str, Any]]:
    doc: Doc[Any] = Doc()
    outputs: Array[Any] = doc.get("outputs", type=Array)
    with doc.transaction():
        reducer.flush(outputs)
    return [output.to_py() for output in outputs]


def test_cap_keeps_what_fits_and_says_the_rest_was_dropped() -> None:
    reducer = OutputReducer(max_bytes=CAP)
    line = "x" * 99 + "\n"
    for _ in range(100):
        reducer.add_message(*stream(line))
    outputs = flushed(reducer)
    assert len(outputs) == 2
    kept, notice = outputs
    assert kept["text"] == (line * 100)[:CAP]
    assert notice["name"] == "stderr"
    assert "Output truncated" in notice["text"]
    assert "max_output_bytes" in notice["text"]
    # Further output changes nothing, and says nothing twice.
    assert not reducer.add_message(*stream(line))
    assert not reducer.add_message("display_data", {"data": {"text/plain": "late"}, "metadata": {}})
    assert reducer.to_json() == outputs


def test_overwritten_progress_never_reaches_the_cap() -> None:
    reducer = OutputReducer(max_bytes=CAP)
    for percent in range(100_000):
        reducer.add_message(*stream(f"\rprogress {percent % 100:3d}%"))
    [output] = flushed(reducer)
    assert output["text"] == "progress  99%"
    assert not reducer.truncated


def test_clear_output_starts_afresh_after_the_cap() -> None:
    reducer = OutputReducer(max_bytes=CAP)
    reducer.add_message(*stream("y" * (2 * CAP)))
    assert reducer.truncated
    reducer.add_message("clear_output", {"wait": False})
    reducer.add_message(*stream("fresh\n"))
    assert flushed(reducer) == [{"output_type": "stream", "name": "stdout", "text": "fresh\n"}]


def test_a_first_message_over_the_cap_is_cut_before_the_notice() -> None:
    reducer = OutputReducer(max_bytes=CAP)
    reducer.add_message(*stream("w" * (3 * CAP)))
    kept, notice = flushed(reducer)
    assert kept["text"] == "w" * CAP
    assert "Output truncated" in notice["text"]


def test_a_rich_output_too_big_is_replaced_by_the_notice() -> None:
    reducer = OutputReducer(max_bytes=CAP)
    reducer.add_message(*stream("small\n"))
    reducer.add_message("display_data", {"data": {"text/plain": "z" * (2 * CAP)}, "metadata": {}})
    small, notice = flushed(reducer)
    assert small["text"] == "small\n"
    assert "Output truncated" in notice["text"]


@pytest.mark.parametrize("extra_server_config", [{"CollabExecApp": {"max_output_bytes": CAP}}])
async def test_server_caps_a_cell_and_finishes_the_run(
    extra_server_config: Any, open_notebook: OpenNotebookFactory
) -> None:
    sources = ["for i in range(100000):\n    print(i)", "print('next')"]
    async with open_notebook("cap.ipynb", sources) as notebook:
        client = notebook.client
        big, small = await notebook.run("cell-0", "cell-1")
        await notebook.wait_statuses([big, small], ["ok", "ok"])
        kept, notice = client.cell("cell-0")["outputs"]
        assert len(kept["text"]) == CAP
        assert "Output truncated" in notice["text"]
        assert client.cell("cell-0")["execution_count"] == 1
        assert client.cell("cell-1")["outputs"][0]["text"] == "next\n"
