"""The reliability suite shares the server fixtures, keeps one tally per session, and opens
the hostile suites' world."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from ..conftest import DocumentIdFor, Execute, JoinRoom, StartKernel
from .tally import Tally
from .world import FuzzWorld, fuzz_world

OpenFuzzWorld = Callable[[], AbstractAsyncContextManager[FuzzWorld]]


@pytest.fixture(scope="session")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    counts.save()


@pytest.fixture
def open_fuzz_world(
    jp_root_dir: Path,
    jp_serverapp: Any,
    document_id_for: DocumentIdFor,
    join_room: JoinRoom,
    start_kernel: StartKernel,
    execute: Execute,
) -> OpenFuzzWorld:
    """`async with open_fuzz_world() as (known, docs, client)`: see `fuzz_world`."""
    return lambda: fuzz_world(
        jp_root_dir, jp_serverapp, document_id_for, join_room, start_kernel, execute
    )
