"""The JSON bodies of the REST endpoints, checked and turned into what the service takes.

Free of tornado: each function takes the raw body and raises InvalidRequest (400) with a
message that says what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from ..common.errors import InvalidRequest
from ..doc.cells import CellSpec
from ..history.records import RunQuery
from ..trust.authority import TrustQuery
from ..widgets.blobs import REF_SCHEME

# What one trust question may hold: a notebook's worth, not a flood.
MAX_TRUST_CELLS = 10_000
MAX_TRUST_DIGESTS = 200_000
MAX_TRUST_MODELS = 10_000
_DIGEST = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ExecuteBody:
    document_id: str
    kernel_id: str
    cells: list[CellSpec]
    record_timing: bool


@dataclass(frozen=True)
class CancelBody:
    document_id: str
    request_ids: set[str] | None


@dataclass(frozen=True)
class InputBody:
    document_id: str
    input_id: str
    value: str


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"")
    except (ValueError, RecursionError) as error:
        # ValueError: malformed JSON, invalid UTF-8, an integer too long to convert;
        # RecursionError: arrays or objects nested too deep.
        raise InvalidRequest(f"The body is not valid JSON: {error}") from error
    if not isinstance(body, dict):
        raise InvalidRequest("The body must be a JSON object.")
    return body


def _required_string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{key}' must be a non-empty string.")
    return value


def _cell_item(item: Any, index: int) -> tuple[dict[str, Any], str]:
    """One item of a body's `cells`: the object and its cell id."""
    if not isinstance(item, dict):
        raise InvalidRequest(f"'cells[{index}]' must be an object.")
    cell_id = item.get("cell_id")
    if not isinstance(cell_id, str) or not cell_id:
        raise InvalidRequest(f"'cells[{index}].cell_id' must be a non-empty string.")
    return item, cell_id


def _cells(value: Any) -> list[CellSpec]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'cells' must be a non-empty list.")
    specs = []
    for index, raw in enumerate(value):
        item, cell_id = _cell_item(raw, index)
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            raise InvalidRequest(f"'cells[{index}].source' must be a string.")
        specs.append(CellSpec(cell_id=cell_id, source=source))
    return specs


def execute_body(raw: bytes) -> ExecuteBody:
    body = json_object(raw)
    document_id = _required_string(body, "document_id")
    kernel_id = _required_string(body, "kernel_id")
    cells = _cells(body.get("cells"))
    record_timing = body.get("record_timing", False)
    if not isinstance(record_timing, bool):
        raise InvalidRequest("'record_timing' must be a boolean.")
    return ExecuteBody(document_id, kernel_id, cells, record_timing)


def cancel_body(raw: bytes) -> CancelBody:
    body = json_object(raw)
    document_id = _required_string(body, "document_id")
    request_ids = body.get("request_ids")
    if request_ids is not None and (
        not isinstance(request_ids, list)
        or not all(isinstance(request_id, str) for request_id in request_ids)
    ):
        raise InvalidRequest("'request_ids' must be a list of strings.")
    return CancelBody(document_id, set(request_ids) if request_ids is not None else None)


def input_body(raw: bytes) -> InputBody:
    body = json_object(raw)
    document_id = _required_string(body, "document_id")
    input_id = _required_string(body, "input_id")
    value = body.get("value")
    if not isinstance(value, str):
        raise InvalidRequest("'value' must be a string.")
    return InputBody(document_id, input_id, value)


def _digest(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _DIGEST.fullmatch(value):
        raise InvalidRequest(f"'{where}' must be a digest: 64 lowercase hexadecimal digits.")
    return value


def _trust_cells(value: Any) -> list[tuple[str, list[str]]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("'cells' must be a list.")
    if len(value) > MAX_TRUST_CELLS:
        raise InvalidRequest(f"'cells' may list at most {MAX_TRUST_CELLS} cells.")
    cells = []
    total = 0
    for index, raw in enumerate(value):
        item, cell_id = _cell_item(raw, index)
        outputs = item.get("outputs")
        if not isinstance(outputs, list):
            raise InvalidRequest(f"'cells[{index}].outputs' must be a list of digests.")
        total += len(outputs)
        if total > MAX_TRUST_DIGESTS:
            raise InvalidRequest(f"The cells may hold at most {MAX_TRUST_DIGESTS} digests in all.")
        digests = [
            _digest(digest, f"cells[{index}].outputs[{position}]")
            for position, digest in enumerate(outputs)
        ]
        cells.append((cell_id, digests))
    return cells


def _trust_models(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("'widget_models' must be an object of model ids to digests.")
    if len(value) > MAX_TRUST_MODELS:
        raise InvalidRequest(f"'widget_models' may hold at most {MAX_TRUST_MODELS} models.")
    return {
        str(model_id): _digest(digest, f"widget_models.{model_id}")
        for model_id, digest in value.items()
    }


def trust_body(raw: bytes) -> TrustQuery:
    body = json_object(raw)
    widget_state = body.get("widget_state")
    return TrustQuery(
        document_id=_required_string(body, "document_id"),
        cells=_trust_cells(body.get("cells")),
        widget_models=_trust_models(body.get("widget_models")),
        widget_state=None if widget_state is None else _digest(widget_state, "widget_state"),
    )


DEFAULT_HISTORY_LIMIT = 50
MAX_HISTORY_LIMIT = 500


def history_query(
    document_id: str | None,
    *,
    cell_id: str | None,
    submitted_by: str | None,
    before: str | None,
    limit: str | None,
) -> tuple[str, RunQuery]:
    """A listing of the run history, from the query string: the document and the runs."""
    if not document_id:
        raise InvalidRequest("'document_id' must be a non-empty string.")
    if limit is None:
        count = DEFAULT_HISTORY_LIMIT
    else:
        try:
            count = int(limit)
        except ValueError:
            raise InvalidRequest("'limit' must be a whole number.") from None
        if not 1 <= count <= MAX_HISTORY_LIMIT:
            raise InvalidRequest(f"'limit' must be between 1 and {MAX_HISTORY_LIMIT}.")
    return document_id, RunQuery(
        cell_id=cell_id or None,
        submitted_by=submitted_by or None,
        before=before or None,
        limit=count,
    )


@dataclass(frozen=True)
class RestoreBody:
    document_id: str
    cell_id: str
    run_id: str


def restore_body(raw: bytes) -> RestoreBody:
    body = json_object(raw)
    return RestoreBody(
        document_id=_required_string(body, "document_id"),
        cell_id=_required_string(body, "cell_id"),
        run_id=_required_string(body, "run_id"),
    )


def history_run_query(document_id: str | None) -> str:
    if not document_id:
        raise InvalidRequest("'document_id' must be a non-empty string.")
    return document_id


def widget_value_query(document_id: str | None, digest: str) -> tuple[str, str]:
    """The document and digest of a binary widget value that a browser asks for, named by
    its digest or by the doc's reference (`sha256:<digest>`)."""
    if not document_id:
        raise InvalidRequest("'document_id' must be a non-empty string.")
    return document_id, _digest(digest.removeprefix(REF_SCHEME), "digest")
