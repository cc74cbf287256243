"""Which widget models a notebook needs, and the widget state saved in its metadata.

The metadata `widgets` holds what nbclient and JupyterLab's "Save Widget State" write: the
`application/vnd.jupyter.widget-state+json` format, version 2.0, with every model that a
displayed widget view needs, so that the notebook renders its widgets with no kernel.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .model import WidgetModel

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def view_model_ids(outputs: Iterable[Any]) -> set[str]:
    """The models of the widget views among nbformat outputs."""
    found: set[str] = set()
    for output in outputs:
        if not isinstance(output, dict):
            continue
        data = output.get("data")
        view = data.get(VIEW_MIME) if isinstance(data, dict) else None
        if isinstance(view, dict) and isinstance(view.get("model_id"), str):
            found.add(view["model_id"])
    return found


def needed_models(displayed: Iterable[str], models: Mapping[str, WidgetModel]) -> set[str]:
    """The displayed models and all they lead to: the models their state names, and the
    views inside Output widgets."""
    needed: set[str] = set()
    pending = list(displayed)
    while pending:
        model_id = pending.pop()
        if model_id in needed:
            continue
        needed.add(model_id)
        model = models.get(model_id)
        if model is None:
            continue
        pending.extend(model.references())
        if model.is_output:
            outputs = model.state.get("outputs")
            if isinstance(outputs, list | tuple):
                pending.extend(view_model_ids(outputs))
    return needed


def saved_models(displayed: Iterable[str], models: Mapping[str, WidgetModel]) -> set[str]:
    """The models to save: what the displayed views need, apart from the models the kernel
    closed, as nbclient leaves out the widgets that no longer exist."""
    kept = {model_id: model for model_id, model in models.items() if not model.closed}
    return {model_id for model_id in needed_models(displayed, kept) if model_id in kept}


def widget_state(models: Mapping[str, WidgetModel], model_ids: Iterable[str]) -> dict[str, Any]:
    """The value of the notebook metadata `widgets`."""
    state = {
        model_id: models[model_id].to_state_entry()
        for model_id in sorted(model_ids)
        if model_id in models
    }
    return {STATE_MIME: {"version_major": 2, "version_minor": 0, "state": state}}


def merged_widget_state(
    saved: dict[str, Any] | None, models: Mapping[str, WidgetModel], displayed: set[str]
) -> dict[str, Any] | None:
    """The metadata `widgets` of a notebook: the models it needs, from the mirror; and,
    for views that the mirror does not know (cells not run since the file was saved with
    widgets), what was saved. None when no shown widget needs any."""
    known: dict[str, WidgetModel] = {}
    saved_state = (saved or {}).get(STATE_MIME, {}).get("state", {})
    if isinstance(saved_state, dict):
        for model_id, entry in saved_state.items():
            if model_id in models:
                continue
            model = (
                WidgetModel.from_state_entry(model_id, entry) if isinstance(entry, dict) else None
            )
            if model is not None:
                known[model_id] = model
    known.update(models)
    kept = saved_models(displayed, known)
    return widget_state(known, kept) if kept else None
