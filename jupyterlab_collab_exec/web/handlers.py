"""REST handlers: authorize, parse, call the execution service, answer. Nothing more."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .._version import __version__
from ..doc.collab_map import Person
from ..execution.service import ExecutionService
from . import bodies
from .answers import http_answer

FEATURES = ["execute", "cancel", "input", "status", "trust", "widget-values", "history"]

HandlerMethod = TypeVar("HandlerMethod", bound=Callable[..., Awaitable[None]])


def executing(method: HandlerMethod) -> HandlerMethod:
    """What every mutating endpoint does first: authenticate, authorize `execute` on
    `kernels`, and answer the service's errors as the contract says (answers.http_answer)."""
    return _answering(method, "execute")


def reading(method: HandlerMethod) -> HandlerMethod:
    """The same for an endpoint that only reads: authorize `read` on `kernels`."""
    return _answering(method, "read")


def _answering(method: HandlerMethod, action: str) -> HandlerMethod:
    @functools.wraps(method)
    async def answering_errors(self: CollabExecHandler, *args: Any, **kwargs: Any) -> None:
        try:
            await method(self, *args, **kwargs)
        except Exception as error:
            answer = http_answer(error)
            if answer is None:
                raise
            status, body = answer
            self.set_status(status)
            self.finish(json.dumps(body))

    authorizing: Any = authorized(action=action)(answering_errors)
    return web.authenticated(authorizing)  # type: ignore[return-value]


class CollabExecHandler(APIHandler):
    auth_resource = "kernels"

    @property
    def service(self) -> ExecutionService:
        service: ExecutionService = self.settings["collab_exec_service"]
        return service

    def person(self) -> Person:
        """Who calls: under JupyterHub, the person visiting, not the server's owner."""
        user = self.current_user
        username = str(getattr(user, "username", "") or "")
        display_name = str(getattr(user, "display_name", "") or getattr(user, "name", "") or "")
        return Person(username=username, display_name=display_name or username)


class InfoHandler(CollabExecHandler):
    @web.authenticated
    @authorized(action="read")
    async def get(self) -> None:
        self.finish(json.dumps({"version": __version__, "features": FEATURES}))


class ExecuteHandler(CollabExecHandler):
    @executing
    async def post(self) -> None:
        body = bodies.execute_body(self.request.body)
        accepted = await self.service.submit(
            body.document_id,
            body.kernel_id,
            body.cells,
            record_timing=body.record_timing,
            submitted_by=self.person(),
        )
        requests = [{"request_id": r.request_id, "cell_id": r.cell_id} for r in accepted]
        self.set_status(202)
        self.finish(json.dumps({"requests": requests}))


class CancelHandler(CollabExecHandler):
    @executing
    async def post(self) -> None:
        body = bodies.cancel_body(self.request.body)
        cancelled = await self.service.cancel(body.document_id, body.request_ids)
        self.finish(json.dumps({"cancelled": cancelled}))


class InputHandler(CollabExecHandler):
    @executing
    async def post(self) -> None:
        body = bodies.input_body(self.request.body)
        await self.service.answer_input(body.document_id, body.input_id, body.value, self.person())
        self.finish(json.dumps({"status": "answered"}))


class TrustHandler(CollabExecHandler):
    @reading
    async def post(self) -> None:
        answer = await self.service.verify_trust(bodies.trust_body(self.request.body))
        self.finish(json.dumps(answer.to_json()))


class WidgetValueHandler(CollabExecHandler):
    @reading
    async def get(self, digest: str) -> None:
        document_id, digest = bodies.widget_value_query(
            self.get_query_argument("document_id", None), digest
        )
        data = self.service.widget_blob(document_id, digest)
        # Named by its content: it never changes.
        self.set_header("Cache-Control", "private, max-age=31536000, immutable")
        self.finish(data, set_content_type="application/octet-stream")


class HistoryHandler(CollabExecHandler):
    @reading
    async def get(self) -> None:
        document_id, query = bodies.history_query(
            self.get_query_argument("document_id", None),
            cell_id=self.get_query_argument("cell_id", None),
            submitted_by=self.get_query_argument("submitted_by", None),
            before=self.get_query_argument("before", None),
            limit=self.get_query_argument("limit", None),
        )
        answer = await self.service.history.runs(document_id, query)
        self.finish(json.dumps(answer))


class HistoryRunHandler(CollabExecHandler):
    @reading
    async def get(self, run_id: str) -> None:
        document_id = bodies.history_run_query(self.get_query_argument("document_id", None))
        self.finish(json.dumps(await self.service.history.run(document_id, run_id)))


class HistoryRestoreHandler(CollabExecHandler):
    @executing
    async def post(self) -> None:
        body = bodies.restore_body(self.request.body)
        answer = await self.service.history.restore(
            body.document_id, body.cell_id, body.run_id, self.person()
        )
        self.finish(json.dumps(answer))


def route_handlers() -> list[tuple[str, type[CollabExecHandler]]]:
    return [
        (r"/api/collab-exec/?", InfoHandler),
        (r"/api/collab-exec/execute/?", ExecuteHandler),
        (r"/api/collab-exec/cancel/?", CancelHandler),
        (r"/api/collab-exec/input/?", InputHandler),
        (r"/api/collab-exec/trust/?", TrustHandler),
        (r"/api/collab-exec/widget-values/([^/]+)", WidgetValueHandler),
        (r"/api/collab-exec/history/?", HistoryHandler),
        (r"/api/collab-exec/history/restore/?", HistoryRestoreHandler),
        (r"/api/collab-exec/history/([^/]+)", HistoryRunHandler),
    ]
