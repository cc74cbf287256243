"""The browsers' kernel websockets to gateway kernels, as the server forwards them.

jupyter_server forwards a browser's kernel websocket to the gateway
(`GatewayWebSocketConnection`) in the legacy protocol, so it accepts the browser's websocket
without a subprotocol. JupyterLab asks for `v1.kernel.websocket.jupyter.org`; Chromium fails
a handshake whose answer names none of the subprotocols it asked for, and JupyterLab then
opens the websocket again at once, without one and with the same session id. The server had
already opened the first one's connection to the gateway, and that connection is never
closed: the gateway keeps two connections of one session. Their shell, control and stdin
sockets carry the same ZeroMQ identity (the session id), so the kernel answers only the one
that connected last, which may be the forgotten one: the browser then waits for replies that
never come (docs/remote-kernels.md, "Known issues").

`GatewayBrowserConnection` avoids that duplicate in two ways:

- It refuses, with HTTP 400 before the upgrade, a handshake that asks only for subprotocols
  that it cannot speak. JupyterLab then connects without one at once, as it does after
  Chromium's failure, and no connection to the gateway was opened for the refused attempt.
- A browser that leaves while the server is still opening its connection to the gateway
  gets that connection closed as soon as it opens, instead of left open.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.gateway.connections import GatewayWebSocketConnection
from tornado import web
from tornado.concurrent import Future

# The header that lists the subprotocols a websocket client asks for.
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"


def offered_subprotocols(header: str | None) -> list[str]:
    """The subprotocols that a handshake's header lists, in order."""
    return [name.strip() for name in (header or "").split(",") if name.strip()]


class GatewayBrowserConnection(GatewayWebSocketConnection):
    """jupyter_server's gateway websocket proxy, without the duplicate connections that a
    failed first handshake leaves on the gateway."""

    async def prepare(self) -> None:
        """Before the upgrade: refuse a handshake that the browser would fail anyway."""
        handler: Any = self.websocket_handler
        offered = offered_subprotocols(handler.request.headers.get(SUBPROTOCOL_HEADER))
        if offered and handler.select_subprotocol(offered) is None:
            # Said in the status line only: the access log has one line for it, not two.
            raise web.HTTPError(400, reason="No common subprotocol; connect without one")

    def disconnect(self) -> None:
        """The browser left. A connection to the gateway that is still opening is closed
        once it opens (`_connection_done`), rather than cancelled and left open."""
        if self.ws is None and self.ws_future is not None and not self.ws_future.done():
            self.disconnected = True
            return
        super().disconnect()  # type: ignore[no-untyped-call]

    def _connection_done(self, fut: Future[Any]) -> None:
        if self.disconnected and not fut.cancelled() and fut.exception() is None:
            self.log.debug(
                "Kernel %s: its browser left; closing its gateway websocket", self.kernel_id
            )
            fut.result().close()
            return
        super()._connection_done(fut)  # type: ignore[no-untyped-call]
