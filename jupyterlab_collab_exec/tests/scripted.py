"""A scripted kernel for the execution core: a runner, its ledger and its widget mirror
over a bare notebook Y.Doc, driven by events that a test plays in the kernel's part."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Map

from jupyterlab_collab_exec.common.tasks import BackgroundTasks
from jupyterlab_collab_exec.doc import schema
from jupyterlab_collab_exec.doc.cells import CellSpec, resolve_cells
from jupyterlab_collab_exec.doc.collab_map import Person, requests_map
from jupyterlab_collab_exec.execution.guard import RootMapGuard, pending_input_typing
from jupyterlab_collab_exec.execution.ledger import Request, RequestLedger
from jupyterlab_collab_exec.execution.runner import KernelRunner, RunnerParts
from jupyterlab_collab_exec.inputs.records import InputRegistry
from jupyterlab_collab_exec.kernel.events import KernelStatus, Replied
from jupyterlab_collab_exec.kernel.state import KernelStateMirror
from jupyterlab_collab_exec.outputs.desk import OutputDesk, OutputSettings
from jupyterlab_collab_exec.trust.records import TrustRecords
from jupyterlab_collab_exec.widgets.blobs import WidgetBlobStore
from jupyterlab_collab_exec.widgets.kernel_mirror import WidgetSettings
from jupyterlab_collab_exec.widgets.mirror import WidgetMirror

KERNEL = "kernel-1"
DOCUMENT = "json:notebook:file-1"
ALICE = Person("alice", "Alice")
UNTRACKED = ("kernel_info_request", "debug_request", "comm_info_request")


class BareRooms:
    """One live notebook, and a count of the leases given back."""

    def __init__(self, notebook: YNotebook) -> None:
        self.notebook = notebook
        self.released = 0

    def live_notebook(self, document_id: str) -> YNotebook | None:
        return self.notebook if document_id == DOCUMENT else None

    async def release(self, document_id: str, count: int = 1, *, save: bool = True) -> None:
        self.released += count


class ScriptedConversation:
    """Records the commands a runner gives; the test plays the kernel's part."""

    def __init__(self) -> None:
        self.alive = True
        self.sent: list[str] = []
        self.replies: list[str] = []
        self.probes: list[str] = []
        self.muted: set[str] = set()
        self.fail_next_send: Exception | None = None
        self.comms: list[tuple[str, dict[str, Any]]] = []

    def execute(self, code: str) -> str:
        if self.fail_next_send is not None:
            error, self.fail_next_send = self.fail_next_send, None
            raise error
        self.sent.append(code)
        return f"msg-{len(self.sent)}"

    def reply_input(self, value: str, request: dict[str, Any]) -> None:
        self.replies.append(value)

    def probe(self) -> str:
        self.probes.append(f"probe-{len(self.probes) + 1}")
        return self.probes[-1]

    def mute_streams(self, msg_id: str) -> None:
        self.muted.add(msg_id)

    def forget(self, msg_id: str) -> None:
        self.muted.discard(msg_id)

    def send_comm(self, comm_id: str, data: dict[str, Any]) -> str:
        self.comms.append((comm_id, data))
        return f"comm-{len(self.comms)}"

    async def stop(self) -> None:
        self.alive = False


class ScriptedConnector:
    def __init__(self) -> None:
        self.conversations: list[ScriptedConversation] = []
        self.failures: list[Exception] = []

    def has_kernel(self, kernel_id: str) -> bool:
        return True

    async def connect(self, kernel_id: str, sink: Any) -> ScriptedConversation:
        if self.failures:
            raise self.failures.pop(0)
        self.conversations.append(ScriptedConversation())
        return self.conversations[-1]

    @property
    def conversation(self) -> ScriptedConversation:
        return self.conversations[-1]


class Core:
    """A runner with its ledger over a bare notebook."""

    def __init__(
        self,
        sources: list[str],
        *,
        widget_flush_interval: float = 0.0,
        max_widget_bytes: int | None = None,
        blobs: WidgetBlobStore | None = None,
        blob_threshold: int | None = None,
    ) -> None:
        self.notebook = YNotebook()
        self.notebook.set(
            {
                "cells": [
                    {"cell_type": "code", "id": f"cell-{index}", "source": source}
                    for index, source in enumerate(sources)
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
        self.log = logging.getLogger("test_core")
        self.rooms = BareRooms(self.notebook)
        self.connector = ScriptedConnector()
        self.tasks = BackgroundTasks(self.log)
        self.trust = TrustRecords()
        self.outputs = OutputDesk(
            OutputSettings(flush_interval=0.0, max_output_bytes=2048), self.trust
        )
        self.ledger = RequestLedger(
            self.rooms, InputRegistry(), self.outputs, self.tasks, retained_requests=200
        )
        self.kernel_state = KernelStateMirror(self.rooms, 0.0, UNTRACKED)
        self.widgets = WidgetMirror(
            self.rooms,
            WidgetSettings(
                flush_interval=widget_flush_interval,
                snapshot_interval=3600.0,
                max_widget_bytes=max_widget_bytes,
                max_output_bytes=2048,
                blob_threshold=blob_threshold,
            ),
            self.trust,
            self.log,
            blobs,
        )
        parts = RunnerParts(
            connector=self.connector,  # type: ignore[arg-type]
            ledger=self.ledger,
            outputs=self.outputs,
            inputs=self.ledger._inputs,
            kernel_state=self.kernel_state,
            rooms=self.rooms,
            tasks=self.tasks,
            widgets=self.widgets,
            log=self.log,
            response_timeout=3600.0,
        )
        self.runner = KernelRunner(KERNEL, parts)
        # As the service does for every loaded room: what clients write into the server's
        # maps is put back.
        self.guards = (
            RootMapGuard(schema.ROOT, pending_input_typing),
            RootMapGuard(schema.WIDGETS_ROOT),
        )
        for guard in self.guards:
            guard.watch(DOCUMENT, self.notebook)

    async def submit(self, *cell_ids: str) -> list[Request]:
        resolved = resolve_cells(self.notebook, DOCUMENT, [CellSpec(c) for c in cell_ids])
        requests = self.ledger.accept(
            self.notebook, DOCUMENT, KERNEL, resolved, record_timing=False, submitted_by=ALICE
        )
        self.kernel_state.attach(DOCUMENT, KERNEL)
        self.widgets.attach(DOCUMENT, self.notebook, KERNEL)
        self.runner.enqueue(requests)
        await self.settle()
        return requests

    async def play(self, *events: Any) -> None:
        """The kernel's part: events into the runner's inbox, handled in order."""
        for event in events:
            self.runner.post(event)
        await self.settle()

    async def settle(self) -> None:
        # Every event is handled synchronously once taken from the inbox; connecting
        # takes a few more turns of the loop.
        for _ in range(50):
            await asyncio.sleep(0)

    def status(self, request: Request) -> str | None:
        entry = requests_map(self.notebook.ydoc).get(request.request_id)
        return entry.get("status") if isinstance(entry, Map) else None

    def entry(self, request: Request) -> dict[str, Any]:
        return dict(requests_map(self.notebook.ydoc)[request.request_id].to_py())

    def cell(self, index: int) -> dict[str, Any]:
        return dict(self.notebook.ycells[index].to_py())

    def run_to_end(self, msg_id: str, status: str = "ok", count: int = 1) -> list[Any]:
        return [
            KernelStatus("busy", msg_id, "execute_request", "t1"),
            Replied(msg_id, {"content": {"status": status, "execution_count": count}}),
            KernelStatus("idle", msg_id, "execute_request", "t2"),
        ]
