"""jupyter-server-nbmodel (latest 0.2.x) with jupyter-collaboration, in a venv of its own.

It is driven over its REST API the way its JupyterLab frontend drives it: one execute request
per cell, submitted one after the other (the frontend waits for each 202 before the next),
each polled with the frontend's backoff (100 ms doubling to 1 s) through at most six
connections, as a browser holds them. An input() reaches a client only through a poll of the
request that asked it (HTTP 300), and is answered with POST /api/kernels/<id>/input.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.systems.base import Workload, WorkloadResult, cpu_seconds, ensure_venv, peak_rss
from bench.systems.observer import Observer, measure_reconnect, observe
from bench.workloads import input_latencies_ms, normalized, outputs_match, percentile, workloads
from jupyterlab_collab_exec.tests.clients import ServerProcess

REQUIREMENTS = [
    "jupyter-server-nbmodel>=0.2.9,<0.3",
    "jupyter-collaboration>=5.0.4,<6",
    "jupyter-server-ydoc>=3.0.4,<4",
    "jupyter-server>=2.21,<3",
    "ipykernel>=7.4,<8",
]
NOTEBOOK = "bench.ipynb"
POLL_FIRST = 0.1
POLL_MAX = 1.0
BROWSER_CONNECTIONS = 6
SETTLE = 0.5
"""Quiet time after the last request completed before a doc that differs is judged."""


def deadline_for(workload: Workload) -> float:
    """10 minutes for a full-size workload, in proportion for a smaller one, at least one."""

    def size(case: Workload) -> int:
        loops = sum(
            max((int(n) for n in re.findall(r"range\((?:\d+, *)?(\d+)\)", source)), default=1)
            for source in case.cells
        )
        return loops + len(case.cells) + case.inputs

    full = workloads(1.0)[workload.key]
    return max(60.0, 600.0 * min(1.0, size(workload) / size(full)))


class Frontend:
    """What nbmodel's JupyterLab cell executor does, over HTTP."""

    def __init__(self, http: httpx.AsyncClient, kernel_id: str, room_id: str) -> None:
        self.http = http
        self.kernel_id = kernel_id
        self.room_id = room_id
        self.answered = 0

    async def run_cells(self, cells: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Submit the cells in order and poll each until it completes; its final answers."""
        polls: list[asyncio.Task[dict[str, Any]]] = []
        try:
            for cell_id, code in cells:
                response = await self.http.post(
                    f"api/kernels/{self.kernel_id}/execute",
                    json={
                        "code": code,
                        "metadata": {
                            "cell_id": cell_id,
                            "document_id": self.room_id,
                            "document_path": NOTEBOOK,
                        },
                    },
                )
                if response.status_code != 202:
                    raise RuntimeError(f"execute answered {response.status_code}: {response.text}")
                location = response.headers.get("Location") or response.json()["request_url"]
                polls.append(asyncio.create_task(self._poll(location)))
            return list(await asyncio.gather(*polls))
        finally:
            for poll in polls:
                poll.cancel()

    async def _poll(self, location: str) -> dict[str, Any]:
        interval = POLL_FIRST
        answered: set[str] = set()
        while True:
            await asyncio.sleep(interval)
            response = await self.http.get(location)
            if response.status_code == 300:
                request = response.json()
                msg_id = str(request["parent_header"]["msg_id"])
                if msg_id not in answered:
                    answered.add(msg_id)
                    reply = await self.http.post(
                        f"api/kernels/{self.kernel_id}/input",
                        json={"input": repr(time.time())},
                    )
                    reply.raise_for_status()
                    self.answered += 1
                # The frontend polls again at once after an answer (it keeps the answered
                # box 500 ms on screen first; that delay is cosmetic and left out here).
                interval = 0.0
            elif response.status_code == 202:
                interval = min(POLL_MAX, max(POLL_FIRST, interval * 2))
            elif response.status_code in (200, 500):
                body: dict[str, Any] = response.json()
                return body
            else:
                raise RuntimeError(f"polling answered {response.status_code}: {response.text}")


def output_counts(observer: Observer) -> list[int]:
    """How many outputs each cell of the observer's doc holds."""
    return [len(cell.get("outputs", ())) for cell in observer.client.notebook.ycells]


def _text(output: dict[str, Any]) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else str(text)


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_difference(
    key: str, actual: list[list[dict[str, Any]]], expected: list[list[dict[str, Any]]]
) -> str:
    """A short account of where final outputs differ from the expected ones."""

    def plain(cells: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
        stripped = [
            [{k: v for k, v in o.items() if k != "execution_count"} for o in c] for c in cells
        ]
        result: list[list[dict[str, Any]]] = normalized(stripped)
        return result

    got, want = plain(actual), plain(expected)
    if len(got) != len(want):
        return f"{key}: {len(got)} cells instead of {len(want)}"
    wrong = [index for index, (a, e) in enumerate(zip(got, want, strict=True)) if a != e]
    if not wrong:
        return f"{key}: no difference"
    first = wrong[0]
    where = f"{key}: cell {first}"
    if len(want) > 1:
        where = f"{key}: {len(wrong)} of {len(want)} cells differ, first cell {first}"
    outputs, wanted = got[first], want[first]
    if len(outputs) != len(wanted):
        kinds = [o.get("output_type") for o in outputs]
        return f"{where} has {len(outputs)} outputs {kinds} instead of {len(wanted)}"
    for a, e in zip(outputs, wanted, strict=True):
        if a == e:
            continue
        if a.get("output_type") == "stream" and e.get("output_type") == "stream":
            shown, text = _text(a), _text(e)
            return (
                f"{where}: {a.get('name')} holds {shown.count(chr(10))} lines, "
                f"{len(shown)} chars, ending {_short(shown[-40:])}; expected "
                f"{text.count(chr(10))} lines, {len(text)} chars, ending {_short(text[-40:])}"
            )
        for field in sorted(set(a) | set(e)):
            if a.get(field) != e.get(field):
                return (
                    f"{where}: {a.get('output_type')} {field} is {_short(a.get(field))}, "
                    f"expected {_short(e.get(field))}"
                )
    return f"{where} differs"


class NbmodelSystem:
    name = "jupyter-server-nbmodel"

    def available(self) -> str | None:
        return None

    def applies_to(self, workload: Workload) -> bool:
        # It leaves comm messages to the browsers: there is no widget state to measure.
        return workload.widget_values is None

    def server(self, python: Path, work_dir: Path) -> ServerProcess:
        # The venv's own config enables jupyter_server_nbmodel, jupyter_server_ydoc and
        # jupyter_server_fileid; nbmodel's settings endpoint answers only once it is loaded.
        return ServerProcess(
            work_dir,
            python=python,
            arguments=[
                f"--SQLiteYStore.db_path={work_dir / '.ystore.db'}",
                f"--BaseFileIdManager.db_path={work_dir / '.fileid.db'}",
                f"--BaseFileIdManager.root_dir={work_dir}",
            ],
            ready_path="api/nbmodel/settings/output-recovery",
        )

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        result = WorkloadResult(system=self.name, workload=workload.key)
        try:
            python = await ensure_venv("nbmodel", REQUIREMENTS)
        except Exception as error:
            result.error = f"install failed: {error}"
            return result
        workload.write(work_dir / NOTEBOOK)
        server = self.server(python, work_dir)
        deadline = deadline_for(workload)
        try:
            await server.start()
        except Exception as error:
            result.error = f"server did not start: {error}"
            if server.process is not None and server.process.returncode is None:
                server.process.kill()
                await server.process.wait()
            return result
        try:
            room_id, session_id = await server.session(NOTEBOOK)
            url = f"{server.url}/api/collaboration/room/{room_id}?sessionId={session_id}"
            url += f"&token={server.token}"
            if workload.prefilled_outputs is not None:
                measure = self._reconnect(workload, url, room_id, result, deadline)
            else:
                measure = self._execute(server, workload, url, room_id, result, deadline)
            await asyncio.wait_for(measure, deadline)
        except asyncio.TimeoutError:
            result.seconds = None
            result.correct = False
            result.error = f"{workload.key}: timed out after {deadline:.0f} s" + (
                f" ({result.error})" if result.error else ""
            )
        except Exception as error:
            result.error = f"{type(error).__name__}: {error}"
        finally:
            assert server.process is not None
            result.peak_rss_bytes = peak_rss(server.process.pid)
            try:
                await server.stop_gracefully()
            except AssertionError as error:
                # It was killed; the measurement stands, the hang is worth knowing.
                result.extra["shutdown_error"] = str(error)
        return result

    async def _execute(
        self,
        server: ServerProcess,
        workload: Workload,
        url: str,
        room_id: str,
        result: WorkloadResult,
        deadline: float,
    ) -> None:
        # A session, as JupyterLab opens one for the notebook; its path is what the
        # frontend sends as document_path.
        session = await server.request(
            "POST",
            "api/sessions",
            {"path": NOTEBOOK, "name": NOTEBOOK, "type": "notebook", "kernel": {"name": "python3"}},
        )
        kernel_id = str(session["kernel"]["id"])
        async with (
            observe(url, room_id) as observer,
            httpx.AsyncClient(
                base_url=server.url,
                headers=server.headers,
                limits=httpx.Limits(max_connections=BROWSER_CONNECTIONS),
                timeout=60,
            ) as http,
        ):
            frontend = Frontend(http, kernel_id, room_id)
            # Connect nbmodel's kernel client and warm the kernel up before the clock starts.
            await frontend.run_cells([("cell-0", "pass")])
            updates, received = observer.updates, observer.bytes_received
            assert server.process is not None
            cpu_before = cpu_seconds(server.process.pid)
            since = time.monotonic()
            try:
                await self._timed(workload, frontend, observer, result, deadline)
            finally:
                result.extra["server_cpu_seconds"] = cpu_seconds(server.process.pid) - cpu_before
                result.extra["busiest_second_updates"] = observer.busiest_second(since)
                result.observer_updates = observer.updates - updates
                result.observer_bytes = observer.bytes_received - received
                result.doc_bytes = observer.doc_bytes()
                if workload.inputs:
                    self._latencies(observer, result)
                    result.extra["inputs_answered"] = frontend.answered

    async def _timed(
        self,
        workload: Workload,
        frontend: Frontend,
        observer: Observer,
        result: WorkloadResult,
        deadline: float,
    ) -> None:
        matched_at: list[float] = []

        counts = [len(cell) for cell in workload.expected or []]

        def final() -> bool:
            if workload.expected is not None:
                # Counting outputs is cheap; converting the whole doc on every update would
                # take CPU from the server on a small machine.
                done = output_counts(observer) == counts and outputs_match(
                    observer.outputs(), workload.expected
                )
            else:
                outputs = observer.outputs()
                done = bool(outputs) and len(input_latencies_ms(outputs[0])) == workload.inputs
            if done and not matched_at:
                matched_at.append(time.perf_counter())
            return done

        cells = [(f"cell-{index}", source) for index, source in enumerate(workload.cells)]
        started = time.perf_counter()
        running = asyncio.create_task(frontend.run_cells(cells))
        shown = asyncio.create_task(observer.client.wait_until(final, deadline, "final outputs"))
        try:
            await asyncio.wait({running, shown}, return_when=asyncio.FIRST_COMPLETED)
            # The requests complete either way: a system is done when its API says so.
            answers = await running
            completed_at = time.perf_counter()
            if not shown.done():
                await self._settle(observer, final)
        finally:
            running.cancel()
            shown.cancel()
        failures = [a["error"] for a in answers if "error" in a]
        if matched_at:
            result.seconds = matched_at[0] - started
            result.correct = True
        else:
            result.seconds = completed_at - started
            result.correct = False
            if workload.expected is not None:
                result.error = describe_difference(
                    workload.key, observer.outputs(), workload.expected
                )
            else:
                result.error = (
                    f"{workload.key}: {frontend.answered} of {workload.inputs} inputs answered; "
                    "no latencies printed"
                )
        if failures:
            result.correct = False
            note = f"{workload.key}: {len(failures)} requests failed: {_short(failures[0], 120)}"
            result.error = f"{result.error}; {note}" if result.error else note

    @staticmethod
    async def _settle(observer: Observer, final: Callable[[], bool]) -> None:
        """Wait until the observer holds the final state, or receives nothing for a while."""
        seen = [observer.updates]

        def changed() -> bool:
            return observer.updates != seen[0]

        while not final():
            seen[0] = observer.updates
            try:
                await observer.client.wait_until(changed, SETTLE)
            except AssertionError:
                return

    @staticmethod
    def _latencies(observer: Observer, result: WorkloadResult) -> None:
        outputs = observer.outputs()
        latencies = input_latencies_ms(outputs[0]) if outputs else []
        if latencies:
            result.extra["input_latency_median_ms"] = statistics.median(latencies)
            result.extra["input_latency_p95_ms"] = percentile(latencies, 95)

    async def _reconnect(
        self, workload: Workload, url: str, room_id: str, result: WorkloadResult, deadline: float
    ) -> None:
        outputs = await measure_reconnect(workload, url, room_id, result, deadline)
        if not result.correct and workload.prefilled_outputs is not None:
            result.error = describe_difference(workload.key, outputs, workload.prefilled_outputs)
