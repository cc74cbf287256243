"""Trust: the server confirms, over REST, that what a browser holds is exactly what it wrote.

Cell outputs (genuine, replaced, appended, reordered), widget models and the saved widget
state, for live and retired kernels; the endpoint's checks and its authorization; and the
digests that browsers compute, which must agree with the server's (fixtures/trust).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Map

from jupyterlab_collab_exec.trust.digests import json_digest, output_digest
from jupyterlab_collab_exec.widgets.blobs import BufferForm
from jupyterlab_collab_exec.widgets.model import WidgetModel

from ..clients import wait_for
from ..conftest import OpenNotebookFactory, PostJson
from ..reliability.world import ServerDocs, decode_state_vector
from ..widgets.comms import doc_entry_digest
from ..widgets.test_widgets import model_of

FIXTURES = Path(__file__).parents[1] / "fixtures" / "trust" / "digests.json"
RICH = (
    "from IPython.display import HTML, Markdown, display\n"
    "display(HTML('<b>genuine</b>'))\n"
    "print('between', flush=True)\n"
    "display(Markdown('*also genuine*'))"
)
SLIDER = (
    "from ipywidgets import HTML, IntSlider\n"
    "slider = IntSlider(value=7)\n"
    "note = HTML('ok')\n"
    "display(slider, note)"
)
FORGED_HTML = {
    "output_type": "display_data",
    "data": {"text/html": "<img src=x onerror='window.pwned=1'>", "text/plain": "x"},
    "metadata": {},
}


def digests(outputs: list[dict[str, Any]]) -> list[str]:
    found = [output_digest(output) for output in outputs]
    assert all(digest is not None for digest in found)
    return [digest for digest in found if digest is not None]


async def ask(post_json: PostJson, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return await post_json("api", "collab-exec", "trust", body=body)


async def verdict(post_json: PostJson, document_id: str, cell_id: str, outputs: Any) -> Any:
    code, answer = await ask(
        post_json,
        {"document_id": document_id, "cells": [{"cell_id": cell_id, "outputs": digests(outputs)}]},
    )
    assert code == 200, answer
    return answer["cells"][cell_id]


def test_browsers_and_the_server_compute_the_same_digests() -> None:
    """The expected digests were computed with the server's functions when the definitions
    (docs/security.md) were written; jest checks the browser's against the same file."""
    fixture = json.loads(FIXTURES.read_text())
    for case in fixture["values"]:
        assert json_digest(case["value"]) == case["digest"], case["value"]
    for case in fixture["outputs"]:
        assert output_digest(case["output"]) == case["digest"], case["output"]
    for case in fixture["widget_entries"]:
        entry, server = case["entry"], case.get("server", {})
        # A value held by reference is given to the server in full, as the kernel sent it.
        values = server.get("values", {})
        buffers = [
            {"path": b["path"], "encoding": "base64", "data": values[b["ref"]]}
            if b["encoding"] == "ref"
            else b
            for b in entry.get("buffers", [])
        ]
        model = WidgetModel.from_state_entry("model", {**entry, "buffers": buffers})
        assert model is not None
        model.kernel_time = entry.get("kernel_time")
        form = BufferForm(server.get("blob_threshold"))
        assert model.doc_buffers(form) == entry.get("buffers", [])
        assert model.entry_digest(form) == case["digest"], entry


async def test_the_trust_endpoint_tells_genuine_outputs_from_changed_ones(
    open_notebook: OpenNotebookFactory, post_json: PostJson
) -> None:
    async with open_notebook("trust.ipynb", [RICH, "1 + 1"]) as notebook:
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        outputs = notebook.client.cell("cell-0")["outputs"]
        assert [output["output_type"] for output in outputs] == [
            "display_data",
            "stream",
            "display_data",
        ]
        document_id = notebook.document_id

        assert await verdict(post_json, document_id, "cell-0", outputs) == "trusted"
        # A stream's text renders as text either way: it is not part of the digest.
        retyped = [outputs[0], {**outputs[1], "text": "other\n"}, outputs[2]]
        assert await verdict(post_json, document_id, "cell-0", retyped) == "trusted"

        replaced = [FORGED_HTML, outputs[1], outputs[2]]
        assert await verdict(post_json, document_id, "cell-0", replaced) == "untrusted"
        changed = [{**outputs[0], "metadata": {"isolated": False}}, *outputs[1:]]
        assert await verdict(post_json, document_id, "cell-0", changed) == "untrusted"
        appended = [*outputs, FORGED_HTML]
        assert await verdict(post_json, document_id, "cell-0", appended) == "untrusted"
        reordered = [outputs[2], outputs[1], outputs[0]]
        assert await verdict(post_json, document_id, "cell-0", reordered) == "untrusted"
        # Outputs of another cell are not this one's.
        assert await verdict(post_json, document_id, "cell-1", outputs) == "unknown"

        # Running the cell again clears it: what it showed before no longer counts.
        [again] = await notebook.run({"cell_id": "cell-0", "source": "print('only this')"})
        await notebook.wait_statuses([again], ["ok"])
        assert await verdict(post_json, document_id, "cell-0", outputs) == "untrusted"
        rerun = notebook.client.cell("cell-0")["outputs"]
        assert await verdict(post_json, document_id, "cell-0", rerun) == "trusted"


async def test_the_trust_endpoint_checks_its_body(
    open_notebook: OpenNotebookFactory, post_json: PostJson
) -> None:
    async with open_notebook("trust-body.ipynb", ["1"]) as notebook:
        document_id = notebook.document_id
        digest = "a" * 64
        for body in (
            {},
            {"document_id": ""},
            {"document_id": document_id, "cells": {}},
            {"document_id": document_id, "cells": [{"cell_id": "cell-0"}]},
            {"document_id": document_id, "cells": [{"cell_id": "cell-0", "outputs": ["nothex"]}]},
            {"document_id": document_id, "cells": [{"cell_id": "", "outputs": []}]},
            {"document_id": document_id, "widget_models": ["m"]},
            {"document_id": document_id, "widget_models": {"m": digest.upper()}},
            {"document_id": document_id, "widget_state": 3},
            {"document_id": document_id, "cells": [{"cell_id": "c", "outputs": [digest]}] * 10_001},
        ):
            code, answer = await ask(post_json, body)
            assert code == 400, (body if len(json.dumps(body)) < 300 else "too many", answer)
            assert answer["message"]
        code, answer = await ask(post_json, {"document_id": "json:notebook:no-such-file"})
        assert code == 404, answer
        code, answer = await ask(post_json, {"document_id": document_id})
        assert (code, answer) == (200, {"cells": {}, "widget_models": {}, "widget_state": None})


async def test_widget_models_and_saved_state_are_confirmed_as_the_server_wrote_them(
    open_notebook: OpenNotebookFactory, post_json: PostJson, jp_fetch: Any, jp_serverapp: Any
) -> None:
    async with open_notebook("trust-widgets.ipynb", [SLIDER]) as notebook:
        client = notebook.client
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        await client.wait_until(
            lambda: "widgets" in client.metadata(), what="the saved widget state"
        )

        def entry_digests() -> dict[str, str]:
            found = {}
            for model_id, entry in client.widget_models().items():
                digest = doc_entry_digest(model_id, entry)
                assert digest is not None
                found[model_id] = digest
            return found

        async def confirmed(models: dict[str, str], state: Any) -> dict[str, Any]:
            code, answer = await ask(
                post_json,
                {
                    "document_id": notebook.document_id,
                    "widget_models": models,
                    "widget_state": json_digest(state),
                },
            )
            assert code == 200, answer
            return answer

        genuine = entry_digests()
        answer = await confirmed(genuine, client.metadata()["widgets"])
        assert answer["widget_models"] == dict.fromkeys(genuine, True)
        assert answer["widget_state"] is True

        html_id = model_of(client.widget_models(), "HTMLModel")
        forged_entry = {
            **client.widget_models()[html_id],
            "state": {
                **client.widget_models()[html_id]["state"],
                "value": "<img src=x onerror=alert(1)>",
            },
        }
        forged_digest = doc_entry_digest(html_id, forged_entry)
        assert forged_digest is not None
        forged_state = json.loads(json.dumps(client.metadata()["widgets"]))
        state_mime = "application/vnd.jupyter.widget-state+json"
        forged_state[state_mime]["state"][html_id]["state"]["value"] = "<img src=x>"
        answer = await confirmed({html_id: forged_digest}, forged_state)
        assert answer == {"cells": {}, "widget_models": {html_id: False}, "widget_state": False}

        # The kernel is shut down for good: the frozen models are still confirmed, and what a
        # client writes into them is put back.
        await jp_fetch("api", "kernels", notebook.kernel_id, method="DELETE")
        await client.wait_until(
            lambda: all(not entry["live"] for entry in client.widget_models().values()),
            what="every model frozen",
        )
        frozen = entry_digests()
        answer = await confirmed(frozen, client.metadata()["widgets"])
        assert answer["widget_models"] == dict.fromkeys(frozen, True)
        assert answer["widget_state"] is True

        # On the server itself: a client's replica may show an update and its repair in
        # either order for a moment.
        server_doc = (await ServerDocs(jp_serverapp, []).notebook(notebook.document_id)).ydoc

        def server_digests() -> dict[str, str | None]:
            models = server_doc.get("collab_widgets", type=Map)["models"]
            return {
                model_id: digest
                for model_id, entry in models.items()
                if (digest := doc_entry_digest(model_id, entry.to_py())) is not None
            }

        assert server_digests() == frozen
        async with notebook.join() as mallory:
            models = mallory.notebook.ydoc.get("collab_widgets", type=Map)["models"]
            with mallory.notebook.ydoc.transaction():
                models[html_id]["state"]["value"] = "<img src=x onerror=alert(1)>"
                models["forged"] = Map({"model_name": "HTMLModel", "state": Map({"value": "x"})})
            made = decode_state_vector(mallory.notebook.ydoc.get_state())
            mallory_id = mallory.notebook.ydoc.client_id

            def arrived() -> bool:
                seen = decode_state_vector(server_doc.get_state()).get(mallory_id, 0)
                return bool(seen >= made[mallory_id])

            await wait_for(arrived, what="the tampering at the server")
            await wait_for(
                lambda: server_digests() == frozen,
                timeout=1.0,
                what="the retired kernel's models put back within 1 s",
            )


async def test_a_buffer_is_part_of_what_is_confirmed(
    open_notebook: OpenNotebookFactory, post_json: PostJson
) -> None:
    image = (
        "from ipywidgets import Image\n"
        f"image = Image(value={bytes(range(64))!r}, format='png')\n"
        "image"
    )
    async with open_notebook("trust-image.ipynb", [image]) as notebook:
        client = notebook.client
        [run] = await notebook.run("cell-0")
        await notebook.wait_statuses([run], ["ok"])
        image_id = model_of(client.widget_models(), "ImageModel")
        entry = client.widget_models()[image_id]
        assert entry["buffers"][0]["path"] == ["value"]
        swapped = {
            **entry,
            "buffers": [{**entry["buffers"][0], "data": base64.b64encode(b"other").decode()}],
        }
        code, answer = await ask(
            post_json,
            {
                "document_id": notebook.document_id,
                "widget_models": {image_id: doc_entry_digest(image_id, entry)},
            },
        )
        assert answer["widget_models"] == {image_id: True}, (code, answer)
        code, answer = await ask(
            post_json,
            {
                "document_id": notebook.document_id,
                "widget_models": {image_id: doc_entry_digest(image_id, swapped)},
            },
        )
        assert answer["widget_models"] == {image_id: False}, (code, answer)


async def test_a_saved_widget_state_from_the_file_is_confirmed_until_a_client_changes_it(
    jp_root_dir: Path,
    document_id_for: Any,
    join_room: Any,
    post_json: PostJson,
) -> None:
    """A notebook saved with its widget state elsewhere (nbclient, say), never run here."""
    state_mime = "application/vnd.jupyter.widget-state+json"
    saved = {
        state_mime: {
            "version_major": 2,
            "version_minor": 0,
            "state": {
                "m1": {
                    "model_name": "IntSliderModel",
                    "model_module": "@jupyter-widgets/controls",
                    "model_module_version": "2.0.0",
                    "state": {"value": 7},
                }
            },
        }
    }
    notebook = nbformat.v4.new_notebook(metadata={"widgets": saved})
    notebook.cells.append(nbformat.v4.new_code_cell("1", id="cell-0"))
    nbformat.write(notebook, jp_root_dir / "saved.ipynb")
    document_id, session_id = await document_id_for("saved.ipynb")
    async with join_room(document_id, session_id) as client:
        await client.wait_until(lambda: "widgets" in client.metadata(), what="the metadata")
        genuine = json_digest(client.metadata()["widgets"])

        async def confirmed(digest: str | None) -> Any:
            code, answer = await ask(
                post_json, {"document_id": document_id, "widget_state": digest}
            )
            assert code == 200, answer
            return answer["widget_state"]

        assert await confirmed(genuine) is True
        metadata = client.notebook.ydoc.get("meta", type=Map)["metadata"]
        forged = json.loads(json.dumps(saved))
        forged[state_mime]["state"]["m1"]["state"]["_esm"] = "export default {}"
        with client.notebook.ydoc.transaction():
            metadata["widgets"] = forged
        assert await confirmed(json_digest(forged)) is False
        # Another browser joining does not make the doc's state what the file brought.
        async with join_room(document_id, session_id) as other:
            await other.wait_until(
                lambda: other.metadata().get("widgets") == forged, what="the forged state"
            )
            assert await confirmed(json_digest(forged)) is False
            assert await confirmed(genuine) is True


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
async def test_the_outputs_of_a_signed_file_are_confirmed_until_a_client_changes_them(
    jp_root_dir: Path,
    jp_serverapp: Any,
    document_id_for: Any,
    join_room: Any,
    post_json: PostJson,
    signed: bool,
) -> None:
    """A notebook whose signature JupyterLab trusts (the notary's), never run here: its
    cells' outputs as the file brought them are confirmed; an unsigned one's are unknown."""
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("HTML('<b>saved</b>')", id="cell-0")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<b>saved</b>", "text/plain": "saved"}
        )
    ]
    notebook.cells.append(cell)
    if signed:
        jp_serverapp.contents_manager.notary.sign(notebook)
    nbformat.write(notebook, jp_root_dir / f"file-{signed}.ipynb")
    document_id, session_id = await document_id_for(f"file-{signed}.ipynb")
    async with join_room(document_id, session_id) as client:
        outputs = client.cell("cell-0")["outputs"]
        assert await verdict(post_json, document_id, "cell-0", outputs) == (
            "trusted" if signed else "unknown"
        )
        forged = [FORGED_HTML]
        assert await verdict(post_json, document_id, "cell-0", forged) == (
            "untrusted" if signed else "unknown"
        )
