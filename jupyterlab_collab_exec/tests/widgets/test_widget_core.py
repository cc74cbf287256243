"""The widget mirror inside the execution core, driven by scripted comm messages on a bare
notebook Y.Doc. test_widgets.py runs the same against a real kernel with ipywidgets."""

from __future__ import annotations

import base64
from typing import Any

import jsonschema
from pycrdt import Map

from jupyterlab_collab_exec.doc import schema
from jupyterlab_collab_exec.kernel.events import (
    KernelLost,
    KernelStatus,
    Output,
    Replied,
)
from jupyterlab_collab_exec.trust.digests import json_digest, widget_entry_digest

from ..scripted import DOCUMENT, KERNEL
from .comms import (
    CONTROLS,
    VIEW_MIME,
    closed,
    count_widget_transactions,
    models,
    opened,
    output_model,
    saved_state,
    slider_models,
    stream,
    updated,
    view,
    widget_state_schema,
)


async def test_models_reach_the_doc_coalesced_and_the_file_in_the_widget_state_format(
    core_factory: Any,
) -> None:
    core = core_factory("IntSlider()")
    [request] = await core.submit("cell-0")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"), *slider_models(), view("slider")
    )
    doc_models = models(core)
    assert set(doc_models) == {"layout", "style", "slider"}
    assert doc_models["slider"]["model_name"] == "IntSliderModel"
    assert doc_models["slider"]["state"]["layout"] == "IPY_MODEL_layout"
    assert doc_models["slider"]["live"] is True

    # A browser drags it: the kernel echoes each move. A loop of them is coalesced.
    transactions = count_widget_transactions(core)
    await core.play(
        *[updated("slider", {"value": step}, method="echo_update") for step in range(500)]
    )
    assert models(core)["slider"]["state"]["value"] == 499
    assert transactions[0] <= 2

    await core.play(*core.run_to_end("msg-1"))
    assert core.status(request) == "ok"
    state = saved_state(core)
    jsonschema.validate(state, widget_state_schema())
    assert set(state["state"]) == {"layout", "style", "slider"}
    assert state["state"]["slider"]["state"]["value"] == 499


async def test_an_entry_says_how_recent_its_state_is_in_the_kernels_time(
    core_factory: Any,
) -> None:
    core = core_factory("for i in range(3): slider.value = i")
    await core.submit("cell-0")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"), *slider_models(), view("slider")
    )
    assert schema.WIDGET_KERNEL_TIME not in models(core)["slider"]
    await core.play(
        *[updated("slider", {"value": step}, kernel_time=1_000 + step) for step in range(3)]
    )
    entry = models(core)["slider"]
    assert (entry["state"]["value"], entry[schema.WIDGET_KERNEL_TIME]) == (2, 1_002)
    # A message that changes no value still moves the time on; none moves it back.
    await core.play(updated("slider", {"value": 2}, kernel_time=1_003))
    assert models(core)["slider"][schema.WIDGET_KERNEL_TIME] == 1_003
    await core.play(updated("slider", {"value": 5}, kernel_time=900))
    entry = models(core)["slider"]
    assert (entry["state"]["value"], entry[schema.WIDGET_KERNEL_TIME]) == (5, 1_003)

    # The server confirms the entry with its time, as a browser digests it, and not with
    # a time that a client wrote.
    def browser_digest(kernel_time: int) -> str | None:
        return widget_entry_digest(
            entry["model_name"],
            entry["model_module"],
            entry["model_module_version"],
            {key: json_digest(value) for key, value in entry["state"].items()},
            [],
            kernel_time,
        )

    assert core.trust.model_confirmed(DOCUMENT, "slider", browser_digest(1_003))
    assert not core.trust.model_confirmed(DOCUMENT, "slider", browser_digest(9_999_999))


async def test_an_output_widget_takes_the_output_of_the_request_that_enters_it(
    core_factory: Any,
) -> None:
    core = core_factory("with out: print('in')")
    [request] = await core.submit("cell-0")
    conversation = core.connector.conversation
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        output_model("out"),
        view("out"),
        updated("out", {"msg_id": "msg-1"}),
        stream("in\n"),
        stream("more\n"),
        updated("out", {"msg_id": ""}),
        stream("after\n"),
        *core.run_to_end("msg-1"),
    )
    assert core.status(request) == "ok"
    captured = [{"output_type": "stream", "name": "stdout", "text": "in\nmore\n"}]
    assert models(core)["out"]["state"]["outputs"] == captured
    outputs = core.cell(0)["outputs"]
    assert [output["output_type"] for output in outputs] == ["display_data", "stream"]
    assert outputs[1]["text"] == "after\n"
    # The kernel's Output.outputs gets what people see, as JupyterLab's widget sends it.
    assert conversation.comms[-1] == (
        "out",
        {"method": "update", "state": {"outputs": captured}, "buffer_paths": []},
    )
    # Its echo of the server's own update changes nothing.
    await core.play(updated("out", {"outputs": []}, method="echo_update", parent="comm-1"))
    assert models(core)["out"]["state"]["outputs"] == captured


async def test_nested_output_contexts_capture_into_the_innermost_one_entered_last(
    core_factory: Any,
) -> None:
    core = core_factory("nested")
    await core.submit("cell-0")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        output_model("outer"),
        output_model("inner"),
        updated("outer", {"msg_id": "msg-1"}),
        stream("outer 1\n"),
        updated("inner", {"msg_id": "msg-1"}),
        stream("inner 1\n"),
        updated("inner", {"msg_id": ""}),
        stream("outer 2\n"),
        updated("inner", {"msg_id": "msg-1"}),
        stream("inner 2\n"),
        Output("msg-1", "clear_output", {"wait": True}, "t0"),
        stream("inner 3\n"),
        updated("inner", {"msg_id": ""}),
        updated("outer", {"msg_id": ""}),
        *core.run_to_end("msg-1"),
    )
    texts = {
        model_id: [output["text"] for output in models(core)[model_id]["state"]["outputs"]]
        for model_id in ("outer", "inner")
    }
    assert texts == {"outer": ["outer 1\nouter 2\n"], "inner": ["inner 3\n"]}
    assert core.cell(0)["outputs"] == []


async def test_a_lost_kernel_freezes_its_models_and_a_rerun_replaces_them(
    core_factory: Any,
) -> None:
    core = core_factory("IntSlider()")
    await core.submit("cell-0")
    await core.play(*slider_models(value=3), view("slider"), *core.run_to_end("msg-1"))
    await core.play(KernelLost("restarting", "The kernel restarted.", reconnect=True))
    assert {entry["live"] for entry in models(core).values()} == {False}
    assert set(saved_state(core)["state"]) == {"layout", "style", "slider"}

    # The new kernel process has its own session; the new connection numbers from 1 again.
    await core.submit("cell-0")
    await core.play(
        *slider_models("new-", value=5, session="kernel-session-2"),
        view("new-slider"),
        *core.run_to_end("msg-1"),
    )
    # The rerun replaced the cell's view: the frozen models are needed no more.
    assert set(models(core)) == {"new-layout", "new-style", "new-slider"}
    assert set(saved_state(core)["state"]) == {"new-layout", "new-style", "new-slider"}


async def test_a_closed_model_stays_in_the_doc_while_shown_but_not_in_the_file(
    core_factory: Any,
) -> None:
    core = core_factory("tqdm(leave=False)")
    await core.submit("cell-0")
    await core.play(*slider_models(), view("slider"), closed("slider"), *core.run_to_end("msg-1"))
    entry = models(core)["slider"]
    assert (entry["live"], entry["closed"]) == (False, True)
    assert saved_state(core) == {}


async def test_binary_values_are_kept_per_key_in_the_doc_and_the_file(core_factory: Any) -> None:
    core = core_factory("Image(value=b'...')")
    await core.submit("cell-0")
    image = {"_model_name": "ImageModel", "_model_module": CONTROLS, "_model_module_version": "2"}
    await core.play(
        opened("image", image, buffers={"value": b"\x89PNG\x00\x01"}),
        view("image"),
        *core.run_to_end("msg-1"),
    )
    encoded = base64.b64encode(b"\x89PNG\x00\x01").decode()
    buffers = [{"path": ["value"], "encoding": "base64", "data": encoded}]
    assert models(core)["image"]["buffers"] == buffers
    assert saved_state(core)["state"]["image"]["buffers"] == buffers
    jsonschema.validate(saved_state(core), widget_state_schema())


async def test_what_a_client_writes_into_the_widgets_map_is_undone(core_factory: Any) -> None:
    core = core_factory("IntSlider()")
    await core.submit("cell-0")
    await core.play(*slider_models(value=7), view("slider"), *core.run_to_end("msg-1"))
    entries = core.notebook.ydoc.get(schema.WIDGETS_ROOT, type=Map)[schema.WIDGET_MODELS]
    entries["slider"]["state"]["value"] = 1000
    del entries["layout"]
    await core.settle()
    assert models(core)["slider"]["state"]["value"] == 7
    assert "layout" in models(core)


async def test_after_output_into_a_widget_the_next_cell_waits_for_the_idle(
    core_factory: Any,
) -> None:
    """So that it finds the widget's outputs in the kernel, as in JupyterLab."""
    core = core_factory("with out: print('in')", "out.outputs")
    await core.submit("cell-0", "cell-1")
    conversation = core.connector.conversation
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        output_model("out"),
        updated("out", {"msg_id": "msg-1"}),
        stream("in\n"),
        Replied("msg-1", {"content": {"status": "ok", "execution_count": 1}}),
    )
    assert conversation.sent == ["with out: print('in')"]
    await core.play(KernelStatus("idle", "msg-1", "execute_request", "t1"))
    assert conversation.sent == ["with out: print('in')", "out.outputs"]
    # The outputs went to the kernel before the next cell.
    assert conversation.comms[0][1]["state"]["outputs"][0]["text"] == "in\n"


async def test_a_view_reaches_the_doc_after_its_models(core_factory: Any) -> None:
    """A browser that gets the view from the doc must find its model there, live, to wait
    for it rather than fail: the models are flushed before the view, whatever the timers."""
    core = core_factory("IntSlider()", widget_flush_interval=3600.0)
    await core.submit("cell-0")
    [layout, style, slider] = slider_models()
    # A first flush: the next one would wait an hour.
    await core.play(KernelStatus("busy", "msg-1", "execute_request", "t0"), layout)
    await core.play(style, slider, view("slider"))
    assert [o["data"][VIEW_MIME]["model_id"] for o in core.cell(0)["outputs"]] == ["slider"]
    assert models(core)["slider"]["live"] is True


async def test_a_live_output_widget_that_a_request_does_not_enter_holds_nothing(
    core_factory: Any,
) -> None:
    """Run-all keeps its pace while an Output widget lives: only a request that entered one
    waits for its idle."""
    core = core_factory("out = Output()", "print(1)")
    await core.submit("cell-0", "cell-1")
    conversation = core.connector.conversation
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        output_model("out"),
        Replied("msg-1", {"content": {"status": "ok", "execution_count": 1}}),
    )
    assert conversation.sent == ["out = Output()", "print(1)"]


async def test_a_request_that_entered_an_output_widget_holds_the_next_until_its_idle(
    core_factory: Any,
) -> None:
    """Its output may still come after the reply (IOPub and shell are two sockets), and go
    into the widget: the next cell must find it in the kernel."""
    core = core_factory("out = Output()", "with out: print('late')", "out.outputs")
    await core.submit("cell-0", "cell-1", "cell-2")
    conversation = core.connector.conversation
    await core.play(output_model("out"), *core.run_to_end("msg-1"))
    await core.play(
        KernelStatus("busy", "msg-2", "execute_request", "t0"),
        updated("out", {"msg_id": "msg-2"}, parent="msg-2"),
        Replied("msg-2", {"content": {"status": "ok", "execution_count": 2}}),
    )
    assert conversation.sent == ["out = Output()", "with out: print('late')"]
    await core.play(
        stream("late\n", parent="msg-2"),
        updated("out", {"msg_id": ""}, parent="msg-2"),
        KernelStatus("idle", "msg-2", "execute_request", "t1"),
    )
    assert conversation.sent[-1] == "out.outputs"
    # The outputs went to the kernel before the next cell.
    assert conversation.comms[0][1]["state"]["outputs"][0]["text"] == "late\n"


async def test_after_many_comm_messages_in_a_request_the_models_are_asked_for_again(
    core_factory: Any,
) -> None:
    """A kernel's IOPub socket drops what a slow reader has not taken past its high-water
    mark: past 500 comm messages, the live models are asked for when the request ends."""
    core = core_factory("for i in range(600): slider.value = i")
    await core.submit("cell-0")
    conversation = core.connector.conversation
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        *slider_models(),
        *[updated("slider", {"value": step}) for step in range(600)],
        *core.run_to_end("msg-1"),
    )
    asked = sorted(
        comm_id for comm_id, data in conversation.comms if data == {"method": "request_state"}
    )
    assert asked == ["layout", "slider", "style"]


async def test_the_answers_to_the_servers_state_requests_do_not_count_toward_a_resync(
    core_factory: Any,
) -> None:
    """With 500 or more live models, the kernel's answers to one resync would otherwise
    count as a burst of their own, and every request would end with another resync."""
    core = core_factory("sliders = [IntSlider() for _ in range(400)]", "1 + 1")
    await core.submit("cell-0")
    conversation = core.connector.conversation
    sliders = [model for step in range(400) for model in slider_models(f"s{step}-")]
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        *sliders,
        *core.run_to_end("msg-1"),
    )
    asked = [
        (comm_id, f"comm-{index + 1}")
        for index, (comm_id, data) in enumerate(conversation.comms)
        if data == {"method": "request_state"}
    ]
    assert len(asked) == 1200
    # The second request gets the kernel's 1200 answers, and asks for nothing more.
    await core.submit("cell-1")
    await core.play(
        KernelStatus("busy", "msg-2", "execute_request", "t2"),
        *[updated(comm_id, {"value": 1}, parent=msg_id) for comm_id, msg_id in asked],
        *core.run_to_end("msg-2"),
    )
    assert len(conversation.comms) == 1200


async def test_a_request_of_few_comm_messages_asks_for_nothing(core_factory: Any) -> None:
    core = core_factory("IntSlider()")
    await core.submit("cell-0")
    await core.play(*slider_models(), view("slider"), *core.run_to_end("msg-1"))
    assert core.connector.conversation.comms == []


async def test_past_the_size_cap_newer_widgets_are_left_out_visibly_until_the_kernel_goes(
    core_factory: Any,
) -> None:
    core = core_factory("IntSlider()", max_widget_bytes=2048)
    await core.submit("cell-0")
    wide = {"_model_name": "HTMLModel", "_model_module": CONTROLS, "value": "x" * 900}
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        *[opened(f"html-{index}", dict(wide)) for index in range(4)],
        *core.run_to_end("msg-1"),
    )
    assert set(models(core)) == {"html-0", "html-1"}
    root = core.notebook.ydoc.get(schema.WIDGETS_ROOT, type=Map)
    assert "max_widget_bytes" in root[schema.WIDGET_NOTICE]
    # The models of a kernel that went count no more: the next run's widgets are kept.
    await core.play(KernelLost("restarting", "The kernel restarted.", reconnect=True))
    await core.submit("cell-0")
    await core.play(
        opened("html-new", dict(wide), session="kernel-session-2"), *core.run_to_end("msg-1")
    )
    assert models(core)["html-new"]["live"] is True
    assert schema.WIDGET_NOTICE not in root


async def test_a_kernel_shut_down_for_good_is_forgotten_and_its_widgets_stay_frozen(
    core_factory: Any,
) -> None:
    core = core_factory("IntSlider()")
    await core.submit("cell-0")
    await core.play(*slider_models(), view("slider"), *core.run_to_end("msg-1"))
    await core.play(KernelLost("dead", "The kernel was shut down.", retire=True))
    assert {entry["live"] for entry in models(core).values()} == {False}
    assert set(saved_state(core)["state"]) == {"layout", "style", "slider"}
    # Nothing is kept for it in memory; a room that loads again shows the models frozen.
    assert KERNEL not in core.widgets._kernels
    core.widgets.restore(DOCUMENT, core.notebook)
    assert {entry["live"] for entry in models(core).values()} == {False}
