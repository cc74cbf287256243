"""REST handlers: parse, authorize, call the execution service, answer. Nothing more."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ._version import __version__
from .cells import CellSpec
from .collab_doc import Person
from .errors import InvalidRequest, http_answer
from .service import ExecutionService

FEATURES = ["execute", "cancel", "input", "status"]

HandlerMethod = TypeVar("HandlerMethod", bound=Callable[..., Awaitable[None]])


def answer_errors(method: HandlerMethod) -> HandlerMethod:
    """Answer the service's errors as the contract says (errors.http_answer)."""

    @functools.wraps(method)
    async def wrapper(self: CollabExecHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except Exception as error:
            answer = http_answer(error)
            if answer is None:
                raise
            status, body = answer
            self.set_status(status)
            self.finish(json.dumps(body))

    return wrapper  # type: ignore[return-value]


class CollabExecHandler(APIHandler):
    auth_resource = "kernels"

    @property
    def service(self) -> ExecutionService:
        service: ExecutionService = self.settings["collab_exec_service"]
        return service

    def json_body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"")
        except (ValueError, RecursionError) as error:
            # ValueError: malformed JSON, invalid UTF-8, an integer too long to convert;
            # RecursionError: arrays or objects nested too deep.
            raise InvalidRequest(f"The body is not valid JSON: {error}") from error
        if not isinstance(body, dict):
            raise InvalidRequest("The body must be a JSON object.")
        return body

    def person(self) -> Person:
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        display_name = str(getattr(user, "display_name", "") or getattr(user, "name", "") or "")
        return Person(username=username, display_name=display_name or username)


def required_string(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidRequest(f"'{key}' must be a non-empty string.")
    return value


def parse_cells(value: Any) -> list[CellSpec]:
    if not isinstance(value, list) or not value:
        raise InvalidRequest("'cells' must be a non-empty list.")
    specs = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise InvalidRequest(f"'cells[{index}]' must be an object.")
        cell_id = item.get("cell_id")
        if not isinstance(cell_id, str) or not cell_id:
            raise InvalidRequest(f"'cells[{index}].cell_id' must be a non-empty string.")
        source = item.get("source")
        if source is not None and not isinstance(source, str):
            raise InvalidRequest(f"'cells[{index}].source' must be a string.")
        specs.append(CellSpec(cell_id=cell_id, source=source))
    return specs


class InfoHandler(CollabExecHandler):
    @web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        self.finish(json.dumps({"version": __version__, "features": FEATURES}))


class ExecuteHandler(CollabExecHandler):
    @web.authenticated
    @authorized(action="execute")
    @answer_errors
    async def post(self) -> None:
        body = self.json_body()
        document_id = required_string(body, "document_id")
        kernel_id = required_string(body, "kernel_id")
        specs = parse_cells(body.get("cells"))
        record_timing = body.get("record_timing", False)
        if not isinstance(record_timing, bool):
            raise InvalidRequest("'record_timing' must be a boolean.")
        accepted = await self.service.submit(
            document_id,
            kernel_id,
            specs,
            record_timing=record_timing,
            submitted_by=self.person(),
        )
        self.set_status(202)
        self.finish(
            json.dumps(
                {
                    "requests": [
                        {"request_id": request.request_id, "cell_id": request.cell_id}
                        for request in accepted
                    ]
                }
            )
        )


class CancelHandler(CollabExecHandler):
    @web.authenticated
    @authorized(action="execute")
    @answer_errors
    async def post(self) -> None:
        body = self.json_body()
        document_id = required_string(body, "document_id")
        request_ids = body.get("request_ids")
        if request_ids is not None and (
            not isinstance(request_ids, list)
            or not all(isinstance(request_id, str) for request_id in request_ids)
        ):
            raise InvalidRequest("'request_ids' must be a list of strings.")
        cancelled = await self.service.cancel(
            document_id, set(request_ids) if request_ids is not None else None
        )
        self.finish(json.dumps({"cancelled": cancelled}))


class InputHandler(CollabExecHandler):
    @web.authenticated
    @authorized(action="execute")
    @answer_errors
    async def post(self) -> None:
        body = self.json_body()
        document_id = required_string(body, "document_id")
        input_id = required_string(body, "input_id")
        value = body.get("value")
        if not isinstance(value, str):
            raise InvalidRequest("'value' must be a string.")
        await self.service.answer_input(document_id, input_id, value, self.person())
        self.finish(json.dumps({"status": "answered"}))


def route_handlers() -> list[tuple[str, type[CollabExecHandler]]]:
    return [
        (r"/api/collab-exec/?", InfoHandler),
        (r"/api/collab-exec/execute/?", ExecuteHandler),
        (r"/api/collab-exec/cancel/?", CancelHandler),
        (r"/api/collab-exec/input/?", InputHandler),
    ]
