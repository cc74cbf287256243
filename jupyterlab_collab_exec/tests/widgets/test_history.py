"""What jupyter_server_ydoc's setting for squashing a room's history does to a widget room
(docs/ydoc-schema.md says not to use it): with `SQLiteYStore.squash_after_inactivity_of`,
pycrdt-store 0.1.5 deletes the history of a room inactive that long and keeps in its place
an empty update. It applies the old updates to the doc it squashes into only when a
compressor is configured, and jupyter_server_ydoc configures none.

This test shows the loss, so that the docs' warning stays true: when a release of
pycrdt-store squashes into the latest state, it fails, and the docs can recommend the
setting."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map

from ..clients import wait_for
from ..conftest import OpenNotebookFactory
from .test_widgets import views

INACTIVITY = 1


@pytest.fixture
def extra_server_config() -> dict[str, Any]:
    return {"SQLiteYStore": {"squash_after_inactivity_of": INACTIVITY}}


def stored(root: Path) -> tuple[int, float]:
    """How many updates the YStore holds, and when it got the latest."""
    with contextlib.closing(sqlite3.connect(root / ".jupyter_ystore.db", timeout=5)) as db:
        count, latest = db.execute("SELECT COUNT(*), MAX(timestamp) FROM yupdates").fetchone()
    return int(count), float(latest or 0.0)


def replayed(root: Path) -> Doc[Any]:
    """The doc that the YStore's history gives, as a room loading from it gets it."""
    with contextlib.closing(sqlite3.connect(root / ".jupyter_ystore.db", timeout=5)) as db:
        rows = db.execute("SELECT yupdate FROM yupdates ORDER BY timestamp").fetchall()
    doc: Doc[Any] = Doc()
    for (update,) in rows:
        doc.apply_update(bytes(update))
    return doc


async def test_squashing_an_inactive_widget_room_loses_its_history(
    open_notebook: OpenNotebookFactory, jp_root_dir: Path
) -> None:
    loop = "from ipywidgets import IntSlider\nslider = IntSlider(max=200)\ndisplay(slider)\n"
    loop += "import time\nfor i in range(200):\n    slider.value = i\n    time.sleep(0.005)"
    async with open_notebook("squash.ipynb", [loop, "1 + 1"]) as notebook:
        client = notebook.client
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        [slider_id] = views(client.cell("cell-0"))
        await client.wait_until(
            lambda: client.widget_models()[slider_id]["state"]["value"] == 199, what="199"
        )

        def stored_value() -> Any:
            models = replayed(jp_root_dir).get("collab_widgets", type=Map).get("models")
            return models[slider_id]["state"]["value"] if slider_id in (models or {}) else None

        # Before the squash, the history holds it all.
        await wait_for(lambda: stored_value() == 199, what="the YStore holding 199")
        before = stored(jp_root_dir)[0]
        # The room stays inactive past the setting; the next update squashes what was.
        await wait_for(
            lambda: time.time() - stored(jp_root_dir)[1] > INACTIVITY + 0.5,
            what="the room inactive",
        )
        [other] = await notebook.run("cell-1")
        await notebook.wait_statuses([other], ["ok"])
        await wait_for(lambda: stored(jp_root_dir)[0] < before / 2, what="the history squashed")
        # What the squash kept holds none of the widgets.
        assert stored_value() is None
        assert client.widget_models()[slider_id]["state"]["value"] == 199
