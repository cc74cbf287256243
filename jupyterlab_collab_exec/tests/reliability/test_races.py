"""Races: eight collaborators answering one input at once, a cancel racing the start of
the request it cancels, and an execute racing a kernel restart."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import httpx
from jupyter_server.utils import url_path_join

from ..conftest import OpenNotebookFactory, all_cells_idle, all_final
from .tally import Tally, count

ANSWERERS = 8


async def test_eight_answers_race_and_exactly_one_wins(
    tally: Tally,
    jp_http_port: int,
    jp_base_url: str,
    jp_serverapp: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    """Each round, eight clients on connections of their own answer the same prompt at
    once: one gets 200, seven get 409 naming the winner, and the kernel gets one answer."""
    rounds = count(25, 200)
    asking = f"answers = []\nfor i in range({rounds}):\n    answers.append(input(f'q{{i}}'))"
    printing = "import json\nprint(json.dumps(answers))"
    endpoint = f"http://127.0.0.1:{jp_http_port}" + url_path_join(
        jp_base_url, "api/collab-exec/input"
    )
    headers = {"Authorization": f"token {jp_serverapp.identity_provider.token}"}
    answerers = [httpx.AsyncClient(headers=headers, timeout=60) for _ in range(ANSWERERS)]
    try:
        async with open_notebook("answer-race.ipynb", [asking, printing]) as notebook:
            client = notebook.client
            await notebook.run("cell-0")
            winners = []
            for round_ in range(rounds):
                prompt = f"q{round_}"
                input_id = await client.wait_for_input(prompt)
                responses = await asyncio.gather(
                    *(
                        answerer.post(
                            endpoint,
                            json={
                                "document_id": notebook.document_id,
                                "input_id": input_id,
                                "value": f"{round_}-{index}",
                            },
                        )
                        for index, answerer in enumerate(answerers)
                    )
                )
                for response in responses:
                    with tally.trial("answer-races"):
                        assert response.status_code in (200, 409), response.text
                        if response.status_code == 409:
                            assert response.json()["status"] == "answered"
                won = [index for index, r in enumerate(responses) if r.status_code == 200]
                assert len(won) == 1, [r.status_code for r in responses]
                winners.append(f"{round_}-{won[0]}")
            [printed] = await notebook.run("cell-1")
            await client.wait_until(lambda: client.request_status(printed) == "ok")
            [output] = client.cell("cell-1")["outputs"]
            # The kernel received each round's winner, once, in order, and nothing else.
            assert json.loads(output["text"]) == winners
    finally:
        for answerer in answerers:
            await answerer.aclose()


async def test_cancel_racing_start_is_all_or_nothing(
    tally: Tally, open_notebook: OpenNotebookFactory, post_json: Any
) -> None:
    """A cancel lands at a random moment around the start of the request it names. Either
    the answer lists it and it never ran, or it does not and the request ran once."""
    randomness = random.Random("cancel-vs-start")
    sources = [
        "import time\ntime.sleep({delay})",
        "runs.append(1)\nprint(len(runs))",
        "print(json.dumps(runs))",
    ]
    async with open_notebook("cancel-race.ipynb", sources) as notebook:
        client = notebook.client
        [setup] = await notebook.run({"cell_id": "cell-2", "source": "import json\nruns = []"})
        await client.wait_until(lambda: client.request_status(setup) == "ok")
        ran = 0
        trials = count(20, 200)
        for trial in range(trials):
            with tally.trial("cancel-vs-start"):
                delay = randomness.choice([0, 0.001, 0.005, 0.02])
                first, second = await notebook.run(
                    {"cell_id": "cell-0", "source": f"import time\ntime.sleep({delay})"},
                    "cell-1",
                )
                # The cancel lands at a random point around the second request's start.
                await asyncio.sleep(randomness.uniform(0, 0.03))
                code, answer = await post_json(
                    "api",
                    "collab-exec",
                    "cancel",
                    body={"document_id": notebook.document_id, "request_ids": [second]},
                )
                assert code == 200, answer
                await client.wait_until(
                    all_final(client, [first, second]), what=f"trial {trial} to finish"
                )
                assert client.request_status(first) == "ok"
                cell = client.cell("cell-1")
                if second in answer["cancelled"]:
                    assert client.request_status(second) == "cancelled"
                    assert cell["outputs"] == []
                else:
                    assert client.request_status(second) == "ok"
                    ran += 1
                    assert [o["text"] for o in cell["outputs"]] == [f"{ran}\n"]
                assert all_cells_idle(client)
        print(f"cancel-vs-start: {ran} ran, {trials - ran} cancelled")
        # Both sides of the race were taken.
        assert 0 < ran < trials
        # The kernel ran the cell exactly as often as the answers said it would.
        [check] = await notebook.run("cell-2")
        await client.wait_until(lambda: client.request_status(check) == "ok")
        assert json.loads(client.cell("cell-2")["outputs"][0]["text"]) == [1] * ran


async def test_execute_racing_restart_ends_every_request(
    tally: Tally,
    jp_fetch: Any,
    open_notebook: OpenNotebookFactory,
) -> None:
    """A run-all and a kernel restart at a random moment: every request ends, every cell
    is idle, the kernel state comes back, and the next run works."""
    randomness = random.Random("execute-vs-restart")
    cells = [f"import time\ntime.sleep(0.01)\nprint({index})" for index in range(8)]
    cell_ids = [f"cell-{index}" for index in range(len(cells))]
    # Runs that the restart cut short, and runs that it missed.
    outcomes = {False: 0, True: 0}
    async with open_notebook("restart-race.ipynb", cells) as notebook:
        client = notebook.client
        for trial in range(count(6, 50)):
            with tally.trial("execute-vs-restart"):
                restarting = asyncio.ensure_future(
                    restart_after(jp_fetch, notebook.kernel_id, randomness.uniform(0, 0.3))
                )
                request_ids = await notebook.run(*cell_ids)
                await restarting
                await client.wait_until(
                    all_final(client, request_ids), what=f"trial {trial}: every request to end"
                )
                await client.wait_until(
                    lambda: (
                        all_cells_idle(client)
                        and (client.kernel_state() or {}).get("execution_state") == "idle"
                    ),
                    what="idle cells and an idle kernel",
                )
                assert not any(
                    entry.get("status") == "pending" for entry in client.inputs().values()
                )
                statuses = [client.request_status(request_id) for request_id in request_ids]
                for request_id, cell_id, status in zip(
                    request_ids, cell_ids, statuses, strict=True
                ):
                    outputs = client.cell(cell_id)["outputs"]
                    index = cell_ids.index(cell_id)
                    if status == "ok":
                        assert [o["text"] for o in outputs] == [f"{index}\n"], request_id
                    elif status == "cancelled":
                        assert outputs == [], request_id
                outcomes[statuses.count("ok") == len(statuses)] += 1
                # Once a request is cut short, none after it ran.
                ended = [status == "ok" for status in statuses]
                assert ended == sorted(ended, reverse=True), statuses
                [after] = await notebook.run("cell-0")
                await notebook.wait_statuses([after], ["ok"], what="a run after the restart")
    print(f"execute-vs-restart: {outcomes[False]} cut short, {outcomes[True]} complete")
    assert outcomes[False] > 0


async def restart_after(jp_fetch: Any, kernel_id: str, delay: float) -> None:
    # The restart lands at a random point of the run.
    await asyncio.sleep(delay)
    await jp_fetch("api", "kernels", kernel_id, "restart", method="POST", body="{}")
