"""What a kernel runner learns, as typed events: the kernel conversation turns channel traffic
into them, the kernel connections add what they detect, and the server's kernel actions add
interrupts and losses. A runner consumes them one at a time, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class KernelStatus:
    """An IOPub `status` message, whoever caused it."""

    state: str
    parent_id: str | None
    parent_type: str | None
    date: str


@dataclass(frozen=True)
class Output:
    """An IOPub message in reply to a request: stream, display, result, error, clear_output
    or execute_input."""

    parent_id: str
    msg_type: str
    content: dict[str, Any]
    date: str


@dataclass(frozen=True)
class ShuttingDown:
    """The kernel broadcast its shutdown_reply: it stops, or restarts, whoever asked (a
    gateway that culls or deletes it, say)."""

    restart: bool


@dataclass(frozen=True)
class CommMessage:
    """A `comm_open`, `comm_msg` or `comm_close` on IOPub, whoever caused it."""

    msg_type: str
    comm_id: str
    data: dict[str, Any]
    target_name: str | None = None
    """Of a `comm_open`."""
    buffers: tuple[bytes, ...] = ()
    session: str = ""
    """The IOPub session of the kernel process that sent it."""
    parent_id: str | None = None
    kernel_time: int | None = None
    """The kernel's header date, in microseconds since the epoch: it orders the messages
    of one kernel process, as every client receives them."""


@dataclass(frozen=True)
class MessagesDropped:
    """A jupyter_server between the kernel and this server (a gateway's) dropped IOPub
    messages over its rate limit, and said so."""


@dataclass(frozen=True)
class InputRequested:
    """The kernel waits on stdin for a request."""

    parent_id: str
    prompt: str
    password: bool
    message: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Replied:
    """A reply on shell: `execute_reply` for a request, or any other reply."""

    parent_id: str
    reply: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class ConnectionLost:
    """A reader of the conversation ended: nothing more will come from it."""

    conversation: object
    reason: str


@dataclass(frozen=True)
class Connecting:
    """How an attempt to connect ended: with a conversation that requests can be sent
    through, or with the error that made it fail for good. `attempt` tells a stale attempt
    (made before the kernel was lost again) from the current one."""

    attempt: int
    conversation: Any = None
    error: str | None = None


@dataclass(frozen=True)
class Stalled:
    """A request sent some time ago: check that the kernel still answers."""

    msg_id: str


@dataclass(frozen=True)
class Interrupted:
    """The kernel was interrupted through jupyter_server."""


@dataclass(frozen=True)
class KernelLost:
    """The kernel restarts, died or was shut down: nothing in it will finish."""

    state: str
    reason: str
    reconnect: bool = False
    retire: bool = False
    """The kernel is gone for good: the runner stops."""


@dataclass(frozen=True)
class KernelRestarted:
    """jupyter_server reports that it restarted the kernel."""


@dataclass(frozen=True)
class Wake:
    """Work was queued: look at the queue."""


KernelEvent = (
    KernelStatus
    | Output
    | ShuttingDown
    | CommMessage
    | MessagesDropped
    | InputRequested
    | Replied
    | ConnectionLost
    | Connecting
    | Interrupted
    | KernelLost
    | KernelRestarted
    | Stalled
    | Wake
)
