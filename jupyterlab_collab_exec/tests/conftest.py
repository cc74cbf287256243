"""Fixtures: a real jupyter_server with jupyter-collaboration and this extension, real
ipykernels (local, or behind a real Kernel Gateway or Enterprise Gateway), and pycrdt
clients joined to notebook rooms.

A test marked `both_kernels` (most modules are) runs twice if it starts a kernel: with a
local kernel and with a kernel behind the Kernel Gateway; one marked `gateway_kernel` runs
with the gateway only. A test also marked `enterprise_gateway` runs once more, with a kernel
behind Enterprise Gateway: the lifecycle tests are, not every test, to keep the suite's time."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from jupyter_core.utils import ensure_event_loop
from jupyter_server.gateway.gateway_client import GatewayClient
from jupyter_server.utils import url_path_join
from tornado.httpclient import HTTPClientError

from .clients import DEFAULT_TIMEOUT, RoomClient, joined_room, write_notebook
from .enterprise_gateway import KERNEL_USERNAME, EnterpriseGatewayProcess
from .gateway import GatewayProcess, KernelGatewayProcess
from .hub import HubProcess
from .kernel_websocket import KernelWebsocket, kernel_websocket
from .scripted import Core

pytest_plugins = ("pytest_jupyter.jupyter_server",)
KERNEL_KINDS = ("local", "gateway")
ENTERPRISE_GATEWAY = "enterprise-gateway"
GATEWAY_KINDS = ("gateway", ENTERPRISE_GATEWAY)
# How long the tasks a test's server left behind may take to end once cancelled.
LOOP_CLOSE_TIMEOUT = 10.0


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[asyncio.AbstractEventLoop]:
    """pytest-jupyter's loop, closed as `asyncio.run` closes one. pytest-jupyter closes it
    with tasks of the stopped server still pending; pycrdt's websocket server among them
    holds an AnyIO worker thread that stops only when that task ends, and Python waits for
    that thread at exit: the test process would never end."""
    loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.wait(pending, timeout=LOOP_CLOSE_TIMEOUT))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()


FINAL = frozenset({"ok", "error", "cancelled", "interrupted"})

JoinRoom = Callable[[str, str], AbstractAsyncContextManager[RoomClient]]
PostJson = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]
Execute = Callable[..., Awaitable[list[str]]]
StartKernel = Callable[[], Awaitable[str]]
ConnectKernel = Callable[[str], AbstractAsyncContextManager[KernelWebsocket]]


class DocumentIdFor(Protocol):
    def __call__(
        self, path: str, headers: dict[str, str] | None = None
    ) -> Awaitable[tuple[str, str]]: ...


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_kernels: run the tests that start a kernel with local and gateway kernels"
    )
    config.addinivalue_line("markers", "gateway_kernel: run the test with a gateway kernel only")
    config.addinivalue_line(
        "markers", "enterprise_gateway: run the test with an Enterprise Gateway kernel too"
    )


def names_its_kernel_kinds(definition: pytest.Function) -> bool:
    """Whether a test parametrizes `kernel_kind` itself, to expect something of each kind."""
    for marker in definition.iter_markers("parametrize"):
        names = marker.args[0]
        if isinstance(names, str):
            names = [name.strip() for name in names.split(",")]
        if "kernel_kind" in names:
            return True
    return False


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "start_kernel" not in metafunc.fixturenames or names_its_kernel_kinds(metafunc.definition):
        return
    if metafunc.definition.get_closest_marker("gateway_kernel") is not None:
        kinds = ["gateway"]
    elif metafunc.definition.get_closest_marker("both_kernels") is not None:
        kinds = list(KERNEL_KINDS)
    else:
        return
    if metafunc.definition.get_closest_marker("enterprise_gateway") is not None:
        kinds.append(ENTERPRISE_GATEWAY)
    metafunc.parametrize("kernel_kind", kinds, indirect=True)


@pytest.fixture
def kernel_kind(request: pytest.FixtureRequest) -> str:
    """Where the server runs its kernels: `local`, `gateway` (Kernel Gateway), or
    `enterprise-gateway`."""
    return str(getattr(request, "param", "local"))


@pytest.fixture
def core_factory(jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[Any]:
    made: list[Core] = []

    def make(*sources: str, **options: Any) -> Core:
        made.append(Core(list(sources), **options))
        return made[-1]

    yield make
    for core in made:
        jp_asyncio_loop.run_until_complete(core.runner.close())
        jp_asyncio_loop.run_until_complete(core.tasks.close())


@pytest.fixture(scope="session")
def kernel_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KernelGatewayProcess]:
    """One real Kernel Gateway for the session, on a free loopback port."""
    gateway = KernelGatewayProcess(tmp_path_factory.mktemp("kernel-gateway"))
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def enterprise_gateway(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[EnterpriseGatewayProcess]:
    """One real Enterprise Gateway for the session, on a free loopback port."""
    gateway = EnterpriseGatewayProcess(tmp_path_factory.mktemp("enterprise-gateway"))
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def jupyterhub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One real JupyterHub for the session, with the example's collaboration accounts."""
    hub = HubProcess(tmp_path_factory.mktemp("jupyterhub"))
    try:
        hub.start()
        yield hub
    finally:
        hub.stop()


@pytest.fixture
def gateway_arguments() -> list[str] | None:
    """Command-line arguments for a gateway of the test's own; None shares the session's."""
    return None


@pytest.fixture
def gateway_process(
    request: pytest.FixtureRequest,
    kernel_kind: str,
    gateway_arguments: list[str] | None,
    tmp_path: Path,
) -> Iterator[GatewayProcess]:
    """The gateway the server of a `gateway` or `enterprise-gateway` test uses."""
    enterprise = kernel_kind == ENTERPRISE_GATEWAY
    if gateway_arguments is None:
        yield request.getfixturevalue("enterprise_gateway" if enterprise else "kernel_gateway")
        return
    gateway: GatewayProcess
    if enterprise:
        gateway = EnterpriseGatewayProcess(tmp_path / "enterprise-gateway", *gateway_arguments)
    else:
        gateway = KernelGatewayProcess(tmp_path / "kernel-gateway", *gateway_arguments)
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture
def gateway_config(
    request: pytest.FixtureRequest, kernel_kind: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    """The `GatewayClient` section of the server's config; empty for local kernels.

    GatewayClient is a singleton that outlives a server, and the server's teardown still
    uses it: each test starts with a fresh one."""
    GatewayClient.clear_instance()
    if kernel_kind not in GATEWAY_KINDS:
        return {}
    if kernel_kind == ENTERPRISE_GATEWAY:
        # jupyter_server sends every KERNEL_ variable of its environment with a kernel's
        # start; Enterprise Gateway checks this one against its unauthorized users.
        monkeypatch.setenv("KERNEL_USERNAME", KERNEL_USERNAME)
    gateway: GatewayProcess = request.getfixturevalue("gateway_process")
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
        merged = config.setdefault(section, {})
        for key, value in values.items():
            # A mapping such as jpserver_extensions adds to the base's instead of replacing it.
            if isinstance(value, dict) and isinstance(merged.get(key), dict):
                merged[key] = {**merged[key], **value}
            else:
                merged[key] = value
    return config


@pytest.fixture
def notebook_factory(jp_root_dir: Path) -> Callable[[str, list[str]], str]:
    """Write a notebook whose code cells have the given sources; returns its path."""

    def create(name: str, sources: list[str]) -> str:
        return write_notebook(jp_root_dir, name, sources)

    return create


@pytest.fixture
def document_id_for(jp_fetch: Any) -> DocumentIdFor:
    """The room id and the collaboration session id of a notebook path, as the user that
    the headers name (by default, the server's token) opens it."""

    async def get(path: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
        response = await jp_fetch(
            "api",
            "collaboration",
            "session",
            path,
            method="PUT",
            headers=headers,
            body=json.dumps({"format": "json", "type": "notebook"}),
        )
        data = json.loads(response.body)
        return f"json:notebook:{data['fileId']}", data["sessionId"]

    return get


@pytest.fixture
def join_room(jp_http_port: int, jp_base_url: str, jp_serverapp: Any) -> JoinRoom:
    """Join a room with a pycrdt client: `async with join_room(room_id, session_id) as client`."""

    def join(room_id: str, session_id: str) -> AbstractAsyncContextManager[RoomClient]:
        token = jp_serverapp.identity_provider.token
        url = (
            f"http://127.0.0.1:{jp_http_port}"
            + url_path_join(jp_base_url, "api/collaboration/room", room_id)
            + f"?sessionId={session_id}&token={token}"
        )
        return joined_room(url, room_id)

    return join


@pytest.fixture
def connect_kernel(jp_http_port: int, jp_base_url: str, jp_serverapp: Any) -> ConnectKernel:
    """A raw kernel websocket, as a second browser: `async with connect_kernel(kernel_id)`."""

    def connect(kernel_id: str) -> AbstractAsyncContextManager[KernelWebsocket]:
        token = jp_serverapp.identity_provider.token
        url = (
            f"ws://127.0.0.1:{jp_http_port}"
            + url_path_join(jp_base_url, "api/kernels", kernel_id, "channels")
            + f"?session_id={uuid.uuid4().hex}&token={token}"
        )
        return kernel_websocket(url)

    return connect


@pytest.fixture
def start_kernel(jp_fetch: Any) -> StartKernel:
    async def start() -> str:
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({}))
        return str(json.loads(response.body)["id"])

    return start


@pytest.fixture
def post_json(jp_fetch: Any) -> PostJson:
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


def execute_body(
    document_id: str, kernel_id: str, cells: Sequence[str | dict[str, Any]], **options: Any
) -> dict[str, Any]:
    """The body of an execute request; a cell given as a string is named by its id."""
    specs = [{"cell_id": cell} if isinstance(cell, str) else cell for cell in cells]
    return {"document_id": document_id, "kernel_id": kernel_id, "cells": specs, **options}


@pytest.fixture
def execute(post_json: PostJson) -> Execute:
    """Queue cells; returns the request ids in order."""

    async def run(document_id: str, kernel_id: str, *cells: str | dict[str, Any]) -> list[str]:
        body = execute_body(document_id, kernel_id, cells)
        code, answer = await post_json("api", "collab-exec", "execute", body=body)
        assert code == 202, answer
        return [request["request_id"] for request in answer["requests"]]

    return run


async def answer(
    post_json: PostJson, document_id: str, input_id: str, value: str
) -> tuple[int, dict[str, Any]]:
    """Answer a pending input over REST; returns the status code and the decoded answer."""
    body = {"document_id": document_id, "input_id": input_id, "value": value}
    code, reply = await post_json("api", "collab-exec", "input", body=body)
    return int(code), reply


def statuses(client: RoomClient, *request_ids: str) -> list[str | None]:
    requests = client.requests()
    return [requests.get(request_id, {}).get("status") for request_id in request_ids]


def all_final(client: RoomClient, request_ids: Sequence[str]) -> Callable[[], bool]:
    """A predicate: each of the requests has a final status."""
    return lambda: all(client.request_status(request_id) in FINAL for request_id in request_ids)


def all_cells_idle(client: RoomClient) -> bool:
    return all(
        client.notebook.ycells[index].get("execution_state") != "running"
        for index in range(client.notebook.cell_number)
    )


def started(client: RoomClient, cell_id: str) -> bool:
    """Whether a cell's first output begins with `started`, as the slow cells print it."""
    outputs = client.cell(cell_id)["outputs"]
    return bool(outputs) and outputs[0].get("text", "").startswith("started")


@dataclass
class OpenNotebook:
    """A notebook with its room open, a kernel, and a client joined to the room."""

    path: str
    document_id: str
    session_id: str
    kernel_id: str
    client: RoomClient
    _execute: Execute
    _post_json: PostJson
    _document_id_for: DocumentIdFor
    _join_room: JoinRoom

    async def run(self, *cells: str | dict[str, Any]) -> list[str]:
        """Queue cells on the notebook's kernel; returns the request ids in order."""
        return await self._execute(self.document_id, self.kernel_id, *cells)

    async def post_execute(
        self, *cells: str | dict[str, Any], **options: Any
    ) -> tuple[int, dict[str, Any]]:
        """POST an execute request for cells; returns the status code and the answer."""
        body = execute_body(self.document_id, self.kernel_id, cells, **options)
        return await self._post_json("api", "collab-exec", "execute", body=body)

    async def answer(self, input_id: str, value: str) -> tuple[int, dict[str, Any]]:
        return await answer(self._post_json, self.document_id, input_id, value)

    async def wait_statuses(
        self,
        request_ids: Sequence[str],
        expected: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        what: str = "",
    ) -> None:
        """Wait until the client sees the requests with exactly the expected statuses."""
        try:
            await self.client.wait_until(
                lambda: statuses(self.client, *request_ids) == list(expected),
                timeout=timeout,
                what=what or f"{len(request_ids)} requests to be {list(expected)}",
            )
        except AssertionError as error:
            found = statuses(self.client, *request_ids)
            raise AssertionError(f"{error}; they are {found}") from None

    async def wait_idle(self, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        await self.client.wait_until(
            lambda: all_cells_idle(self.client), timeout=timeout, what="every cell idle"
        )

    @asynccontextmanager
    async def join(self) -> AsyncIterator[RoomClient]:
        """One more client, joined as a browser that opens the notebook joins."""
        document_id, session_id = await self._document_id_for(self.path)
        async with self._join_room(document_id, session_id) as client:
            yield client


OpenNotebookFactory = Callable[[str, list[str]], AbstractAsyncContextManager[OpenNotebook]]


@pytest.fixture
def open_notebook(
    notebook_factory: Callable[[str, list[str]], str],
    document_id_for: DocumentIdFor,
    join_room: JoinRoom,
    start_kernel: StartKernel,
    execute: Execute,
    post_json: PostJson,
) -> OpenNotebookFactory:
    """`async with open_notebook(name, sources) as notebook`: the notebook written, its room
    open, a kernel started (local or gateway, as the test is parametrized) and a client
    joined."""

    @asynccontextmanager
    async def open_(name: str, sources: list[str]) -> AsyncIterator[OpenNotebook]:
        path = notebook_factory(name, sources)
        document_id, session_id = await document_id_for(path)
        kernel_id = await start_kernel()
        async with join_room(document_id, session_id) as client:
            yield OpenNotebook(
                path,
                document_id,
                session_id,
                kernel_id,
                client,
                execute,
                post_json,
                document_id_for,
                join_room,
            )

    return open_
