"""Large binary values of widget models, kept out of the docs' history.

A room's YStore keeps every update of its doc for good. An `Image` widget that a loop
updates 50 times a second would add its whole PNG to that history on every write, so a
binary value of at least `blob_threshold` bytes goes into the doc as a reference only
(`{"encoding": "ref", "ref": "sha256:<hex>", "size": <bytes>}`), and its bytes into a file
named by that digest, in a folder per document beside the YStore. Browsers fetch it by
REST. The notebook file keeps every value in full (base64), as the widget-state format
says.

A file that no entry of its document refers to any more is deleted once it is older than
`grace` seconds: a browser may still be fetching what the doc named a moment ago.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REF_ENCODING = "ref"
# A reference names the bytes by their SHA-256, in lowercase hex.
REF_SCHEME = "sha256:"
BASE64_ENCODING = "base64"
# How references were written before the contract named the "ref" form: read, never written.
LEGACY_ENCODING = "sha256"
DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")

# How long a blob that nothing refers to stays, for the browsers fetching it.
DEFAULT_GRACE = 10.0


@dataclass(frozen=True)
class BufferForm:
    """How a binary value is written into the doc: inline as base64, or by its SHA-256
    when it is at least `threshold` bytes (never, for None)."""

    threshold: int | None

    def of(self, data: bytes) -> dict[str, Any]:
        """The value in the doc, without its path: its `encoding`, and `data` (base64) or
        `ref` and `size`."""
        if self.threshold is not None and len(data) >= self.threshold:
            digest = hashlib.sha256(data).hexdigest()
            return {"encoding": REF_ENCODING, "ref": REF_SCHEME + digest, "size": len(data)}
        return {"encoding": BASE64_ENCODING, "data": base64.b64encode(data).decode()}


def referenced_digest(buffer: Mapping[str, Any]) -> str | None:
    """The digest of the blob that a buffer of the doc refers to, or None for an inline
    buffer or a malformed one."""
    if buffer.get("encoding") == REF_ENCODING:
        ref = buffer.get("ref")
        digest = ref.removeprefix(REF_SCHEME) if isinstance(ref, str) else ""
        if not (isinstance(ref, str) and ref.startswith(REF_SCHEME)):
            return None
    elif buffer.get("encoding") == LEGACY_ENCODING:
        digest = str(buffer.get("data", ""))
    else:
        return None
    return digest if DIGEST_PATTERN.match(digest) else None


def digested_payload(buffer: Mapping[str, Any]) -> Any:
    """What the entry digest of trust covers of a buffer (trust/digests.py): the base64
    text, or the reference with its size."""
    if buffer.get("encoding") == REF_ENCODING:
        return {"ref": buffer.get("ref"), "size": buffer.get("size")}
    return buffer.get("data")


# Every binary value inline: the doc of a server without a blob store.
INLINE = BufferForm(None)


class WidgetBlobStore:
    """The blob files, content-addressed, in a folder per document."""

    def __init__(self, root: Path, log: logging.Logger, grace: float = DEFAULT_GRACE) -> None:
        self._root = root
        self._log = log
        self._grace = grace

    def _folder(self, document_id: str) -> Path:
        return self._root / hashlib.sha256(document_id.encode()).hexdigest()[:32]

    def keep(self, document_id: str, data: bytes, digest: str) -> None:
        """Have the bytes of `digest` on disk for the document."""
        folder = self._folder(document_id)
        path = folder / digest
        try:
            if not path.exists():
                folder.mkdir(parents=True, exist_ok=True)
                partial = folder / f".{digest}.{os.getpid()}.partial"
                partial.write_bytes(data)
                os.replace(partial, path)
            else:
                # Referred to again: its grace period starts afresh.
                os.utime(path)
        except OSError as error:
            self._log.warning("Could not keep a widget value of %s: %s", document_id, error)

    def read(self, document_id: str, digest: str) -> bytes | None:
        """The bytes of `digest` for the document, or None when there are none."""
        if not DIGEST_PATTERN.match(digest):
            return None
        try:
            return (self._folder(document_id) / digest).read_bytes()
        except OSError:
            return None

    def collect(self, document_id: str, referenced: set[str]) -> int:
        """Delete the document's files that `referenced` does not name and that are older
        than the grace period; returns how many."""
        folder = self._folder(document_id)
        if not folder.is_dir():
            return 0
        deadline = time.time() - self._grace
        deleted = 0
        for path in folder.iterdir():
            name = path.name
            if name in referenced or not (DIGEST_PATTERN.match(name) or name.endswith(".partial")):
                continue
            try:
                if path.stat().st_mtime > deadline:
                    continue
                path.unlink()
            except OSError:
                continue
            deleted += 1
        return deleted
