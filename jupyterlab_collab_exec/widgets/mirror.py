"""The widget mirror: each kernel's ipywidgets models, kept in the docs that run on it.

The runner of a kernel passes it every comm message of the kernel and the output of the
requests that an Output widget captures. Changes are coalesced: the docs get at most one
transaction per kernel per flush interval, however many updates a loop makes; the kernel
gets the captured outputs of its Output widgets between the server's requests. The models live
here, in memory, so they survive the eviction of a room and are written back when the
room loads again.

The notebook metadata `widgets` gets a snapshot when a request ends, when the kernel goes
idle or away, and every `snapshot_interval` while models change; never per update. Large
binary values go into the docs by digest, their bytes into the blob store (blobs.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from jupyter_ydoc import YNotebook

from ..doc.collab_map import ORIGIN
from ..doc.rooms import NotebookRooms
from ..kernel.events import CommMessage
from ..trust.digests import json_digest
from ..trust.records import TrustRecords
from . import doc as widget_doc
from .blobs import BufferForm, WidgetBlobStore
from .capture import OutputCapture
from .kernel_mirror import KernelMirror, WidgetSettings
from .model import WidgetModel
from .models import KernelWidgets
from .sender import CommSender, KernelWidgetSender
from .snapshot import VIEW_MIME, merged_widget_state, needed_models

# How soon after the kernel goes idle the metadata is written, at the earliest: a browser
# that drags a slider makes the kernel idle after every move.
IDLE_SNAPSHOT_SPACING = 1.0


class WidgetMirror:
    def __init__(
        self,
        rooms: NotebookRooms,
        settings: WidgetSettings,
        trust: TrustRecords,
        log: logging.Logger,
        blobs: WidgetBlobStore | None = None,
    ):
        self._rooms = rooms
        self._settings = settings
        # Without a store, every binary value goes into the doc inline.
        self._blobs = blobs
        self._form = BufferForm(settings.blob_threshold if blobs is not None else None)
        self._trust = trust
        self._log = log
        self._kernels: dict[str, KernelMirror] = {}
        self._kernel_of_document: dict[str, str] = {}
        self._capture = OutputCapture(settings.max_output_bytes)

    def _kernel(self, kernel_id: str) -> KernelMirror:
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            mirror = KernelMirror(
                KernelWidgets(self._settings.max_widget_bytes),
                KernelWidgetSender(kernel_id, self._log),
            )
            self._kernels[kernel_id] = mirror
        return mirror

    # Documents

    def attach(self, document_id: str, notebook: YNotebook, kernel_id: str) -> None:
        """A document runs on a kernel now: its models show there."""
        previous = self._kernel_of_document.get(document_id)
        if previous is not None and previous != kernel_id and previous in self._kernels:
            self._kernels[previous].documents.discard(document_id)
        self._kernel_of_document[document_id] = kernel_id
        self._kernel(kernel_id).documents.add(document_id)
        if previous != kernel_id:
            self.restore(document_id, notebook)

    def restore(self, document_id: str, notebook: YNotebook) -> None:
        """The room (re)loaded: write the models back; or, when no kernel here holds
        them, show what the doc has as frozen."""
        kernel_id = self._kernel_of_document.get(document_id)
        with notebook.ydoc.transaction(origin=ORIGIN):
            if kernel_id is None:
                widget_doc.freeze_all(notebook.ydoc)
                return
            mirror = self._kernel(kernel_id)
            for model in mirror.widgets.models.values():
                self._keep_blobs(document_id, model, None)
            gone = widget_doc.write_all(
                notebook.ydoc, kernel_id, mirror.widgets.session, mirror.widgets.models, self._form
            )
            widget_doc.write_notice(notebook.ydoc, self._notice(mirror))
        self._trust.models_removed(document_id, gone)
        for model in mirror.widgets.models.values():
            self._trust.model_written(document_id, model.model_id, model.entry_digest(self._form))

    # What the runner reports

    def connected(self, kernel_id: str, sender: CommSender | None) -> None:
        self._kernel(kernel_id).kernel.connected(sender)

    def on_comm(self, kernel_id: str, event: CommMessage) -> None:
        mirror = self._kernel(kernel_id)
        if mirror.kernel.is_own_echo(event):
            return
        change = mirror.widgets.apply(event)
        for model_id in change.whole:
            mirror.mark(model_id, None)
            self._capture.reset(kernel_id, model_id)
        for model_id, keys in change.keys.items():
            mirror.mark(model_id, keys)
            if "outputs" in keys:
                self._capture.reset(kernel_id, model_id)
                mirror.captured.discard(model_id)
                mirror.unsent.discard(model_id)
        if change or mirror.widgets.capped != mirror.capped:
            self._changed(kernel_id, mirror)

    def capture_target(self, kernel_id: str, parent_id: str) -> str | None:
        """The Output widget that a request's output goes to now, if any."""
        mirror = self._kernels.get(kernel_id)
        model = mirror.widgets.capturing(parent_id) if mirror is not None else None
        return model.model_id if model is not None else None

    def capture(
        self, kernel_id: str, model_id: str, msg_type: str, content: dict[str, Any]
    ) -> None:
        mirror = self._kernel(kernel_id)
        model = mirror.widgets.models.get(model_id)
        if model is not None and self._capture.add(kernel_id, model, msg_type, content):
            mirror.captured.add(model_id)
            self._changed(kernel_id, mirror)

    def before_output(self, kernel_id: str, content: dict[str, Any]) -> None:
        """A request shows an output: if it is a widget view, its models reach the docs
        first, so that no browser gets the view before the doc knows its model is live."""
        data = content.get("data")
        if isinstance(data, dict) and VIEW_MIME in data:
            self.flush(kernel_id)

    def messages_dropped(self, kernel_id: str) -> None:
        self._kernel(kernel_id).kernel.messages_dropped()

    def request_ended(self, kernel_id: str, *, last: bool) -> None:
        """The docs and the file get the widgets now; and the kernel what it is due, when
        no other request of the server runs (`last`)."""
        mirror = self._kernels.get(kernel_id)
        if mirror is not None:
            mirror.kernel.request_ended()
            self.snapshot(kernel_id)
            if last:
                self.between_requests(kernel_id)

    def between_requests(self, kernel_id: str) -> None:
        """No request of the server runs in the kernel: the one moment to send it comm
        messages. With ipykernel 7.4, a comm message that reaches the main shell channel
        while a request runs can wedge the connection that sent it, that request's reply
        and every later message with it. So the kernel gets the outputs of its Output
        widgets, and the requests for lost updates, here: before the next cell runs."""
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            return
        self.flush(kernel_id)
        mirror.kernel.resync(mirror.widgets.models)
        unsent, mirror.unsent = mirror.unsent, set()
        for model_id in unsent:
            model = mirror.widgets.models.get(model_id)
            outputs = model.state.get("outputs") if model is not None else None
            if model is not None and model.live and isinstance(outputs, list):
                mirror.kernel.send_outputs(model_id, outputs)

    def kernel_idle(self, kernel_id: str, *, ours_done: bool) -> None:
        """The kernel reports idle; `ours_done` when no request of the server runs."""
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            return
        if ours_done:
            self.between_requests(kernel_id)
        if not mirror.snapshot_due:
            return
        delay = max(
            self._settings.flush_interval,
            mirror.snapshots.last + IDLE_SNAPSHOT_SPACING - time.monotonic(),
        )
        self._snapshot_in(kernel_id, mirror, delay)

    def kernel_lost(self, kernel_id: str, *, retire: bool = False) -> None:
        """The kernel process is gone: its models freeze, and stay in the doc and file.
        A kernel shut down for good (`retire`) is then forgotten: its docs hold the frozen
        models, and a room that loads again shows them frozen."""
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            return
        for model_id in mirror.widgets.freeze():
            mirror.mark(model_id, None)
        self._capture.forget_kernel(kernel_id)
        mirror.captured.clear()
        mirror.unsent.clear()
        mirror.kernel.connected(None)
        mirror.snapshot_due = True
        self.flush(kernel_id)
        self.snapshot(kernel_id)
        if retire:
            self._forget(kernel_id)

    def _forget(self, kernel_id: str) -> None:
        mirror = self._kernels.pop(kernel_id)
        mirror.flushes.cancel()
        mirror.snapshots.cancel()
        for document_id in mirror.documents:
            if self._kernel_of_document.get(document_id) == kernel_id:
                del self._kernel_of_document[document_id]

    # Writing

    def _changed(self, kernel_id: str, mirror: KernelMirror) -> None:
        mirror.snapshot_due = True
        if mirror.flushes.timer is None:
            delay = max(0.0, mirror.flushes.last + self._settings.flush_interval - time.monotonic())
            mirror.flushes.timer = asyncio.get_running_loop().call_later(
                delay, self.flush, kernel_id
            )
        if mirror.snapshots.timer is None:
            delay = mirror.snapshots.last + self._settings.snapshot_interval - time.monotonic()
            self._snapshot_in(kernel_id, mirror, max(self._settings.flush_interval, delay))

    def flush(self, kernel_id: str) -> None:
        """Write what changed into the docs."""
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            return
        mirror.flushes.ran()
        self._take_captured(kernel_id, mirror)
        if mirror.pending or mirror.removed or mirror.widgets.capped != mirror.capped:
            self._write(kernel_id, mirror)

    def _take_captured(self, kernel_id: str, mirror: KernelMirror) -> None:
        for model_id in mirror.captured:
            model = mirror.widgets.models.get(model_id)
            outputs = self._capture.outputs(kernel_id, model_id)
            if model is None or outputs is None:
                continue
            mirror.widgets.set_outputs(model, outputs)
            mirror.mark(model_id, {"outputs"})
            mirror.unsent.add(model_id)
        mirror.captured.clear()

    def _write(self, kernel_id: str, mirror: KernelMirror) -> None:
        if mirror.widgets.capped and not mirror.capped:
            self._log.warning("Kernel %s: %s", kernel_id, self._notice(mirror, capped=True))
        mirror.capped = mirror.widgets.capped
        pending, removed = mirror.pending, mirror.removed
        mirror.pending, mirror.removed = {}, set()
        models = mirror.widgets.models
        written = [models[model_id] for model_id in pending if model_id in models]
        for document_id, notebook in self._live_notebooks(mirror):
            # On disk before the doc names them.
            for model in written:
                self._keep_blobs(document_id, model, pending[model.model_id])
            ydoc = notebook.ydoc
            with ydoc.transaction(origin=ORIGIN):
                widget_doc.write_kernel(ydoc, kernel_id, mirror.widgets.session)
                widget_doc.remove_models(ydoc, removed)
                for model in written:
                    widget_doc.write_model(ydoc, model, self._form, pending[model.model_id])
                widget_doc.write_notice(ydoc, self._notice(mirror))
            self._trust.models_removed(document_id, removed)
            for model in written:
                self._trust.model_written(
                    document_id, model.model_id, model.entry_digest(self._form)
                )

    def _keep_blobs(self, document_id: str, model: WidgetModel, keys: set[str] | None) -> None:
        if self._blobs is not None:
            for digest, data in model.blobs(self._form, keys):
                self._blobs.keep(document_id, data, digest)

    def read_blob(self, document_id: str, digest: str) -> bytes | None:
        """The bytes of a binary value that a document's models name by digest."""
        return self._blobs.read(document_id, digest) if self._blobs is not None else None

    def _snapshot_in(self, kernel_id: str, mirror: KernelMirror, delay: float) -> None:
        timer = mirror.snapshots.timer
        if timer is not None:
            if timer.when() <= asyncio.get_running_loop().time() + delay:
                return
            timer.cancel()
        mirror.snapshots.timer = asyncio.get_running_loop().call_later(
            delay, self.snapshot, kernel_id
        )

    def snapshot(self, kernel_id: str) -> None:
        """Write the metadata `widgets` of the kernel's docs, and forget the models that
        no doc needs and no kernel holds."""
        mirror = self._kernels.get(kernel_id)
        if mirror is None:
            return
        mirror.snapshots.ran()
        if not mirror.snapshot_due:
            return
        mirror.snapshot_due = False
        self.flush(kernel_id)
        notebooks = self._live_notebooks(mirror)
        # A doc that is not loaded may still show frozen models: then all are kept.
        needed = set(mirror.widgets.models) if len(notebooks) != len(mirror.documents) else set()
        displayed = {
            document_id: widget_doc.displayed_model_ids(notebook)
            for document_id, notebook in notebooks
        }
        for shown in displayed.values():
            needed |= needed_models(shown, mirror.widgets.models)
        gone = mirror.widgets.prune(needed)
        for document_id, notebook in notebooks:
            with notebook.ydoc.transaction(origin=ORIGIN):
                widget_doc.remove_models(notebook.ydoc, gone)
                value = merged_widget_state(
                    self._confirmed_saved_state(document_id, notebook),
                    mirror.widgets.models,
                    displayed[document_id],
                )
                widget_doc.write_widget_state(notebook, value)
            if self._blobs is not None:
                self._blobs.collect(document_id, widget_doc.blob_references(notebook.ydoc))
            self._trust.models_removed(document_id, gone)
            self._trust.widget_state_written(
                document_id, json_digest(value) if value is not None else None
            )

    def _confirmed_saved_state(
        self, document_id: str, notebook: YNotebook
    ) -> dict[str, Any] | None:
        """The saved widget state, for the views that the mirror does not know, only if the
        server wrote it or it came with the file: what a client wrote there is not kept."""
        saved = widget_doc.saved_widget_state(notebook)
        digest = json_digest(saved) if saved is not None else None
        if digest is None or not self._trust.widget_state_confirmed(document_id, digest):
            return None
        return saved

    def _live_notebooks(self, mirror: KernelMirror) -> list[tuple[str, YNotebook]]:
        notebooks = []
        for document_id in mirror.documents:
            notebook = self._rooms.live_notebook(document_id)
            if notebook is not None:
                notebooks.append((document_id, notebook))
        return notebooks

    def _notice(self, mirror: KernelMirror, *, capped: bool | None = None) -> str | None:
        if not (mirror.widgets.capped if capped is None else capped):
            return None
        limit = self._settings.max_widget_bytes or 0
        return (
            f"The widgets of this kernel reached the limit of {limit / (1024 * 1024):g} MiB "
            "(CollabExecApp.max_widget_bytes): newer widgets and updates are not kept in "
            "the document."
        )

    def close(self) -> None:
        for mirror in self._kernels.values():
            mirror.flushes.cancel()
            mirror.snapshots.cancel()
