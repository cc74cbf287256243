"""The reference of W9: what a browser running a cell in stock JupyterLab does with
jupyter-collaboration alone. It sends the execute request on the kernel's websocket (through
the server, as a browser's kernel connection does), answers the `input()` itself, and writes
each IOPub message into the room as JupyterLab's output area does: the execution count, a
stream's text extended in place (a new output after another stream, `\\r` rewriting the
last line), each display as an output. One transaction per message, as a browser applies
them.

    python -m bench.load.stock_writer --url ... --token T --kernel K --room R --session S

It says `done <seconds>` once the kernel is idle again after the cell, and stays in the room
(its last updates may still be on their way) until a line on its standard input.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from httpx_ws import aconnect_ws
from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Provider, Text
from pycrdt.websocket.websocket import HttpxWebsocket

from bench.load.processes import room_address, room_parser
from jupyterlab_collab_exec.tests.kernel_websocket import decode_frame

ANSWER = "stock"


def visible_text(text: str) -> str:
    """Text as a terminal shows it, as JupyterLab's output area keeps a stream: each `\\r`
    rewrites the start of its line."""
    lines = text.split("\n")
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line else line for line in lines)


def message(
    msg_type: str, channel: str, session: str, content: dict[str, Any], msg_id: str = ""
) -> str:
    header = {
        "msg_id": msg_id or uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": session,
        "username": "stock",
        "date": datetime.now(timezone.utc).isoformat(),
        "version": "5.3",
    }
    return json.dumps(
        {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": channel,
            "buffers": [],
        }
    )


class OutputWriter:
    """Writes one cell's outputs into the doc, one transaction per IOPub message."""

    def __init__(self, notebook: YNotebook, index: int) -> None:
        self.notebook = notebook
        self.cell: Map[Any] = notebook.ycells[index]

    @property
    def outputs(self) -> Array[Any]:
        outputs = self.cell["outputs"]
        assert isinstance(outputs, Array)
        return outputs

    def apply(self, msg_type: str, content: dict[str, Any]) -> None:
        with self.notebook.ydoc.transaction():
            if msg_type == "execute_input":
                self.outputs.clear()
                self.cell["execution_count"] = content.get("execution_count")
            elif msg_type == "stream":
                self._stream(content["name"], content["text"])
            elif msg_type in ("display_data", "execute_result", "error"):
                output = {"output_type": msg_type, **content}
                output.pop("transient", None)
                self.outputs.append(Map(output))

    def _stream(self, name: str, text: str) -> None:
        outputs = self.outputs
        last = outputs[len(outputs) - 1] if len(outputs) else None
        if (
            isinstance(last, Map)
            and last.get("output_type") == "stream"
            and last.get("name") == name
        ):
            shared = last["text"]
            assert isinstance(shared, Text)
            before = str(shared)
            after = visible_text(before + text)
            # Keep what did not change, as JupyterLab removes and appends stream text.
            common = 0
            while common < min(len(before), len(after)) and before[common] == after[common]:
                common += 1
            if common < len(before):
                del shared[common:]
            shared += after[common:]
            return
        outputs.append(
            Map({"output_type": "stream", "name": name, "text": Text(visible_text(text))})
        )


class WriterState:
    stopping = False


async def run(arguments: argparse.Namespace, state: WriterState) -> None:
    room_url, headers = room_address(arguments)
    kernel_url = (
        f"{arguments.url.replace('http', 'ws', 1)}/api/kernels/{arguments.kernel}/channels"
        f"?session_id={uuid.uuid4().hex}"
    )
    notebook = YNotebook()
    async with (
        aconnect_ws(room_url, headers=headers) as room,  # type: ignore[var-annotated]
        Provider(notebook.ydoc, HttpxWebsocket(room, arguments.room)) as provider,
        aconnect_ws(kernel_url, headers=headers) as kernel,  # type: ignore[var-annotated]
    ):
        await asyncio.wait_for(provider.synced.wait(), 120)
        writer = OutputWriter(notebook, 0)
        session = uuid.uuid4().hex
        source = str(writer.cell["source"])
        started = time.perf_counter()
        request = uuid.uuid4().hex
        await kernel.send_text(
            message(
                "execute_request",
                "shell",
                session,
                {"code": source, "silent": False, "allow_stdin": True, "stop_on_error": True},
                request,
            )
        )
        busy = False
        while True:
            frame = await kernel.receive()
            data = getattr(frame, "data", None)
            if not isinstance(data, str | bytes | bytearray):
                continue
            received = decode_frame(data if isinstance(data, str) else bytes(data))
            msg_type = received.get("msg_type") or received["header"]["msg_type"]
            content = received.get("content", {})
            if received.get("parent_header", {}).get("msg_id") != request:
                continue
            if received.get("channel") == "stdin" and msg_type == "input_request":
                await kernel.send_text(message("input_reply", "stdin", session, {"value": ANSWER}))
            elif received.get("channel") == "iopub":
                if msg_type == "status":
                    busy = busy or content.get("execution_state") == "busy"
                    if busy and content.get("execution_state") == "idle":
                        break
                else:
                    writer.apply(msg_type, content)
        print(f"done {time.perf_counter() - started:.3f}", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        state.stopping = True


def main() -> None:
    parser = room_parser(__doc__.splitlines()[0])
    parser.add_argument("--kernel", required=True)
    state = WriterState()
    try:
        asyncio.run(run(parser.parse_args(), state))
    except Exception:
        # Once told to stop, the provider's last send may meet the closing websocket.
        if not state.stopping:
            raise


if __name__ == "__main__":
    main()
