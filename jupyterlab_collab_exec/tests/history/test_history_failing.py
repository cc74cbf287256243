"""A run history that cannot be written leaves execution working and logs one clear error:
its folder is a file (which even root cannot write into), its database is read-only, or
its disk is full. A database that cannot be opened answers reads with 503."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from jupyterlab_collab_exec.history import store
from jupyterlab_collab_exec.history.store import RunStore

from ..clients import wait_for
from ..conftest import OpenNotebookFactory


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def app_log(jp_serverapp: Any) -> Iterator[Records]:
    """The extension's own log, as the server configured it (it does not reach pytest's)."""
    records = Records()
    logger = logging.getLogger("CollabExecApp")
    logger.addHandler(records)
    yield records
    logger.removeHandler(records)


@pytest.fixture
def extra_server_config(request: pytest.FixtureRequest, jp_root_dir: Path) -> dict[str, Any]:
    """Where the history is: by default beside the YStore; `folder-is-a-file` where no
    database can be made; `read-only` in a database made here, before the server opens it."""
    where = getattr(request, "param", "default")
    if where == "folder-is-a-file":
        blocker = jp_root_dir / "not-a-folder"
        blocker.write_text("a file where the history's folder should be")
        return {"CollabExecApp": {"history_db_path": str(blocker / "history.db")}}
    if where == "read-only":
        path = jp_root_dir / "read-only-history.db"
        RunStore(path).close()
        return {"CollabExecApp": {"history_db_path": str(path)}}
    return {}


@pytest.mark.parametrize("extra_server_config", ["folder-is-a-file"], indirect=True)
async def test_execution_goes_on_and_one_error_is_logged(
    open_notebook: OpenNotebookFactory, jp_fetch: Any, jp_serverapp: Any, app_log: Records
) -> None:
    def errors() -> list[str]:
        return [
            record.getMessage()
            for record in app_log.records
            if record.levelno >= logging.ERROR and "Run history" in record.getMessage()
        ]

    async with open_notebook("history-failing.ipynb", ["print('still runs')"]) as notebook:
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        await wait_for(lambda: bool(errors()), what="the history's error in the log")
        # Later runs still run, and add no error to the log.
        for _ in range(3):
            [run] = await notebook.run("cell-0")
            await notebook.wait_statuses([run], ["ok"])
        with pytest.raises(HTTPClientError) as raised:
            await jp_fetch(
                "api", "collab-exec", "history", params={"document_id": notebook.document_id}
            )
        assert raised.value.code == 503
        assert raised.value.response is not None
        assert "run history cannot be read" in json.loads(raised.value.response.body)["message"]
        # Once the history tried to write the later runs too: still one error.
        extension = jp_serverapp.extension_manager.extension_points["jupyterlab_collab_exec"]
        await extension.app.history.flushed()
    assert len(errors()) == 1, errors()
    assert "Execution goes on" in errors()[0]


def history_errors(app_log: Records) -> list[str]:
    return [
        record.getMessage()
        for record in app_log.records
        if record.levelno >= logging.ERROR and "Run history" in record.getMessage()
    ]


async def runs_listed(jp_fetch: Any, document_id: str) -> list[dict[str, Any]]:
    answer = await jp_fetch("api", "collab-exec", "history", params={"document_id": document_id})
    return list(json.loads(answer.body)["runs"])


# Pages of the database (4 KiB each): its tables and indexes, a small run, and about one
# run of 30 KB of compressed output.
FULL_AT_PAGES = 20


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own "database or disk is full" once the database reaches FULL_AT_PAGES,
    as on a full disk (SQLite's max_page_count)."""
    connect = store.connect

    def connect_to_a_small_disk(path: Path) -> sqlite3.Connection:
        db = connect(path)
        db.execute(f"PRAGMA max_page_count = {FULL_AT_PAGES}")
        return db

    monkeypatch.setattr(store, "connect", connect_to_a_small_disk)


@pytest.mark.usefixtures("full_disk")
async def test_a_full_disk_keeps_what_was_written_and_execution_goes_on(
    open_notebook: OpenNotebookFactory, jp_fetch: Any, jp_serverapp: Any, app_log: Records
) -> None:
    # Random bytes in hex compress to about half: each run adds about 30 KB.
    source = "import os\nprint(os.urandom(30000).hex())"
    extension = jp_serverapp.extension_manager.extension_points["jupyterlab_collab_exec"]
    async with open_notebook("history-full.ipynb", ["print('small')", source]) as notebook:
        [small] = await notebook.run("cell-0")
        await notebook.wait_statuses([small], ["ok"])
        await extension.app.history.flushed()
        assert [run["run_id"] for run in await runs_listed(jp_fetch, notebook.document_id)] == [
            small
        ]
        for _ in range(3):
            [large] = await notebook.run("cell-1")
            await notebook.wait_statuses([large], ["ok"])
            await extension.app.history.flushed()
        await wait_for(lambda: bool(history_errors(app_log)), what="the disk-full error")
        # Execution went on: the last large run's output is in the doc.
        outputs = notebook.client.notebook.ydoc.get_update()
        assert len(outputs) > 60000
        # The runs written before the disk filled are still read.
        listed = await runs_listed(jp_fetch, notebook.document_id)
        assert small in [run["run_id"] for run in listed]
        assert len(listed) < 4
    [error] = history_errors(app_log)
    assert "database or disk is full" in error
    assert "Execution goes on" in error


@pytest.fixture
def read_only_connect(extra_server_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite opens the history's database read-only, as a file without write permission
    (which root would ignore)."""

    def connect_read_only(path: Path) -> sqlite3.Connection:
        return sqlite3.connect(
            f"{path.as_uri()}?mode=ro", uri=True, check_same_thread=False, isolation_level=None
        )

    monkeypatch.setattr(store, "connect", connect_read_only)


@pytest.mark.parametrize("extra_server_config", ["read-only"], indirect=True)
@pytest.mark.usefixtures("read_only_connect")
async def test_a_read_only_database_logs_one_error_and_execution_goes_on(
    open_notebook: OpenNotebookFactory,
    jp_serverapp: Any,
    app_log: Records,
) -> None:
    extension = jp_serverapp.extension_manager.extension_points["jupyterlab_collab_exec"]
    async with open_notebook("history-read-only.ipynb", ["print('still runs')"]) as notebook:
        for _ in range(3):
            [run] = await notebook.run("cell-0")
            await notebook.wait_statuses([run], ["ok"])
            await extension.app.history.flushed()
    [error] = history_errors(app_log)
    assert "readonly database" in error
    assert "Execution goes on" in error
