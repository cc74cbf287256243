"""The one place where the service's errors become HTTP answers."""

from __future__ import annotations

from typing import Any

from ..common.errors import (
    Conflict,
    DocumentNotFound,
    HistoryUnavailable,
    InvalidRequest,
    KernelUnavailable,
    NotFound,
)

MESSAGE_LIMIT = 500


def shortened(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """An error message fit to answer and to log: messages quote the ids they were sent,
    which a client may make megabytes long."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit} more characters)"


def http_answer(error: Exception) -> tuple[int, dict[str, Any]] | None:
    """The status and JSON body that answer a service error; None for anything else."""
    if isinstance(error, InvalidRequest):
        status = 400
    elif isinstance(error, (NotFound, DocumentNotFound)):
        status = 404
    elif isinstance(error, Conflict):
        return 409, {"message": shortened(str(error)), **error.details}
    elif isinstance(error, (KernelUnavailable, HistoryUnavailable)):
        status = 503
    else:
        return None
    message = str(error.args[0]) if error.args else str(error)
    return status, {"message": shortened(message)}
