"""A large binary widget value with a real kernel: the doc names it by digest, a browser
fetches its bytes by REST, and they stay there for the frozen widget once the kernel is
gone. Malformed and unknown requests get a clear 4xx."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

from tornado.httpclient import HTTPClientError

from ..clients import wait_for
from ..conftest import OpenNotebookFactory
from .test_widgets import saved_widgets, views

# A value past the default threshold (16 KiB), as an Image's PNG is.
LARGE = bytes(range(256)) * 160


async def get_value(jp_fetch: Any, document_id: str, digest: str) -> tuple[int, bytes]:
    try:
        response = await jp_fetch(
            "api", "collab-exec", "widget-values", digest, params={"document_id": document_id}
        )
    except HTTPClientError as error:
        return error.code, error.response.body if error.response is not None else b""
    return response.code, response.body


async def test_a_large_value_is_fetched_by_digest_and_outlives_its_kernel(
    open_notebook: OpenNotebookFactory, jp_fetch: Any, jp_root_dir: Path
) -> None:
    image = f"from ipywidgets import Image\nimage = Image(value={LARGE!r})\nimage"
    async with open_notebook("large-image.ipynb", [image]) as notebook:
        client = notebook.client
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        [image_id] = views(client.cell("cell-0"))
        digest = hashlib.sha256(LARGE).hexdigest()
        assert client.widget_models()[image_id]["buffers"] == [
            {"path": ["value"], "encoding": "ref", "ref": f"sha256:{digest}", "size": len(LARGE)}
        ]
        code, body = await get_value(jp_fetch, notebook.document_id, digest)
        assert (code, body) == (200, LARGE)
        # The reference as the doc writes it names the value as well.
        code, body = await get_value(jp_fetch, notebook.document_id, f"sha256:{digest}")
        assert (code, body) == (200, LARGE)

        # The file holds the value in full.
        path = jp_root_dir / notebook.path
        await wait_for(lambda: image_id in saved_widgets(path).get("state", {}), what="the file")
        assert saved_widgets(path)["state"][image_id]["buffers"] == [
            {"path": ["value"], "encoding": "base64", "data": base64.b64encode(LARGE).decode()}
        ]

        await jp_fetch("api", "kernels", notebook.kernel_id, method="DELETE")
        await client.wait_until(
            lambda: client.widget_models()[image_id]["live"] is False, what="the image frozen"
        )
        assert client.widget_models()[image_id]["buffers"][0]["ref"] == f"sha256:{digest}"
        assert (await get_value(jp_fetch, notebook.document_id, digest)) == (200, LARGE)

        # Unknown and malformed requests.
        code, body = await get_value(jp_fetch, notebook.document_id, "0" * 64)
        assert code == 404
        assert b"No widget value" in body
        code, body = await get_value(jp_fetch, notebook.document_id, "not-a-digest")
        assert code == 400
        assert b"64 lowercase hexadecimal digits" in body
        code, body = await get_value(jp_fetch, "json:notebook:nothing-here", digest)
        assert code == 404
        assert b"Unknown document" in body
        code, body = await get_value(jp_fetch, "", digest)
        assert code == 400
        assert b"document_id" in body
