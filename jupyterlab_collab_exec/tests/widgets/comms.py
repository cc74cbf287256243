"""Scripted widget comm messages, and what the doc and the file then hold: what the widget
specs of the execution core share."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

from pycrdt import Map

from jupyterlab_collab_exec.doc import schema
from jupyterlab_collab_exec.kernel.events import CommMessage, Output
from jupyterlab_collab_exec.widgets.model import WidgetModel

from ..scripted import Core

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
CONTROLS = "@jupyter-widgets/controls"


def widget_state_schema() -> dict[str, Any]:
    schema_file = files("ipywidgets").joinpath("state.schema.json")
    loaded: dict[str, Any] = json.loads(schema_file.read_text())
    return loaded


def opened(
    comm_id: str,
    state: dict[str, Any],
    *,
    parent: str = "msg-1",
    session: str = "kernel-session-1",
    buffers: dict[str, bytes] | None = None,
) -> CommMessage:
    buffers = buffers or {}
    return CommMessage(
        msg_type="comm_open",
        comm_id=comm_id,
        data={"state": state, "buffer_paths": [[key] for key in buffers]},
        target_name="jupyter.widget",
        buffers=tuple(buffers.values()),
        session=session,
        parent_id=parent,
    )


def updated(
    comm_id: str,
    state: dict[str, Any],
    *,
    parent: str = "msg-1",
    method: str = "update",
    session: str = "kernel-session-1",
    kernel_time: int | None = None,
) -> CommMessage:
    return CommMessage(
        msg_type="comm_msg",
        comm_id=comm_id,
        data={"method": method, "state": state, "buffer_paths": []},
        session=session,
        parent_id=parent,
        kernel_time=kernel_time,
    )


def closed(comm_id: str, parent: str = "msg-1") -> CommMessage:
    return CommMessage("comm_close", comm_id, {}, session="kernel-session-1", parent_id=parent)


def slider_models(
    prefix: str = "", value: int = 0, session: str = "kernel-session-1"
) -> list[CommMessage]:
    return [
        opened(
            f"{prefix}layout",
            {
                "_model_name": "LayoutModel",
                "_model_module": "@jupyter-widgets/base",
                "_model_module_version": "2.0.0",
            },
            session=session,
        ),
        opened(
            f"{prefix}style",
            {
                "_model_name": "SliderStyleModel",
                "_model_module": CONTROLS,
                "_model_module_version": "2.0.0",
            },
            session=session,
        ),
        opened(
            f"{prefix}slider",
            {
                "_model_name": "IntSliderModel",
                "_model_module": CONTROLS,
                "_model_module_version": "2.0.0",
                "value": value,
                "layout": f"IPY_MODEL_{prefix}layout",
                "style": f"IPY_MODEL_{prefix}style",
            },
            session=session,
        ),
    ]


def output_model(comm_id: str) -> CommMessage:
    return opened(
        comm_id,
        {
            "_model_name": "OutputModel",
            "_model_module": "@jupyter-widgets/output",
            "_model_module_version": "1.0.0",
            "msg_id": "",
            "outputs": [],
        },
    )


def view(model_id: str, parent: str = "msg-1") -> Output:
    content = {"data": {VIEW_MIME: {"model_id": model_id, "version_major": 2}}, "metadata": {}}
    return Output(parent, "display_data", content, "t0")


def stream(text: str, parent: str = "msg-1") -> Output:
    return Output(parent, "stream", {"name": "stdout", "text": text}, "t0")


def models(core: Core) -> dict[str, Any]:
    root = core.notebook.ydoc.get(schema.WIDGETS_ROOT, type=Map)
    entries = root.get(schema.WIDGET_MODELS)
    return dict(entries.to_py() or {}) if isinstance(entries, Map) else {}


def saved_state(core: Core) -> dict[str, Any]:
    metadata = core.notebook.ydoc.get("meta", type=Map).get("metadata")
    widgets = (metadata.to_py() or {}).get("widgets", {}) if isinstance(metadata, Map) else {}
    state: dict[str, Any] = widgets.get(STATE_MIME, {}) if isinstance(widgets, dict) else {}
    return state


def count_widget_transactions(core: Core) -> list[int]:
    counted = [0]
    root = core.notebook.ydoc.get(schema.WIDGETS_ROOT, type=Map)
    root.observe_deep(lambda events: counted.__setitem__(0, counted[0] + 1))
    return counted


def doc_entry_digest(model_id: str, entry: dict[str, Any]) -> str | None:
    """The digest of a `collab_widgets` entry of inline buffers, as a browser computes it:
    its state, its buffers and its time."""
    model = WidgetModel.from_state_entry(model_id, entry)
    if model is None:
        return None
    model.kernel_time = entry.get("kernel_time")
    return model.entry_digest()
