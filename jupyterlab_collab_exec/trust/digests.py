"""Digests of what the server writes into a notebook's Y.Doc, as a browser computes them.

A digest is the lowercase hex SHA-256 of a value's RFC 8785 canonical JSON. Integers past
what a double holds exactly are taken as the double a browser reads from the doc. A value
that has no canonical JSON (NaN, say) has no digest: nothing confirms it.

src/trust/digests.ts computes the same digests in the browser; docs/security.md defines them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

# The largest integer a double holds exactly: what a browser reads as it was written.
_SAFE_INTEGER = 2**53 - 1


def _as_read(value: Any) -> Any:
    """The value as a browser reads it from the doc: large integers become doubles."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if -_SAFE_INTEGER <= value <= _SAFE_INTEGER else float(value)
    if isinstance(value, Mapping):
        return {key: _as_read(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_as_read(item) for item in value]
    return value


def json_digest(value: Any) -> str | None:
    """The digest of a JSON value, or None when it has no canonical form."""
    try:
        canonical = rfc8785.dumps(_as_read(value))
    except (rfc8785.CanonicalizationError, TypeError, UnicodeError):
        return None
    return hashlib.sha256(canonical).hexdigest()


def output_digest(output: Mapping[str, Any]) -> str | None:
    """The digest of one nbformat output. A stream's text is left out: it renders as text
    whether its cell is trusted or not, and it grows with every write."""
    if output.get("output_type") == "stream":
        return json_digest({"output_type": "stream", "name": output.get("name")})
    return json_digest({key: value for key, value in output.items() if key != "transient"})


def widget_entry_digest(
    model_name: str,
    model_module: str,
    model_module_version: str,
    state_digests: Mapping[str, str | None],
    buffer_digests: Iterable[tuple[list[str | int], str, str | None]],
    kernel_time: int | None = None,
) -> str | None:
    """The digest of one `collab_widgets.models` entry, from the digest of each state value
    and of each buffer's payload (path, encoding, digest), so that a write that changes
    a few keys digests only those, and the entry's `kernel_time` when it has one. None when
    a part has no digest."""
    if any(digest is None for digest in state_digests.values()):
        return None
    buffers = []
    for path, encoding, digest in buffers_in_order(buffer_digests):
        if digest is None:
            return None
        buffers.append({"path": path, "encoding": encoding, "data": digest})
    entry: dict[str, Any] = {
        "model_name": model_name,
        "model_module": model_module,
        "model_module_version": model_module_version,
        "state": dict(state_digests),
        "buffers": buffers,
    }
    if kernel_time is not None:
        entry["kernel_time"] = kernel_time
    return json_digest(entry)


def buffers_in_order(
    buffers: Iterable[tuple[list[str | int], str, str | None]],
) -> list[tuple[list[str | int], str, str | None]]:
    """Buffers in one order whatever order they were written in: by their path's JSON."""
    return sorted(buffers, key=lambda buffer: rfc8785.dumps(_as_read(buffer[0])))
