"""The event loop's lag, exported with jupyter_server's metrics: a loop held for 0.4 s shows
as a lag of about that much."""

from __future__ import annotations

import gc
import re
import time
from typing import Any

from ..clients import wait_for


async def worst_lag(jp_fetch: Any) -> float:
    answer = await jp_fetch("metrics")
    text = answer.body.decode()
    assert "collab_exec_event_loop_lag_seconds_bucket" in text
    found = re.search(r"^collab_exec_event_loop_lag_max_seconds (\S+)$", text, re.MULTILINE)
    assert found is not None, text
    return float(found.group(1))


async def test_a_held_loop_shows_as_lag(jp_fetch: Any, jp_serverapp: Any) -> None:
    extension = jp_serverapp.extension_manager.extension_points["jupyterlab_collab_exec"]
    probe = extension.app.loop_lag
    # A running server starts it from its start hook, which pytest-jupyter does not run.
    probe.start()
    await wait_for(lambda: probe.samples > 0, what="the probe running")
    # Holding the loop is the point.
    time.sleep(0.4)  # noqa: ASYNC251
    await wait_for(lambda: probe.worst >= 0.3, what="the held loop in the probe")
    assert 0.3 <= await worst_lag(jp_fetch) < 5.0


async def test_the_started_server_leaves_its_startup_objects_out_of_full_collections(
    jp_serverapp: Any,
) -> None:
    extension = jp_serverapp.extension_manager.extension_points["jupyterlab_collab_exec"]
    assert gc.get_freeze_count() == 0
    try:
        await extension.app._start_jupyter_server_extension(jp_serverapp)
        # The server's modules, classes and settings, at least.
        assert gc.get_freeze_count() > 50_000
        started = time.process_time()
        gc.collect()
        print(f"A full collection after the freeze: {time.process_time() - started:.3f} s")
    finally:
        gc.unfreeze()
        await extension.app.loop_lag.stop()
