"""The errors of the service, which the REST handlers answer with (web/answers.py)."""

from __future__ import annotations


class DocumentNotFound(LookupError):
    """No notebook matches a document id (404)."""


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


class HistoryUnavailable(RuntimeError):
    """The run history's database cannot be read now (503)."""
