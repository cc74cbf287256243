"""Errors that the REST handlers turn into 4xx answers."""

from __future__ import annotations

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


MESSAGE_LIMIT = 500


def shortened(message: str, limit: int = MESSAGE_LIMIT) -> str:
    """An error message fit to answer and to log: messages quote the ids they were sent,
    which a client may make megabytes long."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}… ({len(message) - limit} more characters)"


__all__ = ["Conflict", "DocumentNotFound", "InvalidRequest", "NotFound", "shortened"]
