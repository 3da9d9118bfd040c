"""Model-io fixtures: one thread for OpenMP (two shared cores make HistGradientBoosting crawl otherwise)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield
