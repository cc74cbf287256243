"""What the widget mirror sends to one kernel, as a browser's widget manager would: the
outputs of the Output widgets that the server fills, and, when updates may have been lost
on the way, a request for each live model's state. It remembers its own updates, so that
their echoes are not taken for news."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, Protocol

from ..kernel.events import CommMessage
from .model import WidgetModel

# How many of the server's own updates are remembered, to skip their echoes.
OWN_UPDATES_KEPT = 256
# Past this many comm messages in one request, some may have been dropped on the way: a
# kernel's IOPub socket drops what a slow reader has not taken past its high-water mark
# (1000 messages). The models are then asked for again when the request ends. The kernel's
# answers to the server's own messages are not counted: they come one per model asked,
# and counting them would make a room of 500 models ask again after every request.
RESYNC_AFTER_MESSAGES = 500


class CommSender(Protocol):
    def send_comm(self, comm_id: str, data: dict[str, Any]) -> str: ...


class KernelWidgetSender:
    def __init__(self, kernel_id: str, log: logging.Logger) -> None:
        self._kernel_id = kernel_id
        self._log = log
        self._sender: CommSender | None = None
        # The server's updates, whose echoes are not news, and the state requests of its
        # latest resync (one per live model).
        self._own_updates: OrderedDict[str, None] = OrderedDict()
        self._own_requests: set[str] = set()
        self._resync_due = False
        self._burst = 0

    def connected(self, sender: CommSender | None) -> None:
        self._sender = sender
        if sender is None:
            self._own_updates.clear()
            self._own_requests.clear()

    def is_own_echo(self, event: CommMessage) -> bool:
        """Whether a comm message is the kernel's echo of an update the server sent."""
        parent_id = event.parent_id
        if parent_id is not None and parent_id in self._own_requests:
            # The kernel's answer to a state request: news, but not traffic to count.
            return False
        self._burst += 1
        if event.msg_type != "comm_msg" or parent_id is None:
            return False
        if parent_id not in self._own_updates:
            return False
        del self._own_updates[parent_id]
        return True

    def messages_dropped(self) -> None:
        self._resync_due = True

    def request_ended(self) -> None:
        if self._burst >= RESYNC_AFTER_MESSAGES:
            self._resync_due = True
        self._burst = 0

    def send_outputs(self, model_id: str, outputs: list[dict[str, Any]]) -> None:
        """Update the kernel's `Output.outputs`, as JupyterLab's Output widget does."""
        data = {"method": "update", "state": {"outputs": outputs}, "buffer_paths": []}
        msg_id = self._send(model_id, data, "send the outputs of")
        if msg_id is not None:
            self._own_updates[msg_id] = None
            while len(self._own_updates) > OWN_UPDATES_KEPT:
                self._own_updates.popitem(last=False)

    def resync(self, models: Mapping[str, WidgetModel]) -> None:
        """If updates may have been lost, ask the kernel for each live model's state, as a
        browser asks after a reconnect; its answers are updates like any other."""
        if not self._resync_due or self._sender is None:
            return
        self._resync_due = False
        live = [model_id for model_id, model in models.items() if model.live]
        self._log.info(
            "Kernel %s: updates may have been dropped; asking for %d models again",
            self._kernel_id,
            len(live),
        )
        self._own_requests.clear()
        for model_id in live:
            msg_id = self._send(model_id, {"method": "request_state"}, "ask for")
            if msg_id is None:
                return
            self._own_requests.add(msg_id)

    def _send(self, model_id: str, data: dict[str, Any], what: str) -> str | None:
        if self._sender is None:
            return None
        try:
            return self._sender.send_comm(model_id, data)
        except Exception as error:
            self._log.warning(
                "Kernel %s: could not %s %s: %s", self._kernel_id, what, model_id, error
            )
            return None
