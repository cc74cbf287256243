"""What every benchmarked system provides, and what the harness measures.

A system runs its own Jupyter server (or, for the limit, a bare kernel client) in its own
environment. For each workload the harness asks it for one `WorkloadResult`; the system
prepares a notebook, starts what it needs, runs the workload's cells as its users would,
and reports what an observing room client saw.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nbformat
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager

BENCH_ROOT = Path(__file__).resolve().parent.parent
VENVS = BENCH_ROOT / ".venvs"


@dataclass(frozen=True)
class Workload:
    """One workload: the cells of a notebook and what must end in their outputs."""

    key: str
    title: str
    cells: list[str]
    expected: list[list[dict[str, Any]]] | None
    """Expected outputs per cell, as JupyterLab holds them; None when not output-based."""
    inputs: int = 0
    """How many input() prompts the cells ask, answered as they come."""
    prefilled_outputs: list[list[dict[str, Any]]] | None = None
    """Outputs already saved in the notebook (the reconnect workload)."""
    widget_values: dict[str, int] | None = None
    """The final `value` of each widget the cells make, by model name (widget workloads)."""

    def notebook(self) -> Any:
        notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
        notebook.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        for index, source in enumerate(self.cells):
            cell = nbformat.v4.new_code_cell(source, id=f"cell-{index}")  # type: ignore[no-untyped-call]
            if self.prefilled_outputs is not None:
                cell.outputs = [
                    nbformat.from_dict(output)  # type: ignore[no-untyped-call]
                    for output in self.prefilled_outputs[index]
                ]
                cell.execution_count = index + 1
            notebook.cells.append(cell)
        return notebook

    def write(self, path: Path) -> None:
        path.write_text(nbformat.writes(self.notebook()), "utf-8")  # type: ignore[no-untyped-call]


@dataclass
class WorkloadResult:
    system: str
    workload: str
    seconds: float | None = None
    """Wall time until the observer holds the final state (None when it never did)."""
    correct: bool = False
    error: str | None = None
    observer_updates: int = 0
    observer_bytes: int = 0
    doc_bytes: int = 0
    """The final encoded size of the notebook's Y.Doc."""
    peak_rss_bytes: int = 0
    """The server process's peak resident memory."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class System(Protocol):
    name: str

    def available(self) -> str | None:
        """None when the system can run here, else why not."""

    def applies_to(self, workload: Workload) -> bool:
        """Whether the system runs this workload at all; the harness skips the others
        instead of reporting them as failed."""

    async def run(self, workload: Workload, work_dir: Path) -> WorkloadResult:
        """Run one workload from a fresh server, and measure it."""


def peak_rss(pid: int) -> int:
    """A process's peak resident set size, from /proc (Linux)."""
    return _status_bytes(pid, "VmHWM:")


def current_rss(pid: int) -> int:
    """A process's resident set size now, from /proc (Linux)."""
    return _status_bytes(pid, "VmRSS:")


def _status_bytes(pid: int, field: str) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith(field):
            return int(line.split()[1]) * 1024
    return 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def venv_python(name: str) -> Path:
    return VENVS / name / "bin" / "python"


async def ensure_venv(name: str, requirements: list[str]) -> Path:
    """A venv of its own for a system, installed from PyPI once."""
    python = venv_python(name)
    marker = VENVS / name / ".installed"
    wanted = "\n".join(requirements)
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    VENVS.mkdir(parents=True, exist_ok=True)
    if not python.exists():
        await _run(sys.executable, "-m", "venv", str(VENVS / name))
    await _run(str(python), "-m", "pip", "install", "--quiet", *requirements)
    marker.write_text(wanted)
    return python


async def _run(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    )
    if await process.wait() != 0:
        raise RuntimeError(f"{' '.join(command)} failed")


@asynccontextmanager
async def local_kernel(warm: bool = True) -> AsyncIterator[AsyncKernelClient]:
    """A python3 kernel of this machine and a client with its channels started, ready, and
    (with `warm`) warmed up with one trivial execution, as the project's kernel is; shut
    down on exit."""
    manager = AsyncKernelManager(kernel_name="python3")
    await manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        if warm:
            await client.execute_interactive("pass", timeout=60, output_hook=lambda msg: None)
        yield client
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
