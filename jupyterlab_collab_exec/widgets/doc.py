"""The `collab_widgets` root map of a notebook's Y.Doc, and the widget state in its metadata.

Everything here runs inside the caller's transaction, on a bare pycrdt Doc or a YNotebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Doc, Map

from ..doc import schema
from .blobs import BufferForm, referenced_digest
from .model import WidgetModel, plain_json
from .snapshot import STATE_MIME, view_model_ids


def widgets_root(ydoc: Doc[Any]) -> Map[Any]:
    root: Map[Any] = ydoc.get(schema.WIDGETS_ROOT, type=Map)
    return root


def models_map(ydoc: Doc[Any]) -> Map[Any]:
    root = widgets_root(ydoc)
    models = root.get(schema.WIDGET_MODELS)
    if not isinstance(models, Map):
        models = Map()
        root[schema.WIDGET_MODELS] = models
    return models


def _set(target: Map[Any], key: str, value: Any) -> None:
    if key not in target or target[key] != value:
        target[key] = value


def write_kernel(ydoc: Doc[Any], kernel_id: str, session: str | None) -> None:
    root = widgets_root(ydoc)
    _set(root, schema.KERNEL_ID, kernel_id)
    _set(root, schema.KERNEL_SESSION, session or "")


def write_notice(ydoc: Doc[Any], notice: str | None) -> None:
    root = widgets_root(ydoc)
    if notice is None:
        if schema.WIDGET_NOTICE in root:
            del root[schema.WIDGET_NOTICE]
    else:
        _set(root, schema.WIDGET_NOTICE, notice)


def write_model(
    ydoc: Doc[Any], model: WidgetModel, form: BufferForm, keys: Iterable[str] | None = None
) -> None:
    """Write a model: the given state keys, or all of it when `keys` is None."""
    models = models_map(ydoc)
    entry = models.get(model.model_id)
    if not isinstance(entry, Map) or not isinstance(entry.get(schema.WIDGET_STATE), Map):
        models[model.model_id] = _new_entry(model, form)
        return
    state = entry[schema.WIDGET_STATE]
    if keys is None:
        for key in [key for key in state if key not in model.state]:
            del state[key]
        keys = model.state.keys()
        _set(entry, schema.MODEL_NAME, model.model_name)
        _set(entry, schema.MODEL_MODULE, model.model_module)
        _set(entry, schema.MODEL_MODULE_VERSION, model.model_module_version)
    for key in keys:
        if key in model.state:
            _set(state, key, plain_json(model.state[key]))
        elif key in state:
            del state[key]
    _write_flags(entry, model, form)


def _new_entry(model: WidgetModel, form: BufferForm) -> Map[Any]:
    entry: dict[str, Any] = {
        schema.MODEL_NAME: model.model_name,
        schema.MODEL_MODULE: model.model_module,
        schema.MODEL_MODULE_VERSION: model.model_module_version,
        schema.WIDGET_STATE: Map(plain_json(model.state)),
        schema.WIDGET_LIVE: model.live,
    }
    if model.buffers:
        entry[schema.WIDGET_BUFFERS] = model.doc_buffers(form)
    if model.closed:
        entry[schema.WIDGET_CLOSED] = True
    if model.kernel_time is not None:
        entry[schema.WIDGET_KERNEL_TIME] = model.kernel_time
    return Map(entry)


def _write_flags(entry: Map[Any], model: WidgetModel, form: BufferForm) -> None:
    _set(entry, schema.WIDGET_LIVE, model.live)
    if model.closed:
        _set(entry, schema.WIDGET_CLOSED, True)
    elif schema.WIDGET_CLOSED in entry:
        del entry[schema.WIDGET_CLOSED]
    if model.buffers:
        _set(entry, schema.WIDGET_BUFFERS, model.doc_buffers(form))
    elif schema.WIDGET_BUFFERS in entry:
        del entry[schema.WIDGET_BUFFERS]
    if model.kernel_time is not None:
        _set(entry, schema.WIDGET_KERNEL_TIME, model.kernel_time)


def remove_models(ydoc: Doc[Any], model_ids: Iterable[str]) -> None:
    models = models_map(ydoc)
    for model_id in model_ids:
        if model_id in models:
            del models[model_id]


def write_all(
    ydoc: Doc[Any],
    kernel_id: str,
    session: str | None,
    models: Mapping[str, WidgetModel],
    form: BufferForm,
) -> set[str]:
    """Bring the whole map in line with the models, after a room loads; returns the ids of
    the entries it removed."""
    write_kernel(ydoc, kernel_id, session)
    gone = set(models_map(ydoc).keys()) - set(models)
    remove_models(ydoc, gone)
    for model in models.values():
        write_model(ydoc, model, form)
    return gone


def blob_references(ydoc: Doc[Any]) -> set[str]:
    """The digests of the blobs that the doc's model entries name. Reading creates
    nothing."""
    models = widgets_root(ydoc).get(schema.WIDGET_MODELS)
    found: set[str] = set()
    if not isinstance(models, Map):
        return found
    for entry in models.values():
        buffers = entry.get(schema.WIDGET_BUFFERS) if isinstance(entry, Map) else None
        for buffer in buffers if isinstance(buffers, list) else ():
            digest = referenced_digest(buffer) if isinstance(buffer, dict) else None
            if digest is not None:
                found.add(digest)
    return found


def freeze_all(ydoc: Doc[Any]) -> None:
    """No kernel of this server holds the models any more (the server restarted). A doc
    without models gets none: reading creates nothing."""
    models = widgets_root(ydoc).get(schema.WIDGET_MODELS)
    if not isinstance(models, Map):
        return
    for entry in models.values():
        if isinstance(entry, Map):
            _set(entry, schema.WIDGET_LIVE, False)


def displayed_model_ids(notebook: YNotebook) -> set[str]:
    """The models of every widget view in the notebook's cells."""
    found: set[str] = set()
    for ycell in notebook.ycells:
        if not isinstance(ycell, Map):
            continue
        outputs = ycell.get("outputs")
        if outputs is None:
            continue
        found |= view_model_ids(_output_data(output) for output in outputs)
    return found


def _output_data(output: Any) -> dict[str, Any]:
    if isinstance(output, Map):
        data = output.get("data")
        return {"data": data.to_py() if isinstance(data, Map) else data}
    return output if isinstance(output, dict) else {}


def _meta(notebook: YNotebook) -> Map[Any]:
    # The root map that jupyter_ydoc keeps the notebook's metadata in.
    meta: Map[Any] = notebook.ydoc.get("meta", type=Map)
    return meta


def _metadata(notebook: YNotebook) -> Map[Any] | None:
    metadata = _meta(notebook).get("metadata")
    return metadata if isinstance(metadata, Map) else None


def saved_widget_state(notebook: YNotebook) -> dict[str, Any] | None:
    metadata = _metadata(notebook)
    value = metadata.get("widgets") if metadata is not None else None
    if isinstance(value, Map):
        value = value.to_py()
    return value if isinstance(value, dict) else None


def write_widget_state(notebook: YNotebook, value: dict[str, Any] | None) -> bool:
    """Write the metadata `widgets` (or remove what the server wrote, for None); returns
    whether it changed."""
    metadata = _metadata(notebook)
    if metadata is None:
        if value is None:
            return False
        metadata = Map({})
        _meta(notebook)["metadata"] = metadata
    current = saved_widget_state(notebook)
    if value is None:
        if current is None or STATE_MIME not in current:
            return False
        del metadata["widgets"]
        return True
    plain = plain_json(value)
    if current == plain:
        return False
    metadata["widgets"] = plain
    return True
