"""A process of load clients: each joins a notebook's room as a browser does, with the
real sync protocol (pycrdt's provider over a websocket), applies every update, never
writes into the doc, and keeps its awareness alive.

    python -m bench.load.client --url http://127.0.0.1:8888 --token T --room R --session S \
        --clients 25

With `--kernel K`, each client also holds a websocket to the kernel's channels, as a
browser's notebook does, and reads every message jupyter_server forwards on it.

It says `ready` on its standard output once every client holds the cells. Then, for each
line of its standard input: `digest` prints the digest of each client's notebook as one
JSON line; `stop` prints one JSON line (the lag of every clock line each client received,
how many transactions it applied, and its digest) and leaves.

The clock is a cell printing `t=<time.time()>` lines: a client's lag for a line is the time
it received the line less the time the kernel printed it, both clocks of this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import sys
import time
import uuid
from contextlib import AsyncExitStack
from typing import Any

from httpx_ws import aconnect_ws
from jupyter_ydoc import YNotebook
from pycrdt import Awareness, Map, Provider, create_awareness_message
from pycrdt.websocket.websocket import HttpxWebsocket

from bench.load.processes import room_address, room_parser
from jupyterlab_collab_exec.tests.clients import ListeningChannel

CLOCK_LINE = re.compile(r"t=(\d+\.\d+)")
# A browser renews its awareness every 15 s (y-protocols), and is dropped after 30 s.
AWARENESS_RENEWAL = 15.0
KERNEL_PROTOCOL = "v1.kernel.websocket.jupyter.org"


class LoadClient:
    def __init__(self, number: int) -> None:
        self.number = number
        self.notebook = YNotebook()
        self.awareness = Awareness(self.notebook.ydoc)
        self.awareness.set_local_state({"user": {"name": f"load-{number}"}})
        # Milliseconds from the kernel's print to this client holding the line.
        self.lags_ms: list[float] = []
        self.transactions = 0
        # Messages received on the kernel's websocket, when the client holds one.
        self.kernel_messages = 0
        self._subscriptions: list[Any] = []

    def follow_clock(self) -> None:
        """Read every clock line as it arrives: the text inserted into any output."""
        self._subscriptions.append(self.notebook.ycells.observe_deep(self._on_cells))

    def _on_cells(self, events: list[Any]) -> None:
        received = time.time()
        self.transactions += 1
        for event in events:
            for change in getattr(event, "delta", None) or []:
                inserted = change.get("insert") if isinstance(change, dict) else None
                # Text added to a stream, or new outputs (a stream after another stream
                # starts a new output, as in JupyterLab).
                texts = (
                    [inserted]
                    if isinstance(inserted, str)
                    else [str(item.get("text", "")) for item in inserted if isinstance(item, Map)]
                    if isinstance(inserted, list)
                    else []
                )
                for text in texts:
                    for printed in CLOCK_LINE.findall(text):
                        self.lags_ms.append((received - float(printed)) * 1000)

    def digest(self) -> str:
        return notebook_digest(self.notebook)


def notebook_digest(notebook: YNotebook) -> str:
    """What a client holds of a notebook, as one digest: equal for equal notebooks."""
    content = json.dumps(notebook.get(), sort_keys=True, default=str)
    return hashlib.sha256(content.encode()).hexdigest()


async def keep_awareness(client: LoadClient, channel: HttpxWebsocket) -> None:
    while True:
        update = client.awareness.encode_awareness_update([client.awareness.client_id])
        await channel.send(create_awareness_message(update))
        await asyncio.sleep(AWARENESS_RENEWAL)


async def read_kernel(client: LoadClient, websocket: Any) -> None:
    """Take every message of the kernel's websocket; a browser would parse it, but its CPU
    is not the server's."""
    while True:
        await websocket.receive()
        client.kernel_messages += 1


async def run(arguments: argparse.Namespace) -> dict[str, Any]:
    url, headers = room_address(arguments)
    clients = [LoadClient(arguments.first + n) for n in range(arguments.clients)]
    async with AsyncExitStack() as stack:
        tasks = []
        for client in clients:
            websocket = await stack.enter_async_context(aconnect_ws(url, headers=headers))  # type: ignore[var-annotated]
            channel = ListeningChannel(websocket, arguments.room)
            provider = await stack.enter_async_context(Provider(client.notebook.ydoc, channel))
            await asyncio.wait_for(provider.synced.wait(), 120)
            client.follow_clock()
            tasks.append(asyncio.create_task(keep_awareness(client, channel)))
            if arguments.kernel:
                kernel_url = (
                    f"{arguments.url}/api/kernels/{arguments.kernel}/channels"
                    f"?session_id={uuid.uuid4().hex}"
                )
                kernel_websocket = await stack.enter_async_context(
                    # The protocol JupyterLab 4 asks for: jupyter_server forwards the frames.
                    aconnect_ws(  # type: ignore[var-annotated]
                        kernel_url, headers=headers, subprotocols=[KERNEL_PROTOCOL]
                    )
                )
                tasks.append(asyncio.create_task(read_kernel(client, kernel_websocket)))
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        while True:
            # A closed pipe stops too.
            command = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
            if command != "digest":
                break
            print(json.dumps([client.digest() for client in clients]), flush=True)
        for task in tasks:
            task.cancel()
        return {
            "clients": [
                {
                    "number": client.number,
                    "lags_ms": client.lags_ms,
                    "transactions": client.transactions,
                    "kernel_messages": client.kernel_messages,
                    "digest": client.digest(),
                }
                for client in clients
            ]
        }


def main() -> None:
    parser = room_parser(__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="the number of the first client")
    parser.add_argument("--kernel", default="", help="also hold a websocket to this kernel")
    result = asyncio.run(run(parser.parse_args()))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
