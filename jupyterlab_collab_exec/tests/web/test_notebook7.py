"""Notebook 7 serves the project's plugins and leaves out the two executors that it replaces,
without a browser: the page config of its pages, as the server renders them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# The executors that the project's plugin replaces (package.json, jupyterlab.disabledExtensions).
REPLACED_EXECUTORS = {
    "@jupyterlab/notebook-extension:cell-executor",
    "@jupyter/docprovider-extension:notebook-cell-executor",
}
PACKAGE = Path(__file__).resolve().parents[2]
LABEXTENSION = PACKAGE / "labextension"
CONFIG_DATA = re.compile(
    r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', re.DOTALL
)


@pytest.fixture
def extra_server_config() -> dict[str, Any]:
    return {
        "ServerApp": {"jpserver_extensions": {"notebook": True}},
        # The test's Jupyter paths are temporary: the built extension is added by path.
        "LabServerApp": {"extra_labextensions_path": [str(LABEXTENSION.parent)]},
    }


async def page_config(jp_fetch: Any, *path: str) -> dict[str, Any]:
    response = await jp_fetch(*path, method="GET")
    match = CONFIG_DATA.search(response.body.decode())
    assert match, f"no page config in /{'/'.join(path)}"
    return dict(json.loads(match.group(1)))


@pytest.mark.parametrize(
    "page", [("notebooks", "x.ipynb"), ("tree",), ("edit", "x.ipynb"), ("consoles", "x.ipynb")]
)
async def test_notebook_7_pages_load_the_plugins_without_the_replaced_executors(
    jp_fetch: Any, notebook_factory: Callable[[str, list[str]], str], page: tuple[str, ...]
) -> None:
    notebook_factory("x.ipynb", ["print(1)"])
    config = await page_config(jp_fetch, *page)
    assert config["appName"] == "Jupyter Notebook"
    federated = {extension["name"] for extension in config["federated_extensions"]}
    assert "jupyterlab-collab-exec" in federated
    assert set(config["disabledExtensions"]) >= REPLACED_EXECUTORS
