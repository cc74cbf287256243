"""The trust endpoint only reads: it is authorized as `read` on `kernels`, like the other
reads of the server."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from jupyter_server.auth import Authorizer

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
