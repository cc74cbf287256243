"""Errors that the REST handlers answer with, and the one place that maps them to HTTP."""

from __future__ import annotations

from typing import Any

from .room_access import DocumentNotFound


class InvalidRequest(ValueError):
    """The body is malformed or asks for something impossible (400)."""


class NotFound(LookupError):
    """An unknown kernel, cell or input (404)."""


class Conflict(RuntimeError):
    """The request conflicts with the current state (409)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class KernelUnavailable(RuntimeError):
    """The kernel, or the server's connection to it, cannot take work now (503)."""


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
    elif isinstance(error, KernelUnavailable):
        status = 503
    else:
        return None
    message = str(error.args[0]) if error.args else str(error)
    return status, {"message": shortened(message)}


__all__ = [
    "Conflict",
    "DocumentNotFound",
    "InvalidRequest",
    "KernelUnavailable",
    "NotFound",
    "http_answer",
    "shortened",
]
