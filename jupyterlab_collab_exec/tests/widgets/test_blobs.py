"""Large binary widget values kept out of the doc's history (widgets/blobs.py): the doc
names them by digest, their bytes are on disk, the file holds them in full, and the
history grows with the state, not with the frames."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from jupyterlab_collab_exec.kernel.events import KernelStatus
from jupyterlab_collab_exec.trust.digests import json_digest, widget_entry_digest
from jupyterlab_collab_exec.widgets.blobs import BufferForm, WidgetBlobStore, referenced_digest

from ..scripted import DOCUMENT
from .comms import CONTROLS, models, opened, saved_state, updated, view, widget_state_schema

THRESHOLD = 1024
IMAGE = {"_model_name": "ImageModel", "_model_module": CONTROLS, "_model_module_version": "2"}


def frame(step: int, size: int = 36 * 1024) -> bytes:
    """A PNG-sized value that differs in every frame."""
    return hashlib.sha256(str(step).encode()).digest() * (size // 32)


def image_update(step: int) -> Any:
    message = updated("image", {})
    message.data["buffer_paths"] = [["value"]]
    return type(message)(
        msg_type=message.msg_type,
        comm_id=message.comm_id,
        data=message.data,
        buffers=(frame(step),),
        session=message.session,
        parent_id=message.parent_id,
    )


@pytest.fixture
def store(tmp_path: Path) -> WidgetBlobStore:
    return WidgetBlobStore(tmp_path / "blobs", logging.getLogger("test_blobs"), grace=0.0)


def history_bytes(core: Any) -> list[int]:
    """The sizes of the doc's updates from now on: what a YStore would append."""
    sizes: list[int] = []
    core.notebook.ydoc.observe(lambda event: sizes.append(len(event.update)))
    return sizes


async def test_a_large_value_is_named_by_digest_in_the_doc_and_kept_whole_in_the_file(
    core_factory: Any, store: WidgetBlobStore
) -> None:
    core = core_factory("Image(value=png)", blobs=store, blob_threshold=THRESHOLD)
    await core.submit("cell-0")
    small = {"_model_name": "ImageModel", "_model_module": CONTROLS, "_model_module_version": "2"}
    await core.play(
        opened("image", IMAGE, buffers={"value": frame(0)}),
        opened("icon", small, buffers={"value": b"\x89PNG"}),
        view("image"),
        view("icon"),
        *core.run_to_end("msg-1"),
    )
    digest = hashlib.sha256(frame(0)).hexdigest()
    entry = models(core)["image"]
    assert entry["buffers"] == [
        {"path": ["value"], "encoding": "ref", "ref": f"sha256:{digest}", "size": len(frame(0))}
    ]
    assert store.read(DOCUMENT, digest) == frame(0)
    # Small values stay inline.
    assert models(core)["icon"]["buffers"][0]["encoding"] == "base64"
    # The file is a standard notebook: every value in full.
    saved = saved_state(core)
    assert saved["state"]["image"]["buffers"] == [
        {"path": ["value"], "encoding": "base64", "data": base64.b64encode(frame(0)).decode()}
    ]
    jsonschema.validate(saved, widget_state_schema())
    # The server confirms the entry as a browser digests it from the doc.
    browser_digest = widget_entry_digest(
        entry["model_name"],
        entry["model_module"],
        entry["model_module_version"],
        {key: json_digest(value) for key, value in entry["state"].items()},
        [
            (b["path"], b["encoding"], json_digest({"ref": b["ref"], "size": b["size"]}))
            for b in entry["buffers"]
        ],
    )
    assert browser_digest is not None
    assert core.trust.model_confirmed(DOCUMENT, "image", browser_digest)


async def test_300_frames_grow_the_history_by_the_state_not_the_frames(
    core_factory: Any, store: WidgetBlobStore
) -> None:
    core = core_factory(
        "for png in frames: image.value = png", blobs=store, blob_threshold=THRESHOLD
    )
    await core.submit("cell-0")
    await core.play(
        KernelStatus("busy", "msg-1", "execute_request", "t0"),
        opened("image", IMAGE, buffers={"value": frame(0)}),
        view("image"),
    )
    sizes = history_bytes(core)
    # Each frame is written on its own, as frames 20 ms apart are with the default flush.
    for step in range(1, 301):
        await core.play(image_update(step))
    await core.play(*core.run_to_end("msg-1"))
    assert len(sizes) >= 300
    # One frame goes into the file's saved state (the metadata); the rest are digests.
    raw = 300 * len(frame(0))
    assert sum(sizes) < len(base64.b64encode(frame(0))) + 300 * 400, (sum(sizes), raw)
    digest = hashlib.sha256(frame(300)).hexdigest()
    assert models(core)["image"]["buffers"][0]["ref"] == f"sha256:{digest}"
    # Only the value that the doc names is left on disk (no grace in this test).
    folder = next((store_root(store)).iterdir())
    assert [path.name for path in folder.iterdir()] == [digest]


def store_root(store: WidgetBlobStore) -> Path:
    root: Path = store._root
    return root


def test_a_blob_is_collected_only_past_its_grace_and_when_nothing_names_it(
    tmp_path: Path,
) -> None:
    store = WidgetBlobStore(tmp_path, logging.getLogger("test_blobs"), grace=60.0)
    old, current = b"o" * 32, b"c" * 32
    old_digest = hashlib.sha256(old).hexdigest()
    current_digest = hashlib.sha256(current).hexdigest()
    store.keep(DOCUMENT, old, old_digest)
    store.keep(DOCUMENT, current, current_digest)
    assert store.collect(DOCUMENT, {current_digest}) == 0
    (path,) = [p for p in next(tmp_path.iterdir()).iterdir() if p.name == old_digest]
    long_ago = path.stat().st_mtime - 120
    os.utime(path, (long_ago, long_ago))
    assert store.collect(DOCUMENT, {current_digest}) == 1
    assert store.read(DOCUMENT, old_digest) is None
    assert store.read(DOCUMENT, current_digest) == current
    # Another document has its own folder; a malformed digest reads nothing.
    assert store.read("json:notebook:other", current_digest) is None
    assert store.read(DOCUMENT, "../" + current_digest) is None


def test_the_form_of_a_value_depends_on_its_size_only() -> None:
    form = BufferForm(4)
    assert form.of(b"abc") == {"encoding": "base64", "data": "YWJj"}
    digest = hashlib.sha256(b"abcd").hexdigest()
    assert form.of(b"abcd") == {"encoding": "ref", "ref": f"sha256:{digest}", "size": 4}
    assert BufferForm(None).of(b"abcd") == {"encoding": "base64", "data": "YWJjZA=="}


def test_the_digest_of_a_referenced_value_is_read_from_both_forms() -> None:
    digest = hashlib.sha256(b"abcd").hexdigest()
    assert referenced_digest({"encoding": "ref", "ref": f"sha256:{digest}", "size": 4}) == digest
    # As the doc held references before the "ref" form: read, never written.
    assert referenced_digest({"encoding": "sha256", "data": digest}) == digest
    for malformed in (
        {"encoding": "ref", "ref": digest},
        {"encoding": "ref", "ref": "sha256:../etc"},
        {"encoding": "ref"},
        {"encoding": "base64", "data": "YWJj"},
    ):
        assert referenced_digest(malformed) is None
