"""Kernel connections: connecting to a kernel, local or behind a gateway, and noticing its death.

A connection is ready once the kernel answers a kernel_info_request on shell and IOPub
delivers (so that no output of the first request can be missed). This is jupyter_client's
`wait_for_ready` without what ties it to a local kernel: it works for gateway clients, and
a slow first answer is waited for up to the response timeout.

A kernel's death shows three ways, and each reaches the runner as an event: jupyter_client's
restarter calls back for a local kernel (`KernelLost`); a gateway forwards a status
`restarting` or `dead` with no parent (seen by the runner in the status stream); and a
reader of the conversation ends (`ConnectionLost`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import logging
from collections.abc import Callable
from typing import Any

from jupyter_client.session import Session
from jupyter_server.gateway.managers import GatewayKernelManager

from .channels import GatewayChannelsClient, channel_reader
from .conversation import EventSink, KernelConversation, KernelGone
from .events import KernelLost

CONNECT_ATTEMPTS = 3
# How long one kernel_info attempt waits before it is sent again.
READY_POLL = 1.0
# How long IOPub must stay quiet once the kernel answered (jupyter_client's figure).
SETTLE_TIME = 0.2


class KernelConnector:
    def __init__(self, kernel_manager: Any, log: logging.Logger, response_timeout: float) -> None:
        self._kernel_manager = kernel_manager
        self._log = log
        self._response_timeout = response_timeout
        self._watched: dict[str, tuple[Any, list[tuple[Callable[[], None], str]]]] = {}

    def has_kernel(self, kernel_id: str) -> bool:
        return kernel_id in self._kernel_manager

    def manager_state(self, kernel_id: str) -> str | None:
        """What the kernel manager believes, for local kernels; None when it cannot know."""
        kernel = self._kernel_manager.get_kernel(kernel_id)
        if isinstance(kernel, GatewayKernelManager):
            return None
        state = getattr(kernel, "execution_state", None)
        return state if isinstance(state, str) else None

    async def connect(self, kernel_id: str, sink: EventSink) -> KernelConversation:
        """A started conversation with a ready kernel. A kernel that restarts while we
        connect gets new ports: connect again, a few times."""
        for attempt in range(1, CONNECT_ATTEMPTS + 1):
            if not self.has_kernel(kernel_id):
                raise KernelGone("The kernel no longer exists.")
            try:
                return await self._connect_once(kernel_id, sink)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._log.warning(
                    "Connecting to kernel %s failed (attempt %d of %d)",
                    kernel_id,
                    attempt,
                    CONNECT_ATTEMPTS,
                    exc_info=True,
                )
                if attempt == CONNECT_ATTEMPTS or not self.has_kernel(kernel_id):
                    raise KernelGone(f"Could not connect to the kernel: {error}") from error
        raise AssertionError("unreachable")

    async def _connect_once(self, kernel_id: str, sink: EventSink) -> KernelConversation:
        kernel = self._kernel_manager.get_kernel(kernel_id)
        self._watch_deaths(kernel_id, kernel, sink)
        if not isinstance(kernel, GatewayKernelManager):
            await asyncio.wait_for(_restarted(kernel), self._response_timeout)
        client = self._client(kernel)
        started = client.start_channels()
        if inspect.isawaitable(started):
            await started
        try:
            await self._wait_until_ready(client)
        except BaseException:
            await _stop_client(client)
            raise
        conversation = KernelConversation(kernel_id, client, sink, self._log)
        conversation.start()
        return conversation

    @staticmethod
    def _client(kernel: Any) -> Any:
        """A client with a session of its own: a client sharing the kernel manager's
        session would share its ZeroMQ identity, and the kernel would route the replies of
        one connection to another."""
        session = Session(
            config=kernel.session.config,
            key=kernel.session.key,
            signature_scheme=kernel.session.signature_scheme,
        )
        if not isinstance(kernel, GatewayKernelManager):
            return kernel.client(session=session)
        # What GatewayKernelManager.client() gives its own client class.
        arguments: dict[str, Any] = dict(kernel.get_connection_info(session=True))
        arguments.update(connection_file=kernel.connection_file, parent=kernel, session=session)
        client_class: Any = GatewayChannelsClient
        return client_class(kernel_id=kernel.kernel_id, **arguments)

    async def _wait_until_ready(self, client: Any) -> None:
        shell = channel_reader(client, "shell")
        iopub = channel_reader(client, "iopub")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._response_timeout
        asked: set[str] = set()
        while True:
            asked.add(client.kernel_info())
            try:
                # An answer to any of the requests sent so far will do.
                await asyncio.wait_for(_reply_to(shell, asked), READY_POLL)
                # IOPub delivers once the kernel's status for it arrives.
                await asyncio.wait_for(iopub.read(), READY_POLL)
                break
            except asyncio.TimeoutError:
                if loop.time() > deadline:
                    raise KernelGone(
                        f"The kernel did not answer within {self._response_timeout:g} s."
                    ) from None
        # As jupyter_client does, until IOPub is quiet: the sockets of a kernel that was
        # just starting connect one reconnect interval apart, and an input_request sent
        # before the stdin socket is connected would be dropped, the kernel waiting forever.
        with contextlib.suppress(asyncio.TimeoutError):
            while True:
                await asyncio.wait_for(iopub.read(), SETTLE_TIME)

    def _watch_deaths(self, kernel_id: str, kernel: Any, sink: EventSink) -> None:
        """jupyter_client's restarter calls back when a local kernel dies; a gateway kernel
        has none, and its death shows in the status stream instead."""
        watched = self._watched.get(kernel_id)
        if watched is not None and watched[0] is kernel:
            return
        self.unwatch(kernel_id)
        callbacks: list[tuple[Callable[[], None], str]] = [
            (
                lambda: sink.put_nowait(
                    KernelLost("restarting", "The kernel died and restarts.", reconnect=True)
                ),
                "restart",
            ),
            (lambda: sink.put_nowait(KernelLost("dead", "The kernel died.")), "dead"),
        ]
        for callback, event in callbacks:
            kernel.add_restart_callback(callback, event)
        self._watched[kernel_id] = (kernel, callbacks)

    def unwatch(self, kernel_id: str) -> None:
        watched = self._watched.pop(kernel_id, None)
        if watched is None:
            return
        kernel, callbacks = watched
        for callback, event in callbacks:
            with contextlib.suppress(ValueError):
                kernel.remove_restart_callback(callback, event)


async def _restarted(kernel: Any) -> None:
    """Until a local kernel's connection info is final: a restart shuts the kernel down
    and starts it again, each with its own `ready` future."""
    while True:
        ready = kernel.ready
        if isinstance(ready, concurrent.futures.Future):
            await asyncio.shield(asyncio.wrap_future(ready))
        else:
            await asyncio.shield(ready)
        if kernel.ready is ready:
            return


async def _reply_to(shell: Any, asked: set[str]) -> None:
    while True:
        msg = await shell.read()
        if msg is not None and msg.get("parent_header", {}).get("msg_id") in asked:
            return


async def _stop_client(client: Any) -> None:
    if isinstance(client, GatewayChannelsClient):
        await client.close()
    else:
        client.stop_channels()
