"""The reliability suite shares the server fixtures and keeps one tally per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .tally import Tally


@pytest.fixture(scope="session")
def tally() -> Iterator[Tally]:
    counts = Tally()
    yield counts
    counts.save()
