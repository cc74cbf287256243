"""A run history that cannot be written (its folder is a file, which even root cannot
write into) leaves execution working, logs one clear error, and answers reads with 503."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

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
def extra_server_config(jp_root_dir: Path) -> dict[str, Any]:
    blocker = jp_root_dir / "not-a-folder"
    blocker.write_text("a file where the history's folder should be")
    return {"CollabExecApp": {"history_db_path": str(blocker / "history.db")}}


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
