"""Through a real JupyterHub with collaboration accounts (examples/jupyterhub): alice and bob
of group `project` work in the server of the account `collab`; carol is outside the group.
Every request and input names the person who acted, with the display name from the Hub,
never the account."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ..clients import ServerClient, write_notebook
from ..conftest import execute_body
from ..hub import COLLAB_ACCOUNT, HubProcess

pytestmark = pytest.mark.timeout(300)


@dataclass
class Deployment:
    hub: HubProcess
    # The single-user server of the collaboration account, through the proxy.
    server_url: str
    server_root: Path
    tokens: dict[str, str]
    display_names: dict[str, str]

    def client(self, username: str) -> ServerClient:
        return ServerClient(self.server_url, self.tokens[username])


@pytest.fixture(scope="module")
def deployment(jupyterhub: HubProcess) -> Deployment:
    people = ["alice", "bob", "carol"]
    for username in people:
        jupyterhub.log_in(username).close()
    display_names = {username: jupyterhub.display_name(username) or "" for username in people}
    tokens = {username: jupyterhub.token_for(username) for username in people}
    server_url = jupyterhub.start_server(COLLAB_ACCOUNT)
    return Deployment(
        hub=jupyterhub,
        server_url=server_url,
        server_root=jupyterhub.root / "home" / COLLAB_ACCOUNT,
        tokens=tokens,
        display_names=display_names,
    )


@pytest.fixture
def clients(
    deployment: Deployment, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> Iterator[dict[str, ServerClient]]:
    """Each person's REST and room client for the account's server, with their token."""
    made = {username: deployment.client(username) for username in deployment.tokens}
    yield made
    for client in made.values():
        jp_asyncio_loop.run_until_complete(client.close())


def notebook(deployment: Deployment, sources: list[str]) -> str:
    return write_notebook(deployment.server_root, f"hub-{uuid.uuid4().hex[:8]}.ipynb", sources)


async def execute_body_for(
    deployment: Deployment, client: ServerClient, source: str
) -> dict[str, Any]:
    """The body of an execute request for a new one-cell notebook, with a kernel."""
    room_id, _ = await client.session(notebook(deployment, [source]))
    return execute_body(room_id, await client.start_kernel(), ["cell-0"])


def people_named(value: Any) -> set[str]:
    """Every username in a JSON value, wherever a person is recorded."""
    found: set[str] = set()
    if isinstance(value, dict):
        if isinstance(value.get("username"), str):
            found.add(value["username"])
        for item in value.values():
            found |= people_named(item)
    elif isinstance(value, list):
        for item in value:
            found |= people_named(item)
    return found


async def test_the_hub_gives_each_person_their_display_name(deployment: Deployment) -> None:
    # The example's authenticator sets them at login; the test relies on them being distinct.
    names = deployment.display_names
    assert names["alice"]
    assert names["bob"]
    assert len({names["alice"], names["bob"], COLLAB_ACCOUNT}) == 3


async def test_runs_and_answers_name_the_people_not_the_account(
    deployment: Deployment, clients: dict[str, ServerClient]
) -> None:
    alice, bob = clients["alice"], clients["bob"]
    path = notebook(deployment, ["print('from alice')", "name = input('Name?')\nprint(name)"])
    room_id, session_id = await alice.session(path)
    kernel_id = await alice.start_kernel()
    # A room client authenticated as bob sees what alice does.
    async with bob.join(room_id, session_id) as room:
        [run_by_alice] = await alice.execute(room_id, kernel_id, ["cell-0"])
        await room.wait_until(
            lambda: room.request_status(run_by_alice) == "ok", what="alice's cell to finish"
        )
        assert room.requests()[run_by_alice]["submitted_by"] == {
            "username": "alice",
            "display_name": deployment.display_names["alice"],
        }

        # bob runs an input() cell; alice answers it.
        [run_by_bob] = await bob.execute(room_id, kernel_id, ["cell-1"])
        input_id = await room.wait_for_input("Name?")
        body = {"document_id": room_id, "input_id": input_id, "value": "Ada"}
        answered = await alice.send("POST", "api/collab-exec/input", body)
        assert answered.status_code == 200, answered.text
        await room.wait_until(
            lambda: room.inputs()[input_id].get("status") == "answered", what="the answer"
        )
        assert room.inputs()[input_id]["answered_by"] == {
            "username": "alice",
            "display_name": deployment.display_names["alice"],
        }
        assert room.requests()[run_by_bob]["submitted_by"]["username"] == "bob"

        # bob's late answer is refused, naming alice.
        late = await bob.send("POST", "api/collab-exec/input", {**body, "value": "Bob"})
        assert late.status_code == 409, late.text
        assert late.json()["answered_by"]["username"] == "alice"
        assert deployment.display_names["alice"] in json.dumps(late.json())

        await room.wait_until(
            lambda: room.request_status(run_by_bob) == "ok", what="bob's cell to finish"
        )
        # Nobody is recorded as the account.
        people = people_named(room.requests()) | people_named(room.inputs())
        assert people == {"alice", "bob"}, people


async def test_someone_outside_the_group_cannot_execute(
    deployment: Deployment, clients: dict[str, ServerClient]
) -> None:
    body = await execute_body_for(deployment, clients["alice"], "print('carol')")
    refused = await clients["carol"].send("POST", "api/collab-exec/execute", body)
    assert refused.status_code == 403, refused.text


async def test_a_post_with_cookies_and_no_xsrf_token_is_refused(
    deployment: Deployment, clients: dict[str, ServerClient]
) -> None:
    body = await execute_body_for(deployment, clients["alice"], "print('cookies')")
    browser = deployment.hub.browser_for("alice", deployment.server_url)
    try:
        # The cookie alone is accepted for reading, and refused for a POST without XSRF.
        listed = browser.get(f"{deployment.server_url}/api/collab-exec")
        assert listed.status_code == 200, listed.text
        refused = browser.post(f"{deployment.server_url}/api/collab-exec/execute", json=body)
        assert refused.status_code == 403, refused.text
        # With the XSRF token that the page gives, the same POST is taken.
        xsrf = browser.cookies.get("_xsrf", path=httpx.URL(deployment.server_url).path + "/")
        taken = browser.post(
            f"{deployment.server_url}/api/collab-exec/execute",
            json=body,
            headers={"X-XSRFToken": xsrf or ""},
        )
        assert taken.status_code == 202, taken.text
    finally:
        browser.close()
