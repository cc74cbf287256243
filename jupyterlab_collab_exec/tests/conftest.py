"""Fixtures: a real jupyter_server with jupyter-collaboration and this extension, real
ipykernels (local, or behind a real Kernel Gateway), and pycrdt clients joined to notebook
rooms.

A test marked `both_kernels` (most modules are) runs twice if it starts a kernel: with a
local kernel and with a kernel behind the gateway; one marked `gateway_kernel` runs with
the gateway only."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import nbformat
import pytest
from httpx_ws import aconnect_ws
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.utils import url_path_join
from pycrdt import Provider
from pycrdt.websocket.websocket import HttpxWebsocket
from tornado.httpclient import HTTPClientError

from .clients import DEFAULT_TIMEOUT, RoomClient
from .gateway import KernelGatewayProcess

pytest_plugins = ("pytest_jupyter.jupyter_server",)
KERNEL_KINDS = ("local", "gateway")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_kernels: run the tests that start a kernel with local and gateway kernels"
    )
    config.addinivalue_line("markers", "gateway_kernel: run the test with a gateway kernel only")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "start_kernel" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("gateway_kernel") is not None:
        metafunc.parametrize("kernel_kind", ["gateway"], indirect=True)
    elif metafunc.definition.get_closest_marker("both_kernels") is not None:
        metafunc.parametrize("kernel_kind", KERNEL_KINDS, indirect=True)


@pytest.fixture
def kernel_kind(request: pytest.FixtureRequest) -> str:
    """Where the server runs its kernels: `local`, or `gateway`."""
    return str(getattr(request, "param", "local"))


@pytest.fixture(scope="session")
def kernel_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelGatewayProcess]:
    """One real Kernel Gateway for the session, on a free loopback port."""
    gateway = KernelGatewayProcess(tmp_path_factory.mktemp("kernel-gateway"))
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
def gateway_arguments() -> list[str] | None:
    """Command-line arguments for a gateway of the test's own; None shares the session's."""
    return None


@pytest.fixture
def gateway_process(
    request: pytest.FixtureRequest, gateway_arguments: list[str] | None, tmp_path: Path
) -> Iterator[KernelGatewayProcess]:
    """The gateway the server of a `gateway` test uses."""
    if gateway_arguments is None:
        yield request.getfixturevalue("kernel_gateway")
        return
    gateway = KernelGatewayProcess(tmp_path / "kernel-gateway", *gateway_arguments)
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
def gateway_config(request: pytest.FixtureRequest, kernel_kind: str) -> dict[str, Any]:
    """The `GatewayClient` section of the server's config; empty for local kernels.

    GatewayClient is a singleton that outlives a server, and the server's teardown still
    uses it: each test starts with a fresh one."""
    GatewayClient.clear_instance()
    if kernel_kind != "gateway":
        return {}
    gateway: KernelGatewayProcess = request.getfixturevalue("gateway_process")
    return gateway.server_config()


@pytest.fixture
def document_cleanup_delay() -> float:
    return 60.0


@pytest.fixture
def flush_interval() -> float:
    return 0.05


@pytest.fixture
def extra_server_config() -> dict[str, Any]:
    return {}


@pytest.fixture
def jp_server_config(
    jp_root_dir: Path,
    document_cleanup_delay: float,
    flush_interval: float,
    extra_server_config: dict[str, Any],
    gateway_config: dict[str, Any],
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "ServerApp": {
            "jpserver_extensions": {
                "jupyter_server_ydoc": True,
                "jupyter_server_fileid": True,
                "jupyterlab_collab_exec": True,
            },
            "allow_unauthenticated_access": False,
        },
        "SQLiteYStore": {"db_path": str(jp_root_dir / ".jupyter_ystore.db")},
        "BaseFileIdManager": {
            "root_dir": str(jp_root_dir),
            "db_path": str(jp_root_dir / ".fileid.db"),
            "db_journal_mode": "OFF",
        },
        "YDocExtension": {
            "document_save_delay": 0.5,
            "document_cleanup_delay": document_cleanup_delay,
        },
        "CollabExecApp": {"flush_interval": flush_interval},
    }
    if gateway_config:
        config["GatewayClient"] = dict(gateway_config)
    for section, values in extra_server_config.items():
        config.setdefault(section, {}).update(values)
    return config


@pytest.fixture
def notebook_factory(jp_root_dir: Path) -> Callable[..., str]:
    """Write a notebook whose code cells have the given sources; returns its path."""

    def create(name: str, sources: list[str]) -> str:
        notebook = nbformat.v4.new_notebook()
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        notebook.cells = [
            nbformat.v4.new_code_cell(source, id=f"cell-{index}")
            for index, source in enumerate(sources)
        ]
        path = jp_root_dir / name
        path.write_text(nbformat.writes(notebook), encoding="utf-8")
        return name

    return create


@pytest.fixture
def document_id_for(jp_fetch: Any) -> Callable[[str], Awaitable[tuple[str, str]]]:
    """The room id and the collaboration session id of a notebook path."""

    async def get(path: str) -> tuple[str, str]:
        response = await jp_fetch(
            "api",
            "collaboration",
            "session",
            path,
            method="PUT",
            body=json.dumps({"format": "json", "type": "notebook"}),
        )
        data = json.loads(response.body)
        return f"json:notebook:{data['fileId']}", data["sessionId"]

    return get


@pytest.fixture
def join_room(jp_http_port: int, jp_base_url: str, jp_serverapp: Any) -> Callable[[str, str], Any]:
    """Join a room with a pycrdt client: `async with join_room(room_id, session_id) as client`."""

    @asynccontextmanager
    async def join(room_id: str, session_id: str) -> AsyncIterator[RoomClient]:
        token = jp_serverapp.identity_provider.token
        url = (
            f"http://127.0.0.1:{jp_http_port}"
            + url_path_join(jp_base_url, "api/collaboration/room", room_id)
            + f"?sessionId={session_id}&token={token}"
        )
        client = RoomClient()
        async with (
            aconnect_ws(url) as websocket,  # type: ignore[var-annotated]
            Provider(client.notebook.ydoc, HttpxWebsocket(websocket, room_id)) as provider,
        ):
            await asyncio.wait_for(provider.synced.wait(), DEFAULT_TIMEOUT)
            await client.wait_until(lambda: client.notebook.cell_number > 0, what="cells synced")
            yield client

    return join


@pytest.fixture
def start_kernel(jp_fetch: Any) -> Callable[[], Awaitable[str]]:
    async def start() -> str:
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({}))
        return str(json.loads(response.body)["id"])

    return start


@pytest.fixture
def post_json(jp_fetch: Any) -> Callable[..., Awaitable[tuple[int, dict[str, Any]]]]:
    """POST a JSON body; returns the status code and the decoded answer, errors included."""

    async def post(*parts: str, body: Any, raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        payload = raw if raw is not None else json.dumps(body).encode()
        try:
            response = await jp_fetch(*parts, method="POST", body=payload)
        except HTTPClientError as error:
            body = error.response.body if error.response is not None else b""
            return error.code, json.loads(body or b"{}")
        return response.code, json.loads(response.body or b"{}")

    return post


@pytest.fixture
def execute(post_json: Any) -> Callable[..., Awaitable[list[str]]]:
    """Queue cells; returns the request ids in order."""

    async def run(document_id: str, kernel_id: str, *cells: str | dict[str, Any]) -> list[str]:
        specs = [{"cell_id": cell} if isinstance(cell, str) else cell for cell in cells]
        code, answer = await post_json(
            "api",
            "collab-exec",
            "execute",
            body={"document_id": document_id, "kernel_id": kernel_id, "cells": specs},
        )
        assert code == 202, answer
        return [request["request_id"] for request in answer["requests"]]

    return run


async def answer(
    post_json: Any, document_id: str, input_id: str, value: str
) -> tuple[int, dict[str, Any]]:
    """Answer a pending input over REST; returns the status code and the decoded answer."""
    body = {"document_id": document_id, "input_id": input_id, "value": value}
    code, reply = await post_json("api", "collab-exec", "input", body=body)
    return int(code), reply


def statuses(client: RoomClient, *request_ids: str) -> list[str | None]:
    requests = client.requests()
    return [requests.get(request_id, {}).get("status") for request_id in request_ids]


def all_cells_idle(client: RoomClient) -> bool:
    return all(
        client.notebook.ycells[index].get("execution_state") != "running"
        for index in range(client.notebook.cell_number)
    )
