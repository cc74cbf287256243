"""Repairing `collab_exec`: while the server has work in a document, what clients write
there is undone. Any client can write anything into a Y.Doc; the server's records win."""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Map

from . import inputs
from .collab_doc import ORIGIN, collab_exec_root, now_ms
from .inputs import InputRegistry
from .kernel_state import KernelStateMirror
from .ledger import RequestLedger
from .reconcile import reconcile


class CollabExecGuard:
    def __init__(
        self, ledger: RequestLedger, registry: InputRegistry, kernel_state: KernelStateMirror
    ) -> None:
        self._ledger = ledger
        self._inputs = registry
        self._kernel_state = kernel_state
        self._watches: dict[str, tuple[YNotebook, Map[Any], Any]] = {}
        self._repairs_due: set[str] = set()

    def watch(self, document_id: str, notebook: YNotebook) -> None:
        """Repair the document from now on, while it has work; and once now, for what
        clients wrote while nobody watched."""
        watched = self._watches.get(document_id)
        if watched is not None and watched[0] is notebook:
            return
        self._unwatch(document_id)
        root = collab_exec_root(notebook.ydoc)
        subscription = root.observe_deep(lambda events: self._on_change(document_id, events))
        self._watches[document_id] = (notebook, root, subscription)
        self._schedule_repair(document_id)

    def _unwatch(self, document_id: str) -> None:
        watched = self._watches.pop(document_id, None)
        if watched is not None:
            watched[1].unobserve(watched[2])

    def _on_change(self, document_id: str, events: list[Any]) -> None:
        if events and events[0].transaction.origin == ORIGIN:
            return
        self._schedule_repair(document_id)

    def _schedule_repair(self, document_id: str) -> None:
        # The doc cannot change inside its own observer: repair right after.
        if document_id not in self._repairs_due:
            self._repairs_due.add(document_id)
            asyncio.get_running_loop().call_soon(self._repair, document_id)

    def _repair(self, document_id: str) -> None:
        self._repairs_due.discard(document_id)
        watched = self._watches.get(document_id)
        if watched is None:
            return
        if not self._ledger.active(document_id=document_id):
            # With no work of the server there, the document is the clients' to change.
            self._unwatch(document_id)
            return
        notebook = watched[0]
        ydoc = notebook.ydoc
        with ydoc.transaction(origin=ORIGIN):
            reconcile(
                ydoc,
                active_request_ids=self._ledger.active_ids,
                pending_input_ids=self._inputs.pending_ids(),
                now=now_ms(),
            )
            self._ledger.restore(notebook, document_id)
            for pending in self._inputs.of_document(document_id):
                inputs.restore_input(ydoc, pending)
            self._kernel_state.repair(document_id)

    def close(self) -> None:
        for document_id in list(self._watches):
            self._unwatch(document_id)
