"""Authorization: the mutating endpoints need `execute` on `kernels`, nothing works without a
token, and cookie-authenticated POSTs need the XSRF token. Every request that is turned away
leaves the documents and the service's work as they were."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any, ClassVar

import httpx
import pytest
from jupyter_server.auth import Authorizer
from jupyter_server.utils import url_path_join

from ..clients import RoomClient
from ..conftest import all_cells_idle, statuses
from .conftest import OpenFuzzWorld
from .tally import Tally
from .world import QUIET_SERVER, Known, ServerDocs, differences

MUTATING = ("execute", "cancel", "input")


class Switchboard(Authorizer):
    """Allows everything, or everything but `execute` on `kernels`, or only `read`; and
    records what it was asked."""

    mode: ClassVar[str] = "all"
    asked: ClassVar[list[tuple[str, str]]] = []

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        Switchboard.asked.append((action, resource))
        if Switchboard.mode == "deny-execute":
            return not (action == "execute" and resource == "kernels")
        if Switchboard.mode == "read-only":
            return action == "read"
        return True


def valid_bodies(known: Known) -> list[tuple[str, dict[str, Any]]]:
    """Bodies the server would act on: queue a cell, cancel the queued request (by id, and
    everything queued), answer the pending input."""
    document = known.input_document
    queued = known.request_ids[1]
    return [
        (
            "execute",
            {
                "document_id": document,
                "kernel_id": known.kernel_id,
                "cells": [{"cell_id": "quiet"}],
            },
        ),
        ("cancel", {"document_id": document, "request_ids": [queued]}),
        ("cancel", {"document_id": document}),
        ("input", {"document_id": document, "input_id": known.input_id, "value": "Mallory"}),
    ]


class Api:
    """REST calls with chosen credentials, and the check that a refused one changed
    nothing."""

    def __init__(self, port: int, base_url: str, docs: ServerDocs, tally: Tally) -> None:
        self.http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60)
        self.base_url = base_url
        self.docs = docs
        self.tally = tally

    def path(self, endpoint: str = "") -> str:
        return url_path_join(self.base_url, "api/collab-exec", endpoint)

    async def request(
        self, method: str, path: str, *, headers: dict[str, str], body: Any = None
    ) -> httpx.Response:
        content = json.dumps(body).encode() if body is not None else None
        response = await self.http.request(method, path, headers=headers, content=content)
        # Each request carries exactly the credentials given, never remembered cookies.
        self.http.cookies.clear()
        return response

    @contextmanager
    def trial(self) -> Iterator[None]:
        with self.tally.trial("authorization"):
            yield

    async def refused(
        self,
        method: str,
        endpoint: str,
        *,
        headers: dict[str, str],
        body: Any = None,
        code: int = 403,
    ) -> dict[str, Any]:
        """One counted trial: the request is refused, with a JSON message, and changes
        nothing."""
        with self.trial():
            before = await self.docs.snapshot()
            response = await self.request(method, self.path(endpoint), headers=headers, body=body)
            assert response.status_code == code, (endpoint, body, response.text)
            answer = response.json()
            assert isinstance(answer.get("message"), str), answer
            assert answer["message"]
            after = await self.docs.snapshot()
            assert after == before, differences(before, after)
            return dict(answer)

    async def close(self) -> None:
        await self.http.aclose()


World = tuple[Known, RoomClient, Api]
OpenWorld = Callable[[], AbstractAsyncContextManager[World]]


@pytest.fixture
def open_world(
    tally: Tally, jp_http_port: int, jp_base_url: str, open_fuzz_world: OpenFuzzWorld
) -> OpenWorld:
    """`async with open_world() as (known, client, api)`: the hostile suite's notebooks,
    settled, and an Api that checks that a refused request changed nothing in them."""

    @asynccontextmanager
    async def open_() -> AsyncIterator[World]:
        async with open_fuzz_world() as (known, docs, client):
            api = Api(jp_http_port, jp_base_url, docs, tally)
            try:
                yield known, client, api
            finally:
                await api.close()

    return open_


@pytest.mark.parametrize(
    "extra_server_config", [{**QUIET_SERVER, "ServerApp": {"authorizer_class": Switchboard}}]
)
async def test_denied_execute_gets_403_on_every_mutating_endpoint(
    extra_server_config: Any, jp_serverapp: Any, open_world: OpenWorld, post_json: Any
) -> None:
    Switchboard.mode = "all"
    token = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
    async with open_world() as (known, client, api):
        try:
            for mode in ("deny-execute", "read-only"):
                Switchboard.mode = mode
                for endpoint, body in valid_bodies(known):
                    Switchboard.asked.clear()
                    answer = await api.refused("POST", endpoint, headers=token, body=body)
                    assert "execute" in answer["message"], answer
                    assert ("execute", "kernels") in Switchboard.asked, endpoint
                with api.trial():
                    Switchboard.asked.clear()
                    response = await api.request("GET", api.path(), headers=token)
                    assert response.status_code == 200, response.text
                    assert response.json()["version"]
                    assert Switchboard.asked == [("read", "kernels")]
        finally:
            Switchboard.mode = "all"

        # The refused bodies were valid: allowed again, they act.
        code, reply = await post_json(
            "api", "collab-exec", "cancel", body=valid_bodies(known)[1][1]
        )
        assert (code, reply) == (200, {"cancelled": [known.request_ids[1]]})
        code, reply = await post_json("api", "collab-exec", "input", body=valid_bodies(known)[3][1])
        assert (code, reply) == (200, {"status": "answered"})
        await client.wait_until(
            lambda: (
                statuses(client, *known.request_ids) == ["ok", "cancelled"]
                and all_cells_idle(client)
            ),
            what="the run to finish",
        )
        assert client.cell("ask")["outputs"][-1]["text"] == "Hello Mallory\n"


@pytest.mark.parametrize("extra_server_config", [QUIET_SERVER])
async def test_no_token_gets_403_on_every_endpoint(
    extra_server_config: Any, jp_serverapp: Any, jp_http_port: int, open_world: OpenWorld
) -> None:
    async with open_world() as (known, _, api):
        token = jp_serverapp.identity_provider.token
        credentials: list[dict[str, str]] = [
            {},
            {"Authorization": "token not-the-token"},
            {"Authorization": f"token {token}x"},
            {"Cookie": f"username-127-0-0-1-{jp_http_port}=forged; _xsrf=forged"},
            # Past the XSRF check (which refuses the others' POSTs first), still no user.
            {"Cookie": "_xsrf=matching", "X-XSRFToken": "matching"},
        ]
        for headers in credentials:
            await api.refused("GET", "", headers=headers)
            for endpoint, body in valid_bodies(known):
                answer = await api.refused("POST", endpoint, headers=headers, body=body)
                if "X-XSRFToken" in headers:
                    assert "xsrf" not in answer["message"].lower(), answer


@pytest.mark.parametrize("extra_server_config", [QUIET_SERVER])
async def test_cookie_authenticated_posts_need_the_xsrf_token(
    extra_server_config: Any, jp_serverapp: Any, jp_base_url: str, open_world: OpenWorld
) -> None:
    async with open_world() as (known, client, api):
        token = jp_serverapp.identity_provider.token
        # A browser's visit: the login page sets the _xsrf cookie, and a request with
        # the token in its URL sets the login cookie.
        page = await api.http.get(url_path_join(jp_base_url, "login"))
        assert page.status_code == 200
        xsrf = page.cookies.get("_xsrf")
        assert xsrf, page.headers
        visit = await api.http.get(api.path() + f"?token={token}")
        assert visit.status_code == 200
        login = {name: value for name, value in visit.cookies.items() if name != "_xsrf"}
        assert login, visit.headers
        api.http.cookies.clear()
        cookie = "; ".join(f"{name}={value}" for name, value in {**login, "_xsrf": xsrf}.items())
        browser = {"Cookie": cookie}

        with api.trial():
            response = await api.request("GET", api.path(), headers=browser)
            assert response.status_code == 200, response.text

        for endpoint, body in valid_bodies(known):
            answer = await api.refused("POST", endpoint, headers=browser, body=body)
            assert "xsrf" in answer["message"].lower(), answer
            wrong = {**browser, "X-XSRFToken": "2|00000000|" + "0" * 32 + "|1"}
            await api.refused("POST", endpoint, headers=wrong, body=body)

        # With the matching header, the same cookie is enough.
        with_xsrf = {**browser, "X-XSRFToken": xsrf}
        with api.trial():
            before = await api.docs.snapshot()
            harmless = {"document_id": known.input_document, "request_ids": ["no-such"]}
            response = await api.request(
                "POST", api.path("cancel"), headers=with_xsrf, body=harmless
            )
            assert (response.status_code, response.json()) == (200, {"cancelled": []})
            after = await api.docs.snapshot()
            assert after == before, differences(before, after)
        unknown = {"document_id": known.input_document, "input_id": "no-such", "value": "v"}
        await api.refused("POST", "input", headers=with_xsrf, body=unknown, code=404)
        with api.trial():
            _, input_body = valid_bodies(known)[3]
            response = await api.request(
                "POST", api.path("input"), headers=with_xsrf, body=input_body
            )
            assert (response.status_code, response.json()) == (200, {"status": "answered"})
            await client.wait_until(
                lambda: (
                    statuses(client, *known.request_ids) == ["ok", "ok"] and all_cells_idle(client)
                ),
                what="the run to finish",
            )
            entry = client.inputs()[known.input_id]
            assert entry["answered_by"]["username"]
