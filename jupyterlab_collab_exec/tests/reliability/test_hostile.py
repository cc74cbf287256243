"""Hostile input: fuzzed bodies on every mutating endpoint, and a client tampering with
`collab_exec`, against a real server, kernel and rooms.

Every fuzzed body is invalid in at least one way, or names something that does not exist,
so the contract answers 4xx with a message, and nothing changes: neither the live documents
on the server nor the service's work. The ids in the bodies mix real ones (documents, the
kernel, cells, requests, a pending input) with junk, so that a body gets as far into the
server as its flaw allows.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jupyter_server.utils import url_path_join
from pycrdt import Map

from ..clients import RoomClient, wait_for
from ..conftest import all_cells_idle, answer, statuses
from .conftest import OpenFuzzWorld
from .tally import Tally, count
from .world import QUIET_SERVER, Known, ServerDocs, decode_state_vector, differences, write_notebook

MB = 1024 * 1024
HUGE = 10 * MB
ENDPOINTS = ("execute", "cancel", "input")

# Examples per endpoint: about 120 under `make test`, 3,400 (over 10,000 in all) in the soak.
EXAMPLES = count(120, 3400)


# Strategies: junk values


SPECIAL_TEXT = [
    "",
    " ",
    "\x00",
    "\u202e\u2066evil\u2069",
    "\u200f",
    "\ud800",
    "\udfff",
    "a\ud83d",
    "🐍🔥👩‍👩‍👧",
    "\ufeff",
    "null",
    "%s%d%n%%",
    "\\",
    '"',
    "../../etc/passwd",
    "json:notebook:",
    "json:notebook:%00",
    "\r\n",
    "\u0000\u0001\u001f\u007f",
]


def texts(*, min_size: int = 0, large: bool = False) -> st.SearchStrategy[str]:
    """Strings with surrogates, NUL, bidi controls and emoji; `large` adds a few long ones."""
    options: list[st.SearchStrategy[str]] = [
        st.sampled_from([text for text in SPECIAL_TEXT if len(text) >= min_size]),
        st.text(st.characters(), min_size=min_size, max_size=24),
    ]
    if large:
        repeated = st.builds(
            lambda unit, times: unit * times,
            st.text(st.characters(), min_size=1, max_size=3),
            st.integers(1_000, 40_000),
        )
        options.append(st.integers(0, 9).flatmap(lambda k: repeated if k == 0 else texts()))
    return st.one_of(options)


INTEGERS = st.integers(min_value=-(2**70), max_value=2**70)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
SCALARS: st.SearchStrategy[Any] = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, texts())
JUNK: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(texts(), inner, max_size=4)
    ),
    max_leaves=10,
)
JUNK_LISTS = st.lists(JUNK, max_size=4)
JUNK_OBJECTS = st.dictionaries(texts(), JUNK, max_size=4)
NOT_STRING: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), INTEGERS, FLOATS, JUNK_LISTS, JUNK_OBJECTS
)
"""Anything but a string; null included (a required string may not be null)."""
NOT_STRING_OR_NULL: st.SearchStrategy[Any] = st.one_of(
    st.booleans(), INTEGERS, FLOATS, JUNK_LISTS, JUNK_OBJECTS
)
NOT_BOOLEAN: st.SearchStrategy[Any] = st.one_of(
    st.none(), INTEGERS, FLOATS, texts(), JUNK_LISTS, JUNK_OBJECTS
)
NOT_A_NONEMPTY_LIST: st.SearchStrategy[Any] = st.one_of(
    st.none(), st.booleans(), INTEGERS, FLOATS, texts(), JUNK_OBJECTS, st.just([])
)
NOT_AN_OBJECT: st.SearchStrategy[Any] = st.one_of(SCALARS, JUNK_LISTS)
NOT_A_LIST_OF_STRINGS: st.SearchStrategy[Any] = st.one_of(
    st.booleans(),
    INTEGERS,
    FLOATS,
    texts(),
    JUNK_OBJECTS,
    st.lists(JUNK, min_size=1, max_size=4).filter(
        lambda items: not all(isinstance(item, str) for item in items)
    ),
)
CONTRACT_KEYS = frozenset(
    ["document_id", "kernel_id", "cells", "record_timing", "request_ids", "input_id", "value"]
)
# Never valid UTF-8. (An encoded surrogate, b"\xed\xa0\x80", is not here: Python's JSON
# decoder takes it, as the lone surrogate that "\ud800" also gives.)
BAD_UTF8 = [b"\xff", b"\xfe\xfe", b"\xc0\xaf", b"\xe2\x82", b"\xf8\x88\x80\x80"]


def unknown_like(real: list[str], known: Known) -> st.SearchStrategy[str]:
    """Ids that look like real ones, or do not, and name nothing."""
    real_ids = st.sampled_from(real)
    taken = known.all_ids
    return st.one_of(
        st.uuids().map(str),
        st.uuids().map(lambda value: value.hex),
        st.tuples(real_ids, texts(min_size=1)).map("".join),
        st.tuples(texts(min_size=1), real_ids).map("".join),
        real_ids.map(str.upper),
        real_ids.map(lambda value: value[:-1]),
        real_ids.map(lambda value: value + "\x00"),
        real_ids.map(lambda value: f" {value}"),
        texts(min_size=1, large=True),
    ).filter(lambda value: value not in taken)


def unknown_documents(known: Known) -> st.SearchStrategy[str]:
    """Room ids of no notebook; half of them notebook room ids, which get as far as the
    file id database."""
    file_ids = st.sampled_from(known.file_ids)
    notebook_like = st.one_of(
        st.uuids().map(lambda value: f"json:notebook:{value}"),
        st.tuples(file_ids, texts(min_size=1)).map(lambda pair: f"json:notebook:{''.join(pair)}"),
        st.tuples(texts(min_size=1), file_ids).map(lambda pair: f"json:notebook:{''.join(pair)}"),
        texts(min_size=1, large=True).map(lambda text: f"json:notebook:{text}"),
        file_ids.map(lambda file_id: f"json:notebook:{file_id}\ud800"),
        file_ids.map(lambda file_id: f"json:notebook:{file_id.upper()}"),
    )
    other_forms = st.one_of(
        unknown_like(known.document_ids, known),
        file_ids.map(lambda file_id: f"text:file:{file_id}"),
        file_ids.map(lambda file_id: f"json:file:{file_id}"),
        file_ids.map(lambda file_id: f"json:notebook:{file_id}:extra"),
    )
    return st.one_of(notebook_like, other_forms).filter(lambda value: value not in known.documents)


# Strategies: bodies


class Case:
    """One request body, and how it was made; its repr (which hypothesis prints for a
    failing example) stays short for huge bodies."""

    def __init__(
        self,
        payload: bytes,
        how: str,
        content_type: str | None = "application/json",
        trailing_slash: bool = False,
    ) -> None:
        self.payload = payload
        self.how = how
        self.content_type = content_type
        self.trailing_slash = trailing_slash

    def __repr__(self) -> str:
        return (
            f"Case({self.how!r}, {len(self.payload)} bytes, content_type={self.content_type!r}, "
            f"slash={self.trailing_slash}, starts={self.payload[:160]!r})"
        )


def required_string_flaw(
    draw: st.DrawFn, body: dict[str, Any], key: str, unknown: st.SearchStrategy[str]
) -> str:
    flaw = draw(st.sampled_from(["missing", "type", "empty", "unknown"]))
    if flaw == "missing":
        body.pop(key, None)
    elif flaw == "type":
        body[key] = draw(NOT_STRING)
    elif flaw == "empty":
        body[key] = ""
    else:
        body[key] = draw(unknown)
    return f"{key}:{flaw}"


def cells_flaw(draw: st.DrawFn, body: dict[str, Any], known: Known, document: str) -> str:
    """Make `cells` invalid; an item-level flaw needs a list, else `cells` is replaced."""
    cells = body.get("cells")
    flaw = draw(
        st.sampled_from(
            ["missing", "type", "item", "cell_id", "unknown", "markdown", "other", "source"]
        )
    )
    items = [item for item in cells if isinstance(item, dict)] if isinstance(cells, list) else []
    if flaw in ("cell_id", "source") and not items:
        flaw = "type"
    if flaw in ("item", "unknown", "markdown", "other") and not isinstance(cells, list):
        flaw = "type"
    if flaw == "missing":
        body.pop("cells", None)
    elif flaw == "type":
        body["cells"] = draw(NOT_A_NONEMPTY_LIST)
    else:
        assert isinstance(cells, list)
        position = draw(st.integers(0, len(cells)))
        if flaw == "item":
            cells.insert(position, draw(NOT_AN_OBJECT))
        elif flaw == "unknown":
            cells.insert(
                position, {"cell_id": draw(unknown_like(known.documents[document], known))}
            )
        elif flaw == "markdown":
            cells.insert(position, {"cell_id": known.markdown[document]})
        elif flaw == "other":
            # A real code cell, of the other notebook.
            others = [
                cell for key, ids in known.documents.items() if key != document for cell in ids
            ]
            cells.insert(position, {"cell_id": draw(st.sampled_from(others))})
        else:
            item = draw(st.sampled_from(items))
            if flaw == "cell_id":
                choice = draw(st.sampled_from(["missing", "type", "empty"]))
                if choice == "missing":
                    item.pop("cell_id", None)
                else:
                    item["cell_id"] = draw(NOT_STRING) if choice == "type" else ""
                flaw = f"cell_id-{choice}"
            else:
                item["source"] = draw(NOT_STRING_OR_NULL)
    return f"cells:{flaw}"


@st.composite
def execute_bodies(draw: st.DrawFn, known: Known) -> tuple[dict[str, Any], list[str]]:
    """A well-formed execute body of real ids, then one to three flaws."""
    document = draw(st.sampled_from(known.document_ids))
    cell_ids = draw(st.lists(st.sampled_from(known.documents[document]), min_size=1, max_size=3))
    cells: list[dict[str, Any]] = []
    for cell_id in cell_ids:
        cell: dict[str, Any] = {"cell_id": cell_id}
        if draw(st.booleans()):
            cell["source"] = draw(st.one_of(st.none(), texts(large=True)))
        cells.append(cell)
    body: dict[str, Any] = {"document_id": document, "kernel_id": known.kernel_id, "cells": cells}
    if draw(st.booleans()):
        body["record_timing"] = draw(st.booleans())
    flaws = draw(
        st.lists(
            st.sampled_from(["document", "other-document", "kernel", "cells", "record_timing"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    done = []
    for flaw in flaws:
        if flaw == "document":
            done.append(required_string_flaw(draw, body, "document_id", unknown_documents(known)))
        elif flaw == "other-document":
            # The other notebook, with this one's cells: unknown cells there.
            body["document_id"] = draw(
                st.sampled_from([d for d in known.documents if d != document])
            )
            done.append("document_id:other")
        elif flaw == "kernel":
            unknown = unknown_like([known.kernel_id], known)
            done.append(required_string_flaw(draw, body, "kernel_id", unknown))
        elif flaw == "cells":
            done.append(cells_flaw(draw, body, known, document))
        else:
            body["record_timing"] = draw(NOT_BOOLEAN)
            done.append("record_timing:type")
    return body, done


@st.composite
def cancel_bodies(draw: st.DrawFn, known: Known) -> tuple[dict[str, Any], list[str]]:
    """A cancel body naming real and unknown requests, then at least one flaw: with a real
    document and well-formed `request_ids`, cancelling is valid (and answers 200)."""
    body: dict[str, Any] = {"document_id": draw(st.sampled_from(known.document_ids))}
    if draw(st.booleans()):
        body["request_ids"] = draw(
            st.lists(
                st.one_of(
                    st.sampled_from(known.request_ids), unknown_like(known.request_ids, known)
                ),
                max_size=5,
            )
        )
    flaws = draw(
        st.lists(st.sampled_from(["document", "request_ids"]), min_size=1, max_size=2, unique=True)
    )
    done = []
    for flaw in flaws:
        if flaw == "document":
            done.append(required_string_flaw(draw, body, "document_id", unknown_documents(known)))
        else:
            request_ids = body.get("request_ids")
            if isinstance(request_ids, list) and request_ids and draw(st.booleans()):
                request_ids.insert(draw(st.integers(0, len(request_ids))), draw(NOT_STRING))
                done.append("request_ids:item")
            else:
                body["request_ids"] = draw(NOT_A_LIST_OF_STRINGS)
                done.append("request_ids:type")
    return body, done


@st.composite
def input_bodies(draw: st.DrawFn, known: Known) -> tuple[dict[str, Any], list[str]]:
    """An answer to the real pending input, then at least one flaw."""
    body: dict[str, Any] = {
        "document_id": known.input_document,
        "input_id": known.input_id,
        "value": draw(texts(large=True)),
    }
    flaws = draw(
        st.lists(
            st.sampled_from(["document", "other-document", "input_id", "value"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    done = []
    for flaw in flaws:
        if flaw == "document":
            done.append(required_string_flaw(draw, body, "document_id", unknown_documents(known)))
        elif flaw == "other-document":
            others = [d for d in known.documents if d != known.input_document]
            body["document_id"] = draw(st.sampled_from(others))
            done.append("document_id:other")
        elif flaw == "input_id":
            unknown = st.one_of(
                unknown_like([known.input_id], known),
                # Ids of other things, real ones.
                st.sampled_from(
                    [*known.request_ids, *known.documents[known.input_document], known.kernel_id]
                ),
            )
            done.append(required_string_flaw(draw, body, "input_id", unknown))
        else:
            if draw(st.booleans()):
                body.pop("value")
                done.append("value:missing")
            else:
                body["value"] = draw(NOT_STRING)
                done.append("value:type")
    return body, done


def valid_body(endpoint: str, known: Known) -> dict[str, Any]:
    """A body the server would accept: only ever sent broken beyond parsing."""
    if endpoint == "execute":
        document = known.document_ids[0]
        cells = [{"cell_id": cell} for cell in known.documents[document]]
        return {"document_id": document, "kernel_id": known.kernel_id, "cells": cells}
    if endpoint == "cancel":
        return {"document_id": known.input_document, "request_ids": known.request_ids}
    return {"document_id": known.input_document, "input_id": known.input_id, "value": "v"}


def encode_object(draw: st.DrawFn, body: dict[str, Any], shadow: dict[str, Any]) -> bytes:
    """A flawed object, encoded one of several ways that all mean the same to a JSON parser."""
    how = draw(st.sampled_from(["ascii", "utf-8", "pretty", "shadowed"]))
    if how == "ascii":
        return json.dumps(body).encode()
    if how == "utf-8":
        # Lone surrogates encoded as such: Python's JSON decoder takes them back.
        return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if how == "pretty":
        return b" \n\t" + json.dumps(body, indent=2).encode() + b"\r\n "
    # Duplicate keys: the valid value first, the flawed one last (the last one counts).
    pairs = [(key, value) for key, value in shadow.items() if key in body]
    pairs.extend(body.items())
    return ("{" + ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in pairs) + "}").encode()


@st.composite
def raw_payloads(draw: st.DrawFn, valid: bytes) -> tuple[bytes, str]:
    """Bodies that are not a JSON object at all, many made from a valid body."""
    how = draw(
        st.sampled_from(
            [
                "empty",
                "whitespace",
                "truncated",
                "bad-utf8",
                "nul-byte",
                "trailing",
                "concatenated",
                "single-quotes",
                "comment",
                "top-level",
                "list-of-body",
                "binary",
                "nested",
                "nested-field",
                "big-integer",
            ]
        )
    )
    if how == "empty":
        payload = b""
    elif how == "whitespace":
        payload = draw(st.sampled_from([b" ", b"\n", b"\t\r\n ", b"\xc2\xa0"]))
    elif how == "truncated":
        payload = valid[: draw(st.integers(0, len(valid) - 1))]
    elif how == "bad-utf8":
        position = draw(st.integers(1, len(valid) - 1))
        payload = valid[:position] + draw(st.sampled_from(BAD_UTF8)) + valid[position:]
    elif how == "nul-byte":
        position = draw(st.integers(4, len(valid) - 1))
        payload = valid[:position] + b"\x00" + valid[position:]
    elif how == "trailing":
        payload = valid + draw(st.sampled_from([b"x", b"{}", b",", b"]", b"\x00"]))
    elif how == "concatenated":
        payload = valid + valid
    elif how == "single-quotes":
        payload = valid.replace(b'"', b"'")
    elif how == "comment":
        payload = b"// a comment\n" + valid
    elif how == "top-level":
        payload = json.dumps(draw(NOT_AN_OBJECT)).encode()
    elif how == "list-of-body":
        payload = b"[" + valid + b"]"
    elif how == "binary":
        payload = draw(st.binary(max_size=300))
    elif how in ("nested", "nested-field"):
        depth = draw(st.sampled_from([999, 1_001, 5_000, 100_000]))
        bracket = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        nested = bracket[0] * depth + b"0" + bracket[1] * depth
        payload = nested if how == "nested" else b'{"document_id": ' + nested + b"}"
    else:
        digits = draw(st.integers(4_301, 50_000))
        payload = b'{"document_id": "x", "kernel_id": ' + b"9" * digits + b"}"
    return payload, f"raw:{how}"


def cases(endpoint: str, known: Known) -> st.SearchStrategy[Case]:
    objects = {"execute": execute_bodies, "cancel": cancel_bodies, "input": input_bodies}[endpoint]
    valid = json.dumps(valid_body(endpoint, known)).encode()

    @st.composite
    def build(draw: st.DrawFn) -> Case:
        if draw(st.integers(0, 3)) == 0:
            payload, how = draw(raw_payloads(valid))
        else:
            body, flaws = draw(objects(known))
            shadow = valid_body(endpoint, known)
            if draw(st.booleans()):
                # Keys the contract does not know are ignored: noise, not a flaw.
                extra = draw(JUNK_OBJECTS)
                body.update({k: v for k, v in extra.items() if k not in CONTRACT_KEYS})
            payload = encode_object(draw, body, shadow)
            how = "+".join(flaws)
        content_type = draw(
            st.sampled_from(
                [
                    "application/json",
                    None,
                    "text/plain; charset=utf-16",
                    "application/x-www-form-urlencoded",
                    "multipart/form-data; boundary=x",
                ]
            )
        )
        return Case(payload, how, content_type, draw(st.booleans()))

    return build()


def huge_cases(endpoint: str, known: Known) -> list[Case]:
    """A few 10 MB bodies per endpoint."""
    junk = random.Random(4711).randbytes(HUGE)
    nested = b"[" * (HUGE // 2) + b"]" * (HUGE // 2)
    # A notebook room id of about 10 MB once JSON-escaped.
    long_id = "json:notebook:" + "🐍\u202e\x00\ud800" * (HUGE // 30)
    document, other = known.input_document, known.document_ids[-1]
    if other == document:
        other = known.document_ids[0]
    body: dict[str, Any]
    found: list[Case] = [
        Case(junk, "huge:random-bytes"),
        Case(nested, "huge:nested"),
    ]
    if endpoint == "execute":
        big_source = "x = 1\n" * (HUGE // 6)
        for target in (document, other):
            cells = [
                {"cell_id": known.documents[target][0], "source": big_source},
                {"cell_id": "no-such-cell"},
            ]
            body = {"document_id": target, "kernel_id": known.kernel_id, "cells": cells}
            found.append(Case(json.dumps(body).encode(), "huge:source+cells:unknown"))
        body = {**valid_body(endpoint, known), "document_id": long_id}
        found.append(Case(json.dumps(body).encode(), "huge:document_id"))
    elif endpoint == "cancel":
        many = [uuid.UUID(int=index).hex for index in range(HUGE // 36)]
        body = {"document_id": document, "request_ids": [*many, None]}
        found.append(Case(json.dumps(body).encode(), "huge:request_ids+item"))
        body = {"document_id": long_id, "request_ids": many[:1000]}
        found.append(Case(json.dumps(body).encode(), "huge:document_id"))
    else:
        body = {"document_id": document, "input_id": "no-such-input", "value": "v" * HUGE}
        found.append(Case(json.dumps(body).encode(), "huge:value+input_id:unknown"))
        body = {"document_id": document, "input_id": long_id, "value": "v"}
        found.append(Case(json.dumps(body).encode(), "huge:input_id"))
    return found


def found_cases(endpoint: str, known: Known) -> list[Case]:
    """Bodies that once got a 500: run every time."""
    surrogate = {**valid_body(endpoint, known), "document_id": f"{known.document_ids[0]}\ud800"}
    deep = b'{"document_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    long_integer = b'{"document_id": ' + b"7" * 5_000 + b"}"
    return [
        Case(json.dumps(surrogate).encode(), "found:document_id-surrogate"),
        Case(deep, "found:nested"),
        Case(long_integer, "found:long-integer"),
    ]


# The fuzzing


@pytest.mark.parametrize("extra_server_config", [QUIET_SERVER])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_fuzzed_bodies_get_4xx_and_change_nothing(
    extra_server_config: Any,
    endpoint: str,
    tally: Tally,
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    open_fuzz_world: OpenFuzzWorld,
    post_json: Any,
) -> None:
    async with open_fuzz_world() as (known, docs, client):
        loop = asyncio.get_running_loop()

        def snapshot() -> dict[str, Any]:
            return asyncio.run_coroutine_threadsafe(docs.snapshot(), loop).result(120)

        token = jp_serverapp.identity_provider.token
        path = url_path_join(jp_base_url, "api/collab-exec", endpoint)
        answers: dict[int, int] = {}
        with httpx.Client(
            base_url=f"http://127.0.0.1:{jp_http_port}",
            headers={"Authorization": f"token {token}"},
            timeout=120,
        ) as http:

            def check(case: Case) -> None:
                with tally.trial("fuzzed-bodies"):
                    headers = {"Content-Type": case.content_type} if case.content_type else {}
                    before = snapshot()
                    response = http.post(
                        path + ("/" if case.trailing_slash else ""),
                        content=case.payload,
                        headers=headers,
                    )
                    after = snapshot()
                    code = response.status_code
                    answers[code] = answers.get(code, 0) + 1
                    assert code in (400, 404), (code, response.text[:2000])
                    answer = response.json()
                    assert isinstance(answer, dict), answer
                    assert isinstance(answer.get("message"), str), answer
                    assert answer["message"]
                    # Messages quote what they were sent, shortened: a 10 MB id is not echoed.
                    assert len(answer["message"]) < 1000, answer["message"][:200]
                    assert after == before, differences(before, after)

            fuzz = given(case=cases(endpoint, known))(check)
            for explicit in [*found_cases(endpoint, known), *huge_cases(endpoint, known)]:
                fuzz = example(case=explicit)(fuzz)
            fuzz = settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=False,
                suppress_health_check=[
                    HealthCheck.too_slow,
                    HealthCheck.data_too_large,
                    HealthCheck.filter_too_much,
                    HealthCheck.large_base_example,
                ],
            )(fuzz)
            await asyncio.to_thread(fuzz)

        print(f"{endpoint}: answers by status {answers}")
        # The work the bodies named is untouched: the input is still answerable, and
        # the queued request still runs.
        code, _ = await post_json(
            "api",
            "collab-exec",
            "input",
            body={"document_id": known.input_document, "input_id": known.input_id, "value": "Z"},
        )
        assert code == 200
        await client.wait_until(
            lambda: statuses(client, *known.request_ids) == ["ok", "ok"], what="the real work"
        )
        assert client.cell("ask")["outputs"][-1]["text"] == "Hello Z\n"
        await client.wait_until(lambda: all_cells_idle(client))


# Tampering


def seeded() -> random.Random:
    """A random generator whose seed is printed, and taken from COLLAB_EXEC_SEED if set."""
    seed = int(os.environ.get("COLLAB_EXEC_SEED") or random.SystemRandom().randrange(2**32))
    print(f"COLLAB_EXEC_SEED={seed}")
    return random.Random(seed)


ASK_ONCE = "answers = [input('Name?')]\nprint(f'Hello {answers[0]}')"
PRINTER = "import time\nfor i in range(150):\n    print(i, flush=True)\n    time.sleep(0.01)"
FORGEABLE_STATUSES = ["queued", "running", "awaiting_input", "ok", "error", "cancelled"]


class Mallory:
    """A second client that writes into `collab_exec` what only the server should, and
    remembers the forgeries that are still in the doc."""

    def __init__(self, client: RoomClient, rng: random.Random, kernel_id: str) -> None:
        self.client = client
        self.rng = rng
        self.kernel_id = kernel_id
        self.forged_requests: dict[str, str] = {}
        self.forged_inputs: list[str] = []
        self.actions: list[str] = []

    @property
    def root(self) -> Map[Any]:
        root: Map[Any] = self.client.notebook.ydoc.get("collab_exec", type=Map)
        return root

    def child(self, key: str) -> Map[Any] | None:
        value = self.root.get(key)
        return value if isinstance(value, Map) else None

    def forge_request(self) -> None:
        requests = self.child("requests")
        if requests is None:
            return
        request_id = f"forged-{uuid.uuid4().hex}"
        status = self.rng.choice(FORGEABLE_STATUSES)
        cell_id = self.rng.choice(["printer", "ask", "after", "no-such-cell"])
        requests[request_id] = Map(
            {"cell_id": cell_id, "kernel_id": self.kernel_id, "status": status}
        )
        self.forged_requests[request_id] = status
        self.actions.append(f"forge a {status} request")

    def forge_input(self, request_id: str) -> None:
        inputs = self.child("inputs")
        if inputs is None:
            return
        input_id = f"forged-{uuid.uuid4().hex}"
        owner = self.rng.choice([request_id, f"no-such-request-{uuid.uuid4().hex}"])
        inputs[input_id] = Map(
            {"request_id": owner, "cell_id": "ask", "prompt": "Password:", "status": "pending"}
        )
        self.forged_inputs.append(input_id)
        self.actions.append("forge a pending input")

    def set_field(self, key: str, entry_id: str, field: str, value: Any) -> None:
        child = self.child(key)
        entry = child.get(entry_id) if child is not None else None
        if isinstance(entry, Map):
            entry[field] = value
            self.actions.append(f"set {key}[{entry_id[:8]}].{field} to {value!r}")

    def delete(self, key: str, entry_id: str | None = None) -> None:
        if entry_id is not None:
            child = self.child(key)
            if child is not None and entry_id in child:
                del child[entry_id]
                self.actions.append(f"delete {key}[{entry_id[:8]}]")
            return
        if key in self.root:
            del self.root[key]
            self.forget(key)
            self.actions.append(f"delete {key}")

    def replace(self, key: str) -> None:
        value = self.rng.choice(["junk", 42.0, True])
        self.root[key] = value
        self.forget(key)
        self.actions.append(f"replace {key} with {value!r}")

    def forget(self, key: str) -> None:
        if key == "requests":
            self.forged_requests.clear()
        elif key == "inputs":
            self.forged_inputs.clear()

    def kill_kernel(self) -> None:
        kernel = self.child("kernel")
        if kernel is not None:
            kernel["execution_state"] = "dead"
            kernel["kernel_id"] = "no-such-kernel"
            self.actions.append("show the kernel dead")

    def tamper(self, moves: list[Callable[[], None]], *, every: bool = False) -> None:
        """Some of the moves (`every` one of them), in a random order, in one transaction
        or in several."""
        chosen = self.rng.sample(moves, len(moves) if every else self.rng.randint(1, len(moves)))
        ydoc = self.client.notebook.ydoc
        if self.rng.random() < 0.5:
            with ydoc.transaction():
                for move in chosen:
                    move()
        else:
            for move in chosen:
                with ydoc.transaction():
                    move()


def has_seen(observer: RoomClient, writer: RoomClient) -> bool:
    """Whether every change the writer made has reached the observer (through the server)."""
    writer_id = writer.notebook.ydoc.client_id
    made = decode_state_vector(writer.notebook.ydoc.get_state()).get(writer_id, 0)
    return decode_state_vector(observer.notebook.ydoc.get_state()).get(writer_id, 0) >= made


def forgeries_gone(client: RoomClient, mallory: Mallory) -> bool:
    """No forged request or input is left: the server removes what it never wrote."""
    requests, inputs = client.requests(), client.inputs()
    return not set(mallory.forged_requests) & set(requests) and not (
        set(mallory.forged_inputs) & set(inputs)
    )


async def tampering_while_running(
    trial: int,
    rng: random.Random,
    root: Path,
    kernel_id: str,
    document_id_for: Any,
    join_room: Any,
    execute: Any,
    post_json: Any,
) -> None:
    cells = [("printer", "code", PRINTER), ("ask", "code", ASK_ONCE)]
    cells.append(("after", "code", "print('after', len(answers))"))
    path = write_notebook(root, f"tamper-running-{trial}.ipynb", cells)
    document_id, session_id = await document_id_for(path)
    async with (
        join_room(document_id, session_id) as alice,
        join_room(document_id, session_id) as client,
    ):
        mallory = Mallory(client, rng, kernel_id)
        printer, ask, after = await execute(document_id, kernel_id, "printer", "ask", "after")

        # 1. The printer prints, the two others are queued.
        lines = rng.randint(1, 20)

        def printed(count: int) -> bool:
            outputs = alice.cell("printer")["outputs"]
            return bool(outputs) and str(outputs[0].get("text", "")).count("\n") >= count

        await alice.wait_until(lambda: printed(lines), what=f"{lines} printed lines")
        mallory.tamper(
            [
                lambda: mallory.set_field("requests", printer, "status", "ok"),
                lambda: mallory.set_field("requests", ask, "status", "cancelled"),
                lambda: mallory.set_field("requests", after, "status", "running"),
                lambda: mallory.set_field("requests", after, "cell_id", "printer"),
                mallory.forge_request,
                mallory.forge_request,
                lambda: mallory.delete("requests"),
                lambda: mallory.replace("requests"),
                lambda: mallory.delete("requests", printer),
                mallory.kill_kernel,
            ],
            every=trial == 0,
        )
        assert not printed(150), "the printer finished before the tampering"
        # A repaired state looks like the state before the tampering: first see it arrive.
        await alice.wait_until(lambda: has_seen(alice, client), what="the tampering to arrive")

        # 2. `ask` waits for its input.
        input_id = await alice.wait_for_input("Name?")
        assert input_id is not None

        def first_repaired() -> bool:
            return statuses(alice, printer, ask, after) == [
                "ok",
                "awaiting_input",
                "queued",
            ] and forgeries_gone(alice, mallory)

        await alice.wait_until(
            first_repaired, what="the first tampering repaired: " + ", ".join(mallory.actions)
        )
        mallory.tamper(
            [
                lambda: mallory.set_field("requests", ask, "status", "ok"),
                lambda: mallory.set_field("requests", ask, "kernel_id", "no-such-kernel"),
                lambda: mallory.set_field("requests", after, "status", "cancelled"),
                mallory.forge_request,
                lambda: mallory.forge_input(ask),
                lambda: mallory.forge_input(ask),
                lambda: mallory.set_field("inputs", input_id, "status", "answered"),
                lambda: mallory.set_field("inputs", input_id, "prompt", "Password:"),
                lambda: mallory.delete("inputs", input_id),
                lambda: mallory.delete("inputs"),
                lambda: mallory.replace("inputs"),
                lambda: mallory.delete("requests"),
                mallory.kill_kernel,
                lambda: mallory.replace("kernel"),
            ],
            every=trial == 0,
        )
        await alice.wait_until(lambda: has_seen(alice, client), what="the tampering to arrive")

        def second_repaired() -> bool:
            real = alice.inputs().get(input_id, {})
            return (
                statuses(alice, ask, after) == ["awaiting_input", "queued"]
                and {key: real.get(key) for key in ("status", "request_id", "cell_id", "prompt")}
                == {"status": "pending", "request_id": ask, "cell_id": "ask", "prompt": "Name?"}
                and real.get("password") is False
                and forgeries_gone(alice, mallory)
                and alice.kernel_state() == {"kernel_id": kernel_id, "execution_state": "busy"}
            )

        await alice.wait_until(
            second_repaired, what="the second tampering repaired: " + ", ".join(mallory.actions)
        )
        # While the kernel waits for input it says nothing: only the repair puts back
        # its state.
        with client.notebook.ydoc.transaction():
            mallory.kill_kernel()
        await alice.wait_until(lambda: has_seen(alice, client), what="the tampering to arrive")
        await alice.wait_until(
            lambda: alice.kernel_state() == {"kernel_id": kernel_id, "execution_state": "busy"},
            what="the kernel's state repaired",
        )
        entry = alice.requests()[ask]
        assert (entry["cell_id"], entry["kernel_id"]) == ("ask", kernel_id)
        assert entry["submitted_by"]["username"]
        # A finished request is history that the server wrote: deleting it brings it back.
        assert alice.requests()[printer]["status"] == "ok", (mallory.actions, alice.requests())

        # Only REST answers reach the kernel; the server does not know forged inputs.
        for forged in mallory.forged_inputs:
            code, reply = await answer(post_json, document_id, forged, "forged")
            assert code == 404, reply
        code, reply = await answer(post_json, document_id, input_id, "Ada")
        assert (code, reply) == (200, {"status": "answered"})
        code, reply = await answer(post_json, document_id, input_id, "Eve")
        assert code == 409
        assert reply["status"] == "answered"
        await alice.wait_until(
            lambda: statuses(alice, ask, after) == ["ok", "ok"] and all_cells_idle(alice),
            what="the run to finish",
        )
        [printed_output] = alice.cell("printer")["outputs"]
        assert printed_output["text"] == "".join(f"{i}\n" for i in range(150))
        assert [(o["name"], o["text"]) for o in alice.cell("ask")["outputs"]] == [
            ("stdin", "Name? Ada\n"),
            ("stdout", "Hello Ada\n"),
        ]
        assert [o["text"] for o in alice.cell("after")["outputs"]] == ["after 1\n"]
        assert alice.inputs()[input_id]["status"] == "answered"
        assert alice.inputs()[input_id]["value"] == "Ada"
        assert forgeries_gone(alice, mallory)


@pytest.mark.timeout(900)
async def test_tampering_while_work_runs_is_repaired(
    tally: Tally,
    jp_root_dir: Path,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    rng = seeded()
    kernel_id = await start_kernel()
    for trial in range(count(3, 20)):
        with tally.trial("tampering"):
            await tampering_while_running(
                trial, rng, jp_root_dir, kernel_id, document_id_for, join_room, execute, post_json
            )


async def tampering_while_idle(
    trial: int,
    rng: random.Random,
    root: Path,
    kernel_id: str,
    docs: ServerDocs,
    document_id_for: Any,
    join_room: Any,
    execute: Any,
    post_json: Any,
) -> None:
    cells = [("ask", "code", ASK_ONCE), ("after", "code", "print('after', len(answers))")]
    path = write_notebook(root, f"tamper-idle-{trial}.ipynb", cells)
    document_id, session_id = await document_id_for(path)
    service = docs.service
    async with (
        join_room(document_id, session_id) as alice,
        join_room(document_id, session_id) as client,
    ):
        mallory = Mallory(client, rng, kernel_id)
        ask, after = await execute(document_id, kernel_id, "ask", "after")
        input_id = await alice.wait_for_input("Name?")
        assert input_id is not None
        code, _ = await answer(post_json, document_id, input_id, "Ada")
        assert code == 200
        await alice.wait_until(
            lambda: (
                statuses(alice, ask, after) == ["ok", "ok"]
                and all_cells_idle(alice)
                and (alice.kernel_state() or {}).get("execution_state") == "idle"
            ),
            what="the run to finish",
        )
        await wait_for(lambda: not {ask, after} & service.active_request_ids, what="idle")
        answered = alice.inputs()[input_id]
        before: dict[str, Any] = client.notebook.ydoc.get("collab_exec", type=Map).to_py() or {}

        mallory.tamper(
            [
                lambda: mallory.set_field(
                    "requests", ask, "status", rng.choice(["queued", "running", "awaiting_input"])
                ),
                lambda: mallory.set_field("requests", after, "status", "error"),
                mallory.forge_request,
                mallory.forge_request,
                lambda: mallory.forge_input(ask),
                lambda: mallory.set_field("inputs", input_id, "status", "pending"),
                lambda: mallory.delete("inputs", input_id),
                lambda: mallory.delete("requests"),
                mallory.kill_kernel,
            ],
            every=trial == 0,
        )
        tampered: dict[str, Any] = mallory.root.to_py() or {}
        real_kernel = {"kernel_id": kernel_id, "execution_state": "idle"}

        def requests_and_inputs(root: dict[str, Any] | None) -> dict[str, Any]:
            # The kernel's state is written whenever the kernel reports one, which it may
            # still do for the last cell: leave it out.
            return {key: value for key, value in (root or {}).items() if key != "kernel"}

        notebook = await docs.notebook(document_id)
        server_root = notebook.ydoc.get("collab_exec", type=Map)
        # With no work of its in the document, the server still puts back what it wrote.
        await wait_for(
            lambda: requests_and_inputs(server_root.to_py()) == requests_and_inputs(before),
            what="the tampering put back: " + ", ".join(mallory.actions),
        )
        assert requests_and_inputs(tampered) != requests_and_inputs(before)

        # What the doc says decides nothing: the server answers from its own records.
        for forged in mallory.forged_inputs:
            code, reply = await answer(post_json, document_id, forged, "forged")
            assert code == 404, reply
        code, reply = await answer(post_json, document_id, input_id, "Eve")
        assert code == 409
        assert reply["answered_by"] == answered["answered_by"]

        # The first two trials take one way each, the others either.
        if (rng.random() < 0.5) if trial > 1 else trial == 1:
            # A client joining now finds the records as the server wrote them.
            async with join_room(document_id, session_id) as carol:
                await carol.wait_until(
                    lambda: (
                        requests_and_inputs(
                            carol.notebook.ydoc.get("collab_exec", type=Map).to_py()
                        )
                        == requests_and_inputs(before)
                    ),
                    what="the joining client to see the records put back",
                )
                assert carol.kernel_state() == real_kernel
            return

        # New work runs as if nothing had happened.
        [again] = await execute(document_id, kernel_id, "after")
        await alice.wait_until(lambda: statuses(alice, again) == ["ok"] and all_cells_idle(alice))
        assert [o["text"] for o in alice.cell("after")["outputs"]] == ["after 1\n"]
        assert forgeries_gone(alice, mallory)
        real = alice.inputs()[input_id]
        assert (real["status"], real["value"]) == ("answered", "Ada")
        assert real["answered_by"] == answered["answered_by"]
        assert before["requests"][ask]["status"] == "ok"


@pytest.mark.timeout(900)
async def test_tampering_while_idle_is_put_back(
    tally: Tally,
    jp_root_dir: Path,
    jp_serverapp: Any,
    document_id_for: Any,
    join_room: Any,
    start_kernel: Any,
    execute: Any,
    post_json: Any,
) -> None:
    rng = seeded()
    kernel_id = await start_kernel()
    docs = ServerDocs(jp_serverapp, [])
    for trial in range(count(3, 20)):
        with tally.trial("tampering"):
            await tampering_while_idle(
                trial,
                rng,
                jp_root_dir,
                kernel_id,
                docs,
                document_id_for,
                join_room,
                execute,
                post_json,
            )
