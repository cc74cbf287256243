"""The trust, widget-value and run-history endpoints only read: they are authorized as `read`
on `kernels`, like the other reads of the server."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from jupyter_server.auth import Authorizer
from tornado.httpclient import HTTPClientError

from ..conftest import PostJson
from .test_trust import ask


class ReadOnly(Authorizer):
    """Allows only `read` on `kernels` (or not even that), and everything else."""

    allow_read: ClassVar[bool] = True
    asked: ClassVar[list[tuple[str, str]]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        ReadOnly.asked.append((action, resource))
        if resource != "kernels":
            return True
        return action == "read" and ReadOnly.allow_read


@pytest.fixture
def extra_server_config() -> dict[str, Any]:
    return {"ServerApp": {"authorizer_class": ReadOnly}}


async def test_the_trust_endpoint_is_authorized_as_a_read(
    notebook_factory: Any, document_id_for: Any, post_json: PostJson
) -> None:
    path = notebook_factory("trust-read.ipynb", ["1"])
    document_id, _ = await document_id_for(path)
    ReadOnly.asked.clear()
    code, answer = await ask(post_json, {"document_id": document_id})
    assert code == 200, answer
    assert ("read", "kernels") in ReadOnly.asked
    ReadOnly.allow_read = False
    try:
        code, answer = await ask(post_json, {"document_id": document_id})
    finally:
        ReadOnly.allow_read = True
    assert code == 403, answer


async def read_codes(jp_fetch: Any, document_id: str, route: tuple[str, ...]) -> list[int]:
    """The status of a GET under /api/collab-exec, allowed to read and then not."""
    codes = []
    for allowed in (True, False):
        ReadOnly.allow_read = allowed
        try:
            response = await jp_fetch(
                "api", "collab-exec", *route, params={"document_id": document_id}
            )
            codes.append(response.code)
        except HTTPClientError as error:
            codes.append(error.code)
        finally:
            ReadOnly.allow_read = True
    return codes


async def test_a_widget_value_is_read_as_a_read(
    notebook_factory: Any, document_id_for: Any, jp_fetch: Any
) -> None:
    path = notebook_factory("value-read.ipynb", ["1"])
    document_id, _ = await document_id_for(path)
    # Allowed, it finds no such value; denied, it is refused before it looks.
    assert await read_codes(jp_fetch, document_id, ("widget-values", "0" * 64)) == [404, 403]


async def test_the_run_history_is_read_as_a_read(
    notebook_factory: Any, document_id_for: Any, jp_fetch: Any
) -> None:
    path = notebook_factory("history-read.ipynb", ["1"])
    document_id, _ = await document_id_for(path)
    # Allowed: an empty history, and no such run; denied: refused before it looks.
    assert await read_codes(jp_fetch, document_id, ("history",)) == [200, 403]
    assert await read_codes(jp_fetch, document_id, ("history", "no-such-run")) == [404, 403]
