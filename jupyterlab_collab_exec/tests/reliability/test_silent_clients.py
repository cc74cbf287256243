"""A browser that goes silent without closing its websocket (a closed laptop lid, a lost
network) is let go: the server pings the rooms' websockets, which jupyter_server leaves
without pings, and closes a connection that does not answer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bench.load.churn_processes import ChurnClients, held_peer_ports
from jupyterlab_collab_exec.tests.clients import ServerProcess, write_notebook

PING_INTERVAL = 1.0
# Two pings unanswered close the connection; the rest is slack for a loaded machine.
RELEASE_TIMEOUT = 15.0


def test_the_rooms_websockets_are_pinged_by_default(jp_serverapp: Any) -> None:
    settings = jp_serverapp.web_app.settings
    assert settings["websocket_ping_interval"] == 30.0
    assert settings["websocket_ping_timeout"] == 30.0


async def test_a_frozen_client_is_let_go_and_a_live_one_kept(tmp_path: Path) -> None:
    defaults = ServerProcess(tmp_path).arguments
    server = ServerProcess(
        tmp_path, arguments=[*defaults, f"--CollabExecApp.room_ping_interval={PING_INTERVAL}"]
    )
    await server.start()
    assert server.process is not None
    pid = server.process.pid
    name = write_notebook(tmp_path, "silent.ipynb", ["print('hello')"])
    room, session = await server.session(name)
    frozen = await ChurnClients.start(server, room, session)
    live = await ChurnClients.start(server, room, session)
    try:
        frozen_port = await frozen.join(0)
        live_port = await live.join(1)
        assert {frozen_port, live_port} <= held_peer_ports(pid, server.port)
        frozen.freeze()
        deadline = asyncio.get_running_loop().time() + RELEASE_TIMEOUT
        while frozen_port in held_peer_ports(pid, server.port):
            assert asyncio.get_running_loop().time() < deadline, "the frozen client is kept"
            await asyncio.sleep(0.2)
        # The live client answered every ping meanwhile, and still follows the room.
        assert live_port in held_peer_ports(pid, server.port)
        assert len(await live.digests()) == 1
    finally:
        await frozen.kill()
        await live.stop()
        await server.stop_gracefully()
