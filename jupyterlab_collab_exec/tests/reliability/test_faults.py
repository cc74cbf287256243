"""Faults that real deployments see: every tab killed at a random point, connections that
flap, and a server restarted mid-run. Nothing is lost, nothing is doubled, nothing sticks.

Each trial checks the same invariants once the work is over:
- the doc (as a client that joins afterwards sees it) and the .ipynb on disk hold exactly
  the reference outputs and execution counts;
- every request has a final status, every cell is idle, no input is pending;
- an input got exactly one answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_server.utils import url_path_join

from ..clients import RoomClient, ServerProcess, joined_room, wait_for, write_notebook
from ..conftest import FINAL, all_cells_idle, all_final, answer
from .proxy import LoopbackProxy
from .tally import Tally, count

CLIENTS = 3


@dataclass
class Scenario:
    """A notebook to run, and what its cells must hold once it has run."""

    kind: str
    sources: list[str]
    expected_outputs: list[list[dict[str, Any]]]
    answer: str | None = None
    # Seconds within which the random fault lands.
    window: float = 0.5

    @property
    def cell_ids(self) -> list[str]:
        return [f"cell-{index}" for index in range(len(self.sources))]


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def flood(lines: int) -> Scenario:
    return Scenario(
        "print flood",
        [f"for i in range({lines}):\n    print(i)"],
        [[stream("".join(f"{i}\n" for i in range(lines)))]],
        window=0.6,
    )


def run_all(cells: int) -> Scenario:
    return Scenario(
        "run-all",
        [f"print({index})" for index in range(cells)],
        [[stream(f"{index}\n")] for index in range(cells)],
        window=0.4,
    )


def pending_input(answer: str) -> Scenario:
    return Scenario(
        "pending input",
        ["value = input('Your answer?')\nprint('got', value)"],
        [[stream(f"Your answer? {answer}\n", "stdin"), stream(f"got {answer}\n")]],
        answer=answer,
        window=0.3,
    )


SCENARIOS: dict[str, Callable[[int], Scenario]] = {
    "flood": lambda trial: flood(20_000),
    "run-all": lambda trial: run_all(30),
    "input": lambda trial: pending_input(f"answer-{trial}"),
}


def merged_streams(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outputs as JupyterLab shows them; the doc keeps a stream as one output already."""
    return [
        {key: output[key] for key in ("output_type", "name", "text") if key in output}
        if output.get("output_type") == "stream"
        else output
        for output in outputs
    ]


def saved_notebook(path: Path) -> dict[str, dict[str, Any]]:
    try:
        notebook = nbformat.read(path, as_version=4)
    except (ValueError, OSError):
        return {}
    return {cell["id"]: dict(cell) for cell in notebook.cells}


def assert_settled(client: RoomClient, scenario: Scenario, request_ids: list[str]) -> None:
    """The invariants, on a client's view of the doc."""
    requests = client.requests()
    for request_id in request_ids:
        assert requests.get(request_id, {}).get("status") == "ok", (
            scenario.kind,
            request_id,
            requests.get(request_id),
        )
    assert all(entry.get("status") in FINAL for entry in requests.values()), requests
    assert all(entry.get("status") != "pending" for entry in client.inputs().values())
    assert_outputs(client, scenario)


def assert_outputs(client: RoomClient, scenario: Scenario) -> None:
    """Every cell idle, with exactly the reference outputs, in execution order."""
    assert all_cells_idle(client)
    counts = []
    for cell_id, expected in zip(scenario.cell_ids, scenario.expected_outputs, strict=True):
        cell = client.cell(cell_id)
        assert merged_streams(cell["outputs"]) == expected, (scenario.kind, cell_id)
        counts.append(cell["execution_count"])
    assert counts == sorted(counts), counts
    assert len(set(counts)) == len(counts), counts


def assert_saved(path: Path, scenario: Scenario) -> bool:
    cells = saved_notebook(path)
    if not cells:
        return False
    for cell_id, expected in zip(scenario.cell_ids, scenario.expected_outputs, strict=True):
        cell = cells.get(cell_id, {})
        if cell.get("execution_count") is None or merged_streams(cell["outputs"]) != expected:
            return False
    return True


def at_least_ok(client: RoomClient, request_ids: list[str], wanted: int) -> Callable[[], bool]:
    return lambda: sum(client.request_status(rid) == "ok" for rid in request_ids) >= wanted


def none_active(service: Any, request_ids: list[str]) -> Callable[[], bool]:
    return lambda: not set(request_ids) & set(service.active_request_ids)


def saved_as(path: Path, scenario: Scenario) -> Callable[[], bool]:
    return lambda: assert_saved(path, scenario)


def cell_saved(path: Path, cell_id: str, expected: list[dict[str, Any]]) -> Callable[[], bool]:
    return lambda: (
        merged_streams(saved_notebook(path).get(cell_id, {}).get("outputs", [])) == expected
    )


def input_pending(client: RoomClient) -> Callable[[], bool]:
    return lambda: client.pending_input() is not None


@dataclass
class Crowd:
    """Clients in one room, joined through the proxy, that can all be killed at once."""

    url: str
    room_id: str
    clients: list[RoomClient] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def join(self, how_many: int) -> None:
        for _ in range(how_many):
            joined = asyncio.Event()
            self._tasks.append(asyncio.ensure_future(self._hold(joined)))
            await asyncio.wait_for(joined.wait(), 60)

    async def _hold(self, joined: asyncio.Event) -> None:
        # A cut connection ends the client as a crashed tab ends: with an error, unheard.
        with contextlib.suppress(Exception):
            async with joined_room(self.url, self.room_id) as client:
                self.clients.append(client)
                joined.set()
                await self._stop.wait()

    async def close(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@pytest.fixture
def document_cleanup_delay() -> float:
    # Rooms would be evicted one second after their last client: work must hold them.
    return 1.0


@pytest.fixture
def room_url(jp_base_url: str, jp_serverapp: Any) -> Callable[[int, str, str], str]:
    def url(port: int, room_id: str, session_id: str) -> str:
        token = jp_serverapp.identity_provider.token
        return (
            f"http://127.0.0.1:{port}"
            + url_path_join(jp_base_url, "api/collaboration/room", room_id)
            + f"?sessionId={session_id}&token={token}"
        )

    return url


@asynccontextmanager
async def crowd_in(url: str, room_id: str, how_many: int) -> AsyncIterator[Crowd]:
    crowd = Crowd(url, room_id)
    try:
        await crowd.join(how_many)
        yield crowd
    finally:
        await crowd.close()


@pytest.mark.parametrize("kind", list(SCENARIOS))
async def test_killing_every_client_loses_nothing(
    kind: str,
    tally: Tally,
    jp_root_dir: Path,
    jp_http_port: int,
    jp_serverapp: Any,
    document_id_for: Any,
    join_room: Any,
    room_url: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    """Every tab dies mid-frame at a random point; a tab that comes back sees it all."""
    randomness = random.Random(f"kill-all-{kind}")
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    kernel_id = await start_kernel()
    for trial in range(count(4, 34)):
        with tally.trial("kill-all"):
            scenario = SCENARIOS[kind](trial)
            path = write_notebook(jp_root_dir, f"kill-{kind}-{trial}.ipynb", scenario.sources)
            document_id, session_id = await document_id_for(path)
            async with LoopbackProxy(jp_http_port, seed=trial) as proxy:
                url = room_url(proxy.port, document_id, session_id)
                async with crowd_in(url, document_id, CLIENTS) as crowd:
                    request_ids = await execute(document_id, kernel_id, *scenario.cell_ids)
                    if scenario.answer is not None:
                        watcher = crowd.clients[0]
                        await watcher.wait_until(input_pending(watcher))
                        pending = watcher.pending_input()
                        assert pending is not None
                        input_id = pending
                    # The fault lands at a random point of the run.
                    await asyncio.sleep(randomness.uniform(0, scenario.window))
                    assert proxy.cut_all(mid_frame=True) == CLIENTS
                if scenario.answer is not None:
                    # Nobody is left to answer but REST callers; two of them race.
                    results = await asyncio.gather(
                        *(
                            answer(post_json, document_id, input_id, scenario.answer)
                            for _ in range(2)
                        )
                    )
                    assert sorted(code for code, _ in results) == [200, 409], results
            await wait_for(none_active(service, request_ids), what=f"{scenario.kind} to finish")
            await wait_for(
                saved_as(jp_root_dir / path, scenario),
                what=f"the .ipynb of {scenario.kind} to hold the outputs",
            )
            document_id, session_id = await document_id_for(path)
            async with join_room(document_id, session_id) as late:
                await late.wait_until(all_final(late, request_ids), what="final statuses")
                assert_settled(late, scenario, request_ids)


async def test_flapping_connections_converge(
    tally: Tally,
    jp_root_dir: Path,
    jp_http_port: int,
    jp_serverapp: Any,
    document_id_for: Any,
    join_room: Any,
    room_url: Any,
    start_kernel: Any,
    execute: Any,
) -> None:
    """Clients behind a slow, flaky link reconnect over and over while cells run; each
    reconnect resyncs, and the clients end with exactly the server's state."""
    randomness = random.Random("flaps")
    service = jp_serverapp.web_app.settings["collab_exec_service"]
    rooms = jp_serverapp.extension_manager.extension_points["jupyter_server_ydoc"].app
    kernel_id = await start_kernel()
    reloaded = 0
    for trial in range(count(2, 20)):
        with tally.trial("flaps"):
            scenario = flood(20_000) if trial % 2 else run_all(30)
            path = write_notebook(jp_root_dir, f"flap-{trial}.ipynb", scenario.sources)
            document_id, session_id = await document_id_for(path)
            async with LoopbackProxy(jp_http_port, seed=trial) as proxy:
                proxy.max_delay = 0.02
                url = room_url(proxy.port, document_id, session_id)
                request_ids = await execute(document_id, kernel_id, *scenario.cell_ids)
                room = rooms.ywebsocket_server.rooms.get(document_id)
                flaps = 0
                while set(request_ids) & set(service.active_request_ids) or flaps < 3:
                    async with crowd_in(url, document_id, 2):
                        # The link drops at a random point.
                        await asyncio.sleep(randomness.uniform(0.05, 0.3))
                        proxy.cut_all(mid_frame=randomness.random() < 0.5)
                    flaps += 1
                # The last reconnect, over the same slow link, converges on the final state.
                async with crowd_in(url, document_id, 2) as crowd:
                    if rooms.ywebsocket_server.rooms.get(document_id) is not room:
                        # jupyter_server_ydoc deleted the room between two reconnects, after
                        # the work was done and saved, and loaded it again from the file
                        # without all of the YStore's history: the outputs are all there,
                        # and what `collab_exec` kept is final.
                        reloaded += 1
                        for client in crowd.clients:
                            assert_outputs(client, scenario)
                            assert all(
                                entry.get("status") in FINAL for entry in client.requests().values()
                            )
                        continue
                    for client in crowd.clients:
                        with contextlib.suppress(AssertionError):
                            # On a timeout, the next line says what the client holds.
                            await client.wait_until(
                                at_least_ok(client, request_ids, len(request_ids)),
                                what="the flapped client to converge",
                            )
                        assert_settled(client, scenario, request_ids)
            await wait_for(
                saved_as(jp_root_dir / path, scenario), what="the .ipynb to hold the outputs"
            )
    print(f"flaps: rooms reloaded by jupyter_server_ydoc between reconnects: {reloaded}")


RESTART_CELLS = 12
SLOW_CELL = "import time\ntime.sleep(0.05)\nprint({index})"


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
async def test_server_restarted_mid_run_leaves_nothing_stuck(
    how: signal.Signals, tally: Tally, tmp_path: Path
) -> None:
    """The server stops at a random point of a run-all and starts again: every request is
    final, every cell idle, and each cell that finished shows its output exactly once."""
    randomness = random.Random(f"restart-{how.name}")
    root = tmp_path / "root"
    root.mkdir()
    server = ServerProcess(root)
    for trial in range(count(1, 5)):
        with tally.trial("server-restart"):
            scenario = Scenario(
                "slow run-all",
                [SLOW_CELL.format(index=index) for index in range(RESTART_CELLS)],
                [[stream(f"{index}\n")] for index in range(RESTART_CELLS)],
            )
            path = write_notebook(root, f"restart-{trial}.ipynb", scenario.sources)
            await server.start()
            try:
                room_id, session_id = await server.session(path)
                kernel_id = await server.start_kernel()
                async with server.join(room_id, session_id) as client:
                    request_ids = await server.execute(room_id, kernel_id, scenario.cell_ids)
                    finished_before = randomness.randrange(1, RESTART_CELLS - 2)
                    await client.wait_until(
                        at_least_ok(client, request_ids, finished_before), what="part of the run"
                    )
                    if how == signal.SIGKILL:
                        # A crash, with its clients still connected.
                        await server.stop(how)
                if how == signal.SIGTERM:
                    # A clean stop never ends while a room client is connected
                    # (jupyter-collaboration#161), so the client leaves first.
                    await server.stop(how)
            finally:
                if server.process is not None and server.process.returncode is None:
                    await server.stop(signal.SIGKILL)
            await server.start()
            try:
                room_id, session_id = await server.session(path)
                async with server.join(room_id, session_id) as again:
                    await again.wait_until(
                        all_final(again, request_ids), what="reconciled statuses"
                    )
                    assert all_cells_idle(again)
                    assert not any(
                        entry.get("status") == "pending" for entry in again.inputs().values()
                    )
                    for request_id, cell_id, expected in zip(
                        request_ids, scenario.cell_ids, scenario.expected_outputs, strict=True
                    ):
                        outputs = merged_streams(again.cell(cell_id)["outputs"])
                        status = again.request_status(request_id)
                        if status == "ok":
                            assert outputs == expected, (cell_id, outputs)
                        else:
                            # Cut short, it shows at most what it printed, once.
                            assert outputs in ([], expected), (cell_id, status, outputs)
                    # The kernel's conversation did not survive the server; a new one runs.
                    kernel_id = await server.start_kernel()
                    [rerun] = await server.execute(room_id, kernel_id, ["cell-0"])
                    await again.wait_until(
                        at_least_ok(again, [rerun], 1), what="a run after the restart"
                    )
                    await wait_for(
                        cell_saved(root / path, "cell-0", scenario.expected_outputs[0]),
                        what="the rerun to be saved",
                    )
            finally:
                await server.stop_gracefully()
