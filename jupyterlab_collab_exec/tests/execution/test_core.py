"""The execution core on its own: a runner and a ledger driven by a scripted event stream,
with a bare notebook Y.Doc and no kernel, server or room (the core/handler split of
jupyterlab-git). The integration suites run the same core against real kernels."""

from __future__ import annotations

from typing import Any

import pytest

from jupyterlab_collab_exec.doc.cells import CellSpec, resolve_cells
from jupyterlab_collab_exec.doc.collab_map import kernel_map
from jupyterlab_collab_exec.execution.ledger import KernelReply, Request
from jupyterlab_collab_exec.kernel.conversation import KernelGone
from jupyterlab_collab_exec.kernel.events import (
    ConnectionLost,
    InputRequested,
    Interrupted,
    KernelLost,
    KernelStatus,
    Output,
    Replied,
    Stalled,
)
from jupyterlab_collab_exec.kernel.state import KernelStateMirror, KernelStateTracker

from ..clients import wait_for
from ..scripted import ALICE, DOCUMENT, KERNEL, UNTRACKED, Core


async def test_requests_run_one_at_a_time_and_the_next_is_sent_on_the_reply(
    core_factory: Any,
) -> None:
    core = core_factory("print(1)", "print(2)")
    first, second = await core.submit("cell-0", "cell-1")
    conversation = core.connector.conversation
    assert conversation.sent == ["print(1)"]
    assert [core.status(first), core.status(second)] == ["queued", "queued"]

    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        Output("msg-1", "stream", {"name": "stdout", "text": "1\n"}, "t0"),
    )
    assert core.status(first) == "running"
    assert core.cell(0)["execution_state"] == "running"

    # The reply sends the next request before the first one has ended.
    await core.play(Replied("msg-1", {"content": {"status": "ok", "execution_count": 1}}))
    assert conversation.sent == ["print(1)", "print(2)"]
    assert core.status(first) == "running"
    assert core.status(second) == "queued"

    # Its idle ends it, and shows the next one running in the same update.
    await core.play(KernelStatus("idle", "msg-1", "execute_request", "t1"))
    assert [core.status(first), core.status(second)] == ["ok", "running"]
    assert core.cell(0)["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "1\n"}]
    assert core.cell(0)["execution_count"] == 1
    assert core.cell(0)["execution_state"] == "idle"

    await core.play(*core.run_to_end("msg-2", count=2))
    assert core.status(second) == "ok"
    assert not core.ledger.active_ids
    await core.tasks.close()
    assert core.rooms.released == 2


async def test_an_error_cancels_the_rest_of_its_batch_only(core_factory: Any) -> None:
    core = core_factory("1/0", "never()", "later()")
    failing, skipped = await core.submit("cell-0", "cell-1")
    [other_batch] = await core.submit("cell-2")
    await core.play(*core.run_to_end("msg-1", status="error"))
    assert [core.status(failing), core.status(skipped)] == ["error", "cancelled"]
    assert core.connector.conversation.sent == ["1/0", "later()"]
    await core.play(*core.run_to_end("msg-2", count=2))
    assert core.status(other_batch) == "ok"


async def test_blank_cells_end_ok_without_reaching_the_kernel(core_factory: Any) -> None:
    core = core_factory("  \n", "x = 1")
    blank, real = await core.submit("cell-0", "cell-1")
    assert core.status(blank) == "ok"
    assert core.connector.conversation.sent == ["x = 1"]
    assert core.status(real) == "queued"


async def test_cancelled_requests_are_skipped(core_factory: Any) -> None:
    core = core_factory("slow()", "a()", "b()")
    _, middle, last = await core.submit("cell-0", "cell-1", "cell-2")
    assert core.ledger.end(middle, "cancelled")
    assert not core.ledger.end(middle, "cancelled")
    await core.play(*core.run_to_end("msg-1"))
    assert core.connector.conversation.sent == ["slow()", "b()"]
    assert core.status(middle) == "cancelled"
    assert core.status(last) == "running"


async def test_interrupt_fails_the_running_request_and_cancels_the_queue(
    core_factory: Any,
) -> None:
    core = core_factory("sleep()", "after()")
    running, queued = await core.submit("cell-0", "cell-1")
    await core.play(KernelStatus("busy", "msg-1", "execute_request", "t0"), Interrupted())
    assert core.status(queued) == "cancelled"
    error = {"output_type": "error", "ename": "KeyboardInterrupt", "evalue": "", "traceback": []}
    await core.play(
        Output("msg-1", "error", {k: v for k, v in error.items() if k != "output_type"}, "t1"),
        Replied("msg-1", {"content": {"status": "error", "execution_count": 1}}),
        KernelStatus("idle", "msg-1", "execute_request", "t2"),
    )
    assert core.status(running) == "interrupted"
    assert core.cell(0)["outputs"] == [error]


async def test_a_keyboard_interrupt_from_anyone_ends_the_request_interrupted_and_the_queue(
    core_factory: Any,
) -> None:
    # jupyter_client interrupts a kernel before it restarts it: that reply can come before
    # the server hears of the restart, and ends the request as an interrupt does.
    core = core_factory("sleep()", "after()")
    [running] = await core.submit("cell-0")
    [other_batch] = await core.submit("cell-1")
    interrupted = {"status": "error", "ename": "KeyboardInterrupt", "execution_count": 1}
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        Replied("msg-1", {"content": interrupted}),
        KernelStatus("idle", "msg-1", "execute_request", "t1"),
    )
    assert [core.status(running), core.status(other_batch)] == ["interrupted", "cancelled"]
    assert core.connector.conversation.sent == ["sleep()"]


async def test_a_lost_kernel_ends_everything_with_its_reason(core_factory: Any) -> None:
    core = core_factory("sleep()", "after()")
    running, queued = await core.submit("cell-0", "cell-1")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        KernelLost("dead", "The kernel died."),
    )
    assert [core.status(running), core.status(queued)] == ["interrupted", "cancelled"]
    assert core.entry(running)["reason"] == "The kernel died."
    assert kernel_map(core.notebook.ydoc).to_py() == {
        "kernel_id": KERNEL,
        "execution_state": "dead",
    }
    assert [core.cell(0)["execution_state"], core.cell(1)["execution_state"]] == ["idle", "idle"]


async def test_a_gateway_status_without_parent_is_a_death(core_factory: Any) -> None:
    core = core_factory("sleep()")
    [running] = await core.submit("cell-0")
    await core.play(KernelStatus("restarting", None, None, "t0"))
    assert core.status(running) == "interrupted"
    assert core.entry(running)["reason"] == "The kernel restarted."
    # It reconnects to the restarted kernel.
    assert len(core.connector.conversations) == 2


async def test_a_lost_connection_interrupts_what_runs_and_the_queue_goes_on(
    core_factory: Any,
) -> None:
    core = core_factory("sleep()", "after()")
    running, queued = await core.submit("cell-0", "cell-1")
    first = core.connector.conversation
    await core.play(ConnectionLost(first, "Lost the connection to the kernel (iopub: boom)."))
    assert core.status(running) == "interrupted"
    assert "boom" in core.entry(running)["reason"]
    assert not first.alive
    # The next request goes out on a new connection.
    second = core.connector.conversation
    assert second is not first
    assert second.sent == ["after()"]
    await core.play(*core.run_to_end("msg-1"))
    assert core.status(queued) == "ok"


async def test_a_failed_connection_ends_its_batch_with_the_reason(core_factory: Any) -> None:
    core = core_factory("a()", "b()", "c()")
    core.connector.failures.append(KernelGone("Could not connect to the kernel: refused"))
    first, rest = await core.submit("cell-0", "cell-1")
    [other] = await core.submit("cell-2")
    assert [core.status(first), core.status(rest)] == ["interrupted", "cancelled"]
    assert core.entry(first)["reason"] == "Could not connect to the kernel: refused"
    # Another batch tries again, and runs.
    assert core.connector.conversation.sent == ["c()"]
    await core.play(*core.run_to_end("msg-1"))
    assert core.status(other) == "ok"


async def test_a_failed_send_ends_its_request_and_the_next_is_sent(
    core_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    core = core_factory("x = 1", "y = 2")
    core.connector.failures.clear()
    core.runner._link.connect()
    await core.settle()
    core.connector.conversation.fail_next_send = RuntimeError("injected")
    first, second = await core.submit("cell-0", "cell-1")
    assert core.status(first) == "interrupted"
    assert "injected" in core.entry(first)["reason"]
    assert "Traceback" in caplog.text
    assert core.connector.conversation.sent == ["y = 2"]
    await core.play(*core.run_to_end("msg-1"))
    assert core.status(second) == "ok"


async def test_an_error_while_handling_an_event_ends_its_request_visibly(
    core_factory: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = core_factory("print('x')", "after()")
    broken, after = await core.submit("cell-0", "cell-1")

    def explode(*args: Any) -> None:
        raise ValueError("reducer bug")

    monkeypatch.setattr(core.outputs, "add", explode)
    await core.play(Output("msg-1", "stream", {"name": "stdout", "text": "x"}, "t0"))
    assert core.status(broken) == "interrupted"
    assert core.entry(broken)["reason"] == "Server error: reducer bug"
    assert "reducer bug" in caplog.text
    assert "Traceback" in caplog.text
    # The queue goes on: the next request is sent (the kernel runs it after the broken
    # one), and the broken one's late reply changes nothing.
    monkeypatch.undo()
    assert core.connector.conversation.sent == ["print('x')", "after()"]
    await core.play(Replied("msg-1", {"content": {"status": "ok"}}))
    assert core.status(broken) == "interrupted"
    await core.play(*core.run_to_end("msg-2", count=2))
    assert core.status(after) == "ok"


async def test_a_request_that_never_starts_probes_then_gives_up(core_factory: Any) -> None:
    core = core_factory("x = 1")
    [request] = await core.submit("cell-0")
    conversation = core.connector.conversation
    await core.play(Stalled("msg-1"))
    assert conversation.probes == ["probe-1"]
    # A kernel busy with someone else's work answers the probe: the request waits on.
    await core.play(Replied("probe-1", {"content": {"status": "ok"}}), Stalled("msg-1"))
    assert core.status(request) == "queued"
    assert conversation.probes == ["probe-1", "probe-2"]
    # A kernel that answers nothing within the response timeout is given up.
    core.runner._link._response_timeout = 0.0
    await core.play(Stalled("msg-1"))
    assert core.status(request) == "interrupted"
    assert "answered nothing" in core.entry(request)["reason"]
    assert not conversation.alive


async def test_input_requests_wait_for_one_answer(core_factory: Any) -> None:
    core = core_factory("input('Name?')")
    [request] = await core.submit("cell-0")
    conversation = core.connector.conversation
    message = {"header": {"msg_id": "in-1"}, "content": {"prompt": "Name?"}}
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        InputRequested("msg-1", "Name?", False, message),
    )
    assert core.status(request) == "awaiting_input"
    [pending] = core.ledger._inputs.of_document(DOCUMENT)
    assert pending.prompt == "Name?"
    core.runner.reply_input(pending, "Ada")
    assert conversation.replies == ["Ada"]
    # A request nobody waits for gets an empty answer, so the kernel never hangs.
    await core.play(InputRequested("unknown", "?", False, message))
    assert conversation.replies == ["Ada", ""]


async def test_streams_past_the_cap_are_muted_at_the_source(core_factory: Any) -> None:
    core = core_factory("flood()")
    await core.submit("cell-0")
    conversation = core.connector.conversation
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        Output("msg-1", "stream", {"name": "stdout", "text": "x" * 4096}, "t0"),
    )
    assert conversation.muted == {"msg-1"}
    await core.play(*core.run_to_end("msg-1")[1:])
    assert conversation.muted == set()
    [text, notice] = core.cell(0)["outputs"]
    assert len(text["text"]) == 2048
    assert "Output truncated" in notice["text"]


async def test_the_ledger_writes_counts_only_for_the_latest_request_of_a_cell(
    core_factory: Any,
) -> None:
    core = core_factory("1")
    resolved = resolve_cells(core.notebook, DOCUMENT, [CellSpec("cell-0")])
    [older] = core.ledger.accept(
        core.notebook, DOCUMENT, KERNEL, resolved, record_timing=False, submitted_by=ALICE
    )
    [newer] = core.ledger.accept(
        core.notebook, DOCUMENT, KERNEL, resolved, record_timing=True, submitted_by=ALICE
    )
    await _end_both(core, older, newer)


async def _end_both(core: Core, older: Request, newer: Request) -> None:
    core.ledger.sent(older)
    core.ledger.start(older)
    core.ledger.end(older, "ok", reply=KernelReply(7))
    # The cell runs again: it stays running, and the older count is not shown.
    assert core.cell(0)["execution_state"] == "running"
    assert core.cell(0)["execution_count"] is None
    core.ledger.sent(newer)
    core.ledger.start(newer)
    core.ledger.end(newer, "ok", reply=KernelReply(8, {"shell.execute_reply": "t"}))
    assert core.cell(0)["execution_count"] == 8
    assert core.cell(0)["execution_state"] == "idle"
    assert core.cell(0)["metadata"]["execution"] == {"shell.execute_reply": "t"}
    assert core.entry(older)["execution_count"] == 7


def status(state: str, parent: str | None, parent_type: str | None) -> KernelStatus:
    return KernelStatus(state, parent, parent_type, "t")


def test_kernel_state_stays_busy_while_a_cell_runs() -> None:
    """Browsers send kernel_info, debug and comm requests, some answered on the control
    channel while a cell runs: the kernel is busy until the cell itself ends."""
    tracker = KernelStateTracker(UNTRACKED)
    assert tracker.state == "starting"
    tracker.update(status("busy", "k1", "kernel_info_request"))
    assert tracker.state == "idle"
    tracker.update(status("busy", "run", "execute_request"))
    assert tracker.state == "busy"
    for kind in ("debug_request", "kernel_info_request"):
        tracker.update(status("busy", kind, kind))
        tracker.update(status("idle", kind, kind))
        assert tracker.state == "busy"
    # A widget's comm message handled while the cell runs.
    tracker.update(status("busy", "comm", "comm_msg"))
    tracker.update(status("idle", "comm", "comm_msg"))
    assert tracker.state == "busy"
    tracker.update(status("idle", "run", "execute_request"))
    assert tracker.state == "idle"
    # Lifecycle states without a parent reset it.
    tracker.update(status("busy", "run2", "execute_request"))
    tracker.update(status("restarting", None, None))
    assert tracker.state == "restarting"
    tracker.update(status("busy", "k2", "kernel_info_request"))
    assert tracker.state == "restarting"
    tracker.reset("idle")
    # A request of ours whose idle never came does not keep the kernel busy.
    tracker.update(status("busy", "lost", "execute_request"))
    assert tracker.settled("lost")
    assert tracker.state == "idle"


async def test_a_run_shows_busy_at_once_and_idle_after_the_throttle(core_factory: Any) -> None:
    """Busy is written when a run starts, before its first outputs; only the way back to
    idle waits, so that a flurry of short messages does not flap the doc."""
    core = core_factory("print(1)")
    mirror = KernelStateMirror(core.rooms, 0.05, UNTRACKED)
    mirror.attach(DOCUMENT, KERNEL)
    mirror.set_now(KERNEL, "idle")
    mirror.on_status(KERNEL, status("busy", "run", "execute_request"))
    assert kernel_map(core.notebook.ydoc).get("execution_state") == "busy"
    mirror.on_status(KERNEL, status("idle", "run", "execute_request"))
    assert kernel_map(core.notebook.ydoc).get("execution_state") == "busy"
    await wait_for(
        lambda: kernel_map(core.notebook.ydoc).get("execution_state") == "idle",
        what="idle after the throttle",
    )
    mirror.close()


async def test_a_kernel_state_not_known_yet_is_not_written(core_factory: Any) -> None:
    """A gateway kernel's manager says `starting` for good: until the kernel's first status,
    the server does not know the state and writes none, rather than `starting`."""
    core = core_factory("print(1)")
    mirror = KernelStateMirror(core.rooms, 0.05, UNTRACKED)
    mirror.attach(DOCUMENT, KERNEL, fallback=None)
    assert kernel_map(core.notebook.ydoc).get("execution_state") is None
    mirror.on_status(KERNEL, status("busy", "run", "execute_request"))
    assert kernel_map(core.notebook.ydoc).get("execution_state") == "busy"
    # A local kernel's manager knows: its state is written at once.
    other = core_factory("print(2)")
    local = KernelStateMirror(other.rooms, 0.05, UNTRACKED)
    local.attach(DOCUMENT, KERNEL, fallback="starting")
    assert kernel_map(other.notebook.ydoc).get("execution_state") == "starting"
    mirror.close()
    local.close()


async def test_a_request_idle_without_its_reply_ends_after_the_response_timeout(
    core_factory: Any,
) -> None:
    core = core_factory("print(1)", "print(2)")
    first, second = await core.submit("cell-0", "cell-1")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        KernelStatus("idle", "msg-1", "execute_request", "t1"),
    )
    assert core.status(first) == "running"
    # The check that the runner scheduled at the idle, once the timeout has passed.
    await core.play(Stalled("msg-1"))
    assert core.status(first) == "interrupted"
    assert core.entry(first)["reason"] == "The kernel never replied to it."
    assert core.connector.conversation.sent == ["print(1)", "print(2)"]
    assert core.status(second) == "queued"
