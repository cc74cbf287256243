"""jupyter-server-documents (0.3.x), driven over its own API as its JupyterLab frontend does.

How it runs cells. The extension replaces jupyter-collaboration's server side: its own
YRoomManager serves rooms at `api/collaboration/room/json:notebook:<file id>` (the file id
comes from its `POST api/fileid/index?path=`), and its session manager attaches a kernel
client to the notebook's room when a session is created for the notebook
(`POST api/sessions`). Its frontend then posts each cell to
`POST api/kernels/<kernel id>/execute` with `{"document_id": <room id>, "cells":
[{"cell_id", "source_hash"}]}`, where `source_hash` is MurmurHash2 (seed 0) of the cell's
UTF-8 source as a decimal string (409 when it differs from the doc). The endpoint takes a
batch, so a run-all is one request. The room executes the queue one cell at a time and
writes into the doc: outputs, `execution_state`, and `execution_count` last, after the
kernel went idle; that last write is what "finished" means here.

Where it stores outputs. In the Y.Doc. Its optional outputs service (off by default, and
left off here as users get it) would keep outputs on disk behind placeholders, but server
execution forces it off (`YNotebookRoom._connect_client` sets
`output_processor.use_outputs_service = False`), so executed outputs always land in the
doc. They land raw: every IOPub message becomes one more output (stream chunks are not
merged, `\\r` is not processed), and `update_display_data` is appended as a new
`display_data` instead of replacing the shown one.

What counts as correct. JupyterLab builds a cell's outputs from the doc with
OutputAreaModel.add, which merges consecutive streams of one name and processes `\\r` and
`\\b`; that is what a user of this peer sees. So the doc's outputs are resolved that way
(with the reducer the limit uses for its check) and compared with `workload.expected`.
`extra` tells how many outputs the doc holds and whether the doc matches without that
resolution.

Inputs (W5). Its execution sends `execute_request` with `allow_stdin=False`, so input()
raises StdinNotImplementedError in the kernel; no server-side path answers stdin (the kernel
websocket only bridges a browser's own kernel client). W5 is run once to show that, and
recorded as not supported.

The clock. The kernel is warmed up, untimed, with one `pass` sent over the kernel's own
websocket (`api/kernels/<id>/channels`, as a browser's kernel connection does), so the
doc is untouched before the timed run. The clock runs from the execute request until the
observer holds every cell finished; W6 times a second client joining a room that one
client already holds, with no kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from httpx_ws import aconnect_ws

from bench.systems.base import Workload, WorkloadResult, ensure_venv, peak_rss
from bench.systems.observer import Observer, measure_reconnect, observe
from bench.workloads import outputs_match
from jupyterlab_collab_exec.outputs.reducer import OutputReducer
from jupyterlab_collab_exec.tests.clients import ServerProcess

NOTEBOOK = "bench.ipynb"
DEADLINE = 600.0
WARM_UP_TIMEOUT = 60.0
VENV = "documents"
REQUIREMENTS = [
    "jupyter-server-documents>=0.3.3,<0.4",
    # Its own bounds: jupyter-collaboration 5 must not come in beside it.
    "jupyter-server-fileid>=0.9,<0.10",
    "jupyter-docprovider>=2.4,<4",
    "jupyter-collaboration-ui>=2.4,<4",
    "jupyter-ydoc>=3,<5",
    "jupyter-server>=2.13,<3",
    # The same kernel as the limit's.
    "ipykernel>=7.4,<8",
]
KERNEL_WS_PROTOCOL = "v1.kernel.websocket.jupyter.org"
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes, seed: int = 0) -> int:
    """32-bit MurmurHash2 (Austin Appleby's reference algorithm)."""
    h = (seed ^ len(data)) & _MASK
    body = len(data) - len(data) % 4
    for (k,) in struct.iter_unpack("<I", data[:body]):
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    if body < len(data):
        h ^= int.from_bytes(data[body:], "little")
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


def source_hash(source: str) -> str:
    return str(murmur2(source.encode("utf-8")))


def resolved(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A cell's outputs as JupyterLab's OutputAreaModel holds them after adding them in order."""
    reducer = OutputReducer()
    for output in outputs:
        if output.get("output_type") == "stream":
            text = output.get("text", "")
            reducer.add_stream(
                str(output.get("name")), text if isinstance(text, str) else "".join(text)
            )
        else:
            reducer.add_output(dict(output))
    return reducer.to_json()


def _ws_v1(channel: str, parts: list[bytes]) -> bytes:
    """A message in the v1 kernel websocket protocol: offsets, channel, then the parts."""
    offsets = [8 * (len(parts) + 3)]
    for chunk in [channel.encode(), *parts]:
        offsets.append(offsets[-1] + len(chunk))
    head = b"".join(n.to_bytes(8, "little") for n in [len(offsets), *offsets])
    return head + channel.encode() + b"".join(parts)


def _from_ws_v1(message: bytes) -> tuple[str, list[bytes]]:
    count = int.from_bytes(message[:8], "little")
    offsets = [int.from_bytes(message[8 * (i + 1) : 8 * (i + 2)], "little") for i in range(count)]
    channel = message[offsets[0] : offsets[1]].decode()
    return channel, [message[offsets[i] : offsets[i + 1]] for i in range(1, count - 1)]


class DocumentsSystem:
    name = "jupyter-server-documents"

    def available(self) -> str | None:
        return None

    def applies_to(self, workload: Workload) -> bool:
        # It leaves comm messages to the browsers: there is no widget state to measure.
        return workload.widget_values is None

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        result = WorkloadResult(system=self.name, workload=workload.key)
        try:
            python = await ensure_venv(VENV, REQUIREMENTS)
        except Exception as error:
            result.error = f"could not install: {error}"
            return result
        workload.write(work_dir / NOTEBOOK)
        server = ServerProcess(
            work_dir,
            python=python,
            arguments=[
                f"--BaseFileIdManager.db_path={work_dir / '.fileid.db'}",
                f"--BaseFileIdManager.root_dir={work_dir}",
            ],
            ready_path="api/status",
        )
        try:
            await server.start()
            indexed = await server.request("POST", f"api/fileid/index?path={NOTEBOOK}")
            room_id = f"json:notebook:{indexed['id']}"
            url = f"{server.url}/api/collaboration/room/{room_id}?token={server.token}"
            if workload.prefilled_outputs is not None:
                await measure_reconnect(workload, url, room_id, result, DEADLINE)
                if not result.correct:
                    result.error = "the synced outputs differ from the saved ones"
            else:
                await self._execute(server, workload, url, room_id, result)
            assert server.process is not None
            result.peak_rss_bytes = peak_rss(server.process.pid)
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
        finally:
            if server.process is not None and server.process.returncode is None:
                with contextlib.suppress(Exception):
                    await server.stop_gracefully()
        return result

    async def _execute(
        self,
        server: ServerProcess,
        workload: Workload,
        url: str,
        room_id: str,
        result: WorkloadResult,
    ) -> None:
        async with observe(url, room_id) as observer:
            # Opening the notebook in JupyterLab creates a session; that attaches the kernel.
            session = await server.request(
                "POST",
                "api/sessions",
                {
                    "path": NOTEBOOK,
                    "name": NOTEBOOK,
                    "type": "notebook",
                    "kernel": {"name": "python3"},
                },
            )
            kernel_id = session["kernel"]["id"]
            await asyncio.wait_for(self._warm_up(server, kernel_id), WARM_UP_TIMEOUT)
            updates, received = observer.updates, observer.bytes_received
            started = time.perf_counter()
            cells = [
                {"cell_id": f"cell-{index}", "source_hash": source_hash(source)}
                for index, source in enumerate(workload.cells)
            ]
            await server.request(
                "POST", f"api/kernels/{kernel_id}/execute", {"document_id": room_id, "cells": cells}
            )
            await observer.client.wait_until(
                lambda: _all_finished(observer), DEADLINE, what="every cell to finish"
            )
            seconds = time.perf_counter() - started
            result.observer_updates = observer.updates - updates
            result.observer_bytes = observer.bytes_received - received
            result.doc_bytes = observer.doc_bytes()
            stored = observer.outputs()
            shown = [resolved(outputs) for outputs in stored]
            result.extra["doc_outputs"] = sum(len(outputs) for outputs in stored)
            if workload.expected is None:
                result.error = _stdin_not_supported(shown)
                return
            result.seconds = seconds
            result.extra["doc_outputs_match"] = outputs_match(stored, workload.expected)
            result.correct = outputs_match(shown, workload.expected)
            if not result.correct:
                result.error = _difference(stored, shown, workload.expected)

    @staticmethod
    async def _warm_up(server: ServerProcess, kernel_id: str) -> None:
        """Execute `pass` over the kernel websocket and wait for the kernel to go idle."""
        session = uuid.uuid4().hex
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "bench",
            "session": session,
            "date": datetime.now(timezone.utc).isoformat(),
            "version": "5.3",
        }
        content = {
            "code": "pass",
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        parts = [json.dumps(part).encode() for part in (header, {}, {}, content)]
        url = f"{server.url}/api/kernels/{kernel_id}/channels?session_id={session}"
        url += f"&token={server.token}"
        async with aconnect_ws(url, subprotocols=[KERNEL_WS_PROTOCOL]) as websocket:  # type: ignore[var-annotated]
            await websocket.send_bytes(_ws_v1("shell", parts))
            while True:
                channel, received = _from_ws_v1(await websocket.receive_bytes())
                if channel != "iopub" or len(received) < 4:
                    continue
                reply_header, parent = json.loads(received[0]), json.loads(received[1])
                if (
                    parent.get("msg_id") == msg_id
                    and reply_header.get("msg_type") == "status"
                    and json.loads(received[3]).get("execution_state") == "idle"
                ):
                    return


def _all_finished(observer: Observer) -> bool:
    """Every cell has the execution_count that the room writes last, after the kernel's idle."""
    cells = observer.client.notebook.ycells
    return len(cells) > 0 and all(cell.get("execution_count") is not None for cell in cells)


def _stdin_not_supported(shown: list[list[dict[str, Any]]]) -> str:
    errors = [o for outputs in shown for o in outputs if o.get("output_type") == "error"]
    seen = f"{errors[0].get('ename')}: {errors[0].get('evalue')}" if errors else "no error output"
    return (
        "not supported: its server-side execution sends allow_stdin=False, so input() "
        f"fails in the kernel ({seen}); nothing on the server answers stdin"
    )


def _difference(
    stored: list[list[dict[str, Any]]],
    shown: list[list[dict[str, Any]]],
    expected: list[list[dict[str, Any]]],
) -> str:
    for index, (outputs, want) in enumerate(zip(shown, expected, strict=False)):
        if not outputs_match([outputs], [want]):
            kinds = sorted({str(o.get("output_type")) for o in stored[index]})
            described = (
                f"cell {index}: {len(outputs)} output(s) shown ({len(stored[index])} stored, "
                f"{', '.join(kinds) or 'none'}), expected {len(want)}"
            )
            displays = sum(o.get("output_type") == "display_data" for o in outputs)
            if displays > sum(o.get("output_type") == "display_data" for o in want):
                described += "; update_display_data was appended instead of replacing"
            return described
    return f"{len(shown)} cells shown, expected {len(expected)}"
