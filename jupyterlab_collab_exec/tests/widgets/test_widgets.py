"""ipywidgets under server execution, with a real kernel, room clients, and a raw kernel
websocket as a second browser: the widget mirror in `collab_widgets`, the Output widgets
that the server fills, and the widget state saved in the notebook file."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import jsonschema
import nbformat
import pytest

from ..clients import RoomClient, WidgetUpdateCount, wait_for
from ..conftest import ConnectKernel, DocumentIdFor, Execute, JoinRoom, OpenNotebookFactory
from .comms import STATE_MIME, VIEW_MIME, widget_state_schema

SLIDER = "from ipywidgets import IntSlider\nslider = IntSlider()\nslider"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def model_of(models: dict[str, dict[str, Any]], name: str) -> str:
    [model_id] = [key for key, entry in models.items() if entry.get("model_name") == name]
    return model_id


def saved_widgets(path: Path) -> dict[str, Any]:
    """The widget state in a notebook file; nothing while the server is writing it."""
    try:
        notebook = nbformat.read(path, as_version=4)
    except (ValueError, OSError):
        return {}
    state: dict[str, Any] = notebook.metadata.get("widgets", {}).get(STATE_MIME, {})
    return state


def saved_value(path: Path, model_id: str, key: str) -> Any:
    return saved_widgets(path).get("state", {}).get(model_id, {}).get("state", {}).get(key)


def views(cell: dict[str, Any]) -> list[str]:
    return [
        output["data"][VIEW_MIME]["model_id"]
        for output in cell["outputs"]
        if VIEW_MIME in output.get("data", {})
    ]


def shown(cell: dict[str, Any]) -> list[Any]:
    """A cell's outputs, shortly: the model of a view, the text of a stream, an error."""
    summary: list[Any] = []
    for output in cell["outputs"]:
        data = output.get("data", {})
        if VIEW_MIME in data:
            summary.append(("view", data[VIEW_MIME]["model_id"]))
        elif output["output_type"] == "stream":
            summary.append(output["text"])
        elif output["output_type"] == "error":
            summary.append(("error", output["ename"]))
        else:
            summary.append(data)
    return summary


def printed_json(client: RoomClient, cell_id: str) -> Any:
    return json.loads("".join(output.get("text", "") for output in client.cell(cell_id)["outputs"]))


@pytest.mark.both_kernels
@pytest.mark.enterprise_gateway
async def test_a_slider_is_mirrored_and_every_browser_gets_its_models(
    open_notebook: OpenNotebookFactory, connect_kernel: ConnectKernel, jp_root_dir: Path
) -> None:
    sources = [SLIDER, "slider.max = 10_000\nfor i in range(5000):\n    slider.value = i"]
    async with open_notebook("slider.ipynb", sources) as notebook:
        client = notebook.client
        async with connect_kernel(notebook.kernel_id) as browser:
            [run] = await notebook.run("cell-0")
            await notebook.wait_statuses([run], ["ok"])
            models = client.widget_models()
            slider_id = model_of(models, "IntSliderModel")
            layout_id = model_of(models, "LayoutModel")
            style_id = model_of(models, "SliderStyleModel")
            assert models[slider_id]["state"]["layout"] == f"IPY_MODEL_{layout_id}"
            assert models[slider_id]["state"]["style"] == f"IPY_MODEL_{style_id}"
            assert models[slider_id]["live"] is True
            assert views(client.cell("cell-0")) == [slider_id]
            await browser.wait_until(
                lambda: set(models) <= set(browser.comm_opens()),
                what="every comm_open at the second browser",
            )

            # The second browser drags it to 42: the kernel's echo reaches the mirror.
            await browser.send_comm(
                slider_id, {"method": "update", "state": {"value": 42}, "buffer_paths": []}
            )
            await client.wait_until(
                lambda: client.widget_models()[slider_id]["state"]["value"] == 42,
                timeout=1.0,
                what="the mirror at 42 within 1 s",
            )
            path = jp_root_dir / notebook.path
            await wait_for(
                lambda: saved_value(path, slider_id, "value") == 42, what="42 in the file"
            )
            jsonschema.validate(saved_widgets(path), widget_state_schema())
            assert set(saved_widgets(path)["state"]) == {slider_id, layout_id, style_id}

            # A loop of assignments costs a bounded number of doc updates.
            updates = WidgetUpdateCount(client)
            [loop] = await notebook.run("cell-1")
            await notebook.wait_statuses([loop], ["ok"])
            await client.wait_until(
                lambda: client.widget_models()[slider_id]["state"]["value"] == 4999,
                what="the mirror at 4999",
            )
            request = client.requests()[loop]
            seconds = (request["finished_at"] - request["started_at"]) / 1000
            # The entry's time is the kernel's header date of the last update (µs): during
            # the run, by the kernel's clock (the machine's here).
            kernel_ms = client.widget_models()[slider_id]["kernel_time"] / 1000
            assert request["started_at"] - 1000 <= kernel_ms <= request["finished_at"] + 1000
            print(
                f"\n5000 assignments in {seconds:.2f} s: {updates.count} updates of collab_widgets"
            )
            # At most one per flush interval (50 ms here), and the final one.
            assert 1 <= updates.count <= seconds / 0.05 + 3


async def test_an_output_widget_holds_what_its_context_printed_in_the_doc_and_the_kernel(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = [
        "from ipywidgets import Output\nout = Output()\ndisplay(out)\nwith out:\n    print('in')",
        "import json\nprint(json.dumps(list(out.outputs)))",
        "from ipywidgets import interact\n_ = interact(lambda x: x * 2, x=5)",
    ]
    async with open_notebook("output.ipynb", sources) as notebook:
        client = notebook.client
        runs = await notebook.run("cell-0", "cell-1", "cell-2")
        await notebook.wait_statuses(runs, ["ok", "ok", "ok"])
        models = client.widget_models()
        [out_id] = views(client.cell("cell-0"))
        captured = [{"output_type": "stream", "name": "stdout", "text": "in\n"}]
        assert models[out_id]["state"]["outputs"] == captured
        assert shown(client.cell("cell-0")) == [("view", out_id)]
        # The kernel's `out.outputs`, as the next cell found it, is what people see.
        assert printed_json(client, "cell-1") == captured

        [interactive_id] = views(client.cell("cell-2"))
        children = [ref[len("IPY_MODEL_") :] for ref in models[interactive_id]["state"]["children"]]
        [result_id] = [child for child in children if models[child]["model_name"] == "OutputModel"]
        [result] = models[result_id]["state"]["outputs"]
        assert result["data"]["text/plain"] == "10"
        assert shown(client.cell("cell-2")) == [("view", interactive_id)]


CAPTURE_CASES = {
    "clear inside": (
        "with out:\n    print('a')\n    clear_output()\n    print('b')",
        ["b\n"],
        ["view"],
    ),
    "clear inside, waiting": (
        "with out:\n    print('a')\n    clear_output(wait=True)\n    print('b')",
        ["b\n"],
        ["view"],
    ),
    "clear outside": (
        "with out:\n    print('a')\nprint('x')\nclear_output()\nprint('y')",
        ["a\n"],
        ["y\n"],
    ),
    "clear outside, waiting": (
        "with out:\n    print('a')\nprint('x')\nclear_output(wait=True)\nprint('y')",
        ["a\n"],
        ["y\n"],
    ),
    "exception inside": (
        "with out:\n    print('a')\n    1 / 0\nprint('after')",
        ["a\n", ("error", "ZeroDivisionError")],
        ["view", "after\n"],
    ),
    "display inside": (
        "with out:\n    display(HTML('<b>x</b>'))",
        [{"text/html": "<b>x</b>", "text/plain": "<IPython.core.display.HTML object>"}],
        ["view"],
    ),
    "nested": (
        "with out:\n    print('outer 1')\n    with inner:\n        print('inner 1')\n"
        "    print('outer 2')\n    with inner:\n        print('inner 2')",
        ["outer 1\nouter 2\n"],
        ["view"],
    ),
}
CAPTURE_PREAMBLE = (
    "from ipywidgets import Output\nfrom IPython.display import HTML, clear_output, display\n"
    "out, inner = Output(), Output()\ndisplay(out)\n"
)
REPORT = "import json\nprint(json.dumps([out.model_id, list(out.outputs), list(inner.outputs)]))"


async def test_output_capture_follows_what_jupyterlab_shows(
    open_notebook: OpenNotebookFactory,
) -> None:
    sources = []
    for code, _, _ in CAPTURE_CASES.values():
        sources += [CAPTURE_PREAMBLE + code, REPORT]
    async with open_notebook("capture.ipynb", sources) as notebook:
        client = notebook.client
        runs = await notebook.run(*[f"cell-{index}" for index in range(len(sources))])
        await notebook.wait_statuses(runs, ["ok"] * len(runs))
        models = client.widget_models()
        for index, (case, (_, in_widget, in_cell)) in enumerate(CAPTURE_CASES.items()):
            out_id, kernel_outputs, inner_outputs = printed_json(client, f"cell-{2 * index + 1}")
            mirrored = models[out_id]["state"]["outputs"]
            assert shown({"outputs": mirrored}) == in_widget, case
            assert kernel_outputs == mirrored, f"{case}: kernel {kernel_outputs}, doc {mirrored}"
            cell = [
                "view" if item == ("view", out_id) else item
                for item in shown(client.cell(f"cell-{2 * index}"))
            ]
            assert cell == in_cell, case
            if case == "nested":
                assert shown({"outputs": inner_outputs}) == ["inner 1\ninner 2\n"]


async def test_a_progress_bar_run_with_nobody_there_is_in_the_doc_and_the_file(
    notebook_factory: Any,
    document_id_for: DocumentIdFor,
    start_kernel: Any,
    execute: Execute,
    join_room: JoinRoom,
    jp_root_dir: Path,
) -> None:
    progress = (
        "from tqdm.notebook import tqdm\nimport time\n"
        "for i in tqdm(range(50)):\n    time.sleep(0.01)"
    )
    transient = "for i in tqdm(range(5), leave=False):\n    pass"
    path = notebook_factory("progress.ipynb", [progress, transient])
    document_id, session_id = await document_id_for(path)
    kernel_id = await start_kernel()
    await execute(document_id, kernel_id, "cell-0", "cell-1")

    def bar_in_file() -> bool:
        state = saved_widgets(jp_root_dir / path).get("state", {})
        bars = [entry for entry in state.values() if entry["model_name"] == "FloatProgressModel"]
        return any(bar["state"].get("bar_style") == "success" for bar in bars)

    await wait_for(bar_in_file, what="the finished bar in the file")
    saved = saved_widgets(jp_root_dir / path)
    jsonschema.validate(saved, widget_state_schema())

    async with join_room(document_id, session_id) as client:
        await client.wait_until(lambda: len(views(client.cell("cell-1"))) == 1, what="2nd bar")
        models = client.widget_models()
        [box_id] = views(client.cell("cell-0"))
        bar_refs = models[box_id]["state"]["children"]
        bars = [models[ref[len("IPY_MODEL_") :]] for ref in bar_refs]
        [bar] = [bar for bar in bars if bar["model_name"] == "FloatProgressModel"]
        assert bar["state"]["value"] == 50
        assert bar["state"]["bar_style"] == "success"
        assert bar["live"] is True
        # The bar with leave=False was closed: the doc says so, and the file leaves it out.
        [closed_id] = views(client.cell("cell-1"))
        assert (models[closed_id]["live"], models[closed_id].get("closed")) == (False, True)
        assert closed_id not in saved_widgets(jp_root_dir / path)["state"]
        assert box_id in saved_widgets(jp_root_dir / path)["state"]


async def test_a_restart_freezes_the_widgets_and_a_rerun_replaces_them(
    open_notebook: OpenNotebookFactory,
    jp_fetch: Any,
    connect_kernel: ConnectKernel,
    jp_root_dir: Path,
) -> None:
    image = f"from ipywidgets import Image\nimage = Image(value={PNG!r})\nimage"
    async with open_notebook("restart-widgets.ipynb", [SLIDER, image]) as notebook:
        client = notebook.client
        path = jp_root_dir / notebook.path
        async with connect_kernel(notebook.kernel_id) as browser:
            runs = await notebook.run("cell-0", "cell-1")
            await notebook.wait_statuses(runs, ["ok", "ok"])
            [image_id] = views(client.cell("cell-1"))
            await browser.wait_until(lambda: image_id in browser.comm_opens(), what="the image")
            assert browser.comm_opens()[image_id]["buffers"] == [PNG]
        # The image's bytes, in the doc and the file, as the widget-state format keeps them.
        encoded = base64.b64encode(PNG).decode()
        buffers = [{"path": ["value"], "encoding": "base64", "data": encoded}]
        assert client.widget_models()[image_id]["buffers"] == buffers
        await wait_for(lambda: image_id in saved_widgets(path).get("state", {}), what="the file")
        assert saved_widgets(path)["state"][image_id]["buffers"] == buffers
        saved_before = set(saved_widgets(path)["state"])
        models_before = set(client.widget_models())
        [old_slider] = views(client.cell("cell-0"))
        old_slider_models = {old_slider, *references(client, old_slider)}

        await jp_fetch("api", "kernels", notebook.kernel_id, "restart", method="POST", body="")
        await client.wait_until(
            lambda: not any(entry["live"] for entry in client.widget_models().values()),
            what="every model frozen",
        )
        assert set(client.widget_models()) == models_before
        assert saved_before <= set(saved_widgets(path).get("state", {}))

        [rerun] = await notebook.run("cell-0")
        await notebook.wait_statuses([rerun], ["ok"])
        [new_slider] = views(client.cell("cell-0"))
        await client.wait_until(
            lambda: not old_slider_models & set(client.widget_models()),
            what="the old slider's models gone",
        )
        assert client.widget_models()[new_slider]["live"] is True
        # The image was not run again: it stays, frozen.
        assert client.widget_models()[image_id]["live"] is False


def references(client: RoomClient, model_id: str) -> set[str]:
    state = client.widget_models().get(model_id, {}).get("state", {})
    prefix = "IPY_MODEL_"
    return {
        value[len(prefix) :]
        for value in state.values()
        if isinstance(value, str) and value.startswith(prefix)
    }
