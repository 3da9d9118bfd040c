"""Object-store fixtures for the alert, monitoring and notifier tests: one bucket pair per test folder, one
pipeline name per test.

The embedded SeaweedFS server sizes its volume count from free disk (``-volume.max=0``, 256 MB volumes) and
grows 7 volumes for every bucket written to, so a session can only write to a few dozen buckets. Isolating tests
by pipeline name (every object of a pipeline lives under ``<bucket>/<pipeline>/``) keeps these folders at a
handful of buckets however many tests they hold.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.storage import ObjectStore
from tests.conftest import BASE_CONFIG, merge


@pytest.fixture(scope="session")
def shared_buckets(store: ObjectStore) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:10]
    names = {"source": f"src-{suffix}", "artifacts": f"art-{suffix}"}
    for name in names.values():
        store.ensure_bucket(name)
    return names


def isolated(buckets: dict[str, str], base: dict[str, Any] = BASE_CONFIG, **overrides: Any) -> dict[str, Any]:
    """Config data on the shared buckets under a fresh pipeline name; sources are partitioned by pipeline."""
    own = {
        "name": f"t_{uuid.uuid4().hex[:12]}",
        "source": {"bucket": buckets["source"], "prefix": "{pipeline}/dt={date}/"},
        "artifacts": {"bucket": buckets["artifacts"]},
    }
    return merge(merge(base, own), overrides)


@pytest.fixture
def make_config(shared_buckets: dict[str, str]) -> Callable[..., PipelineConfig]:
    """Overrides the root fixture: the same BASE_CONFIG, on shared buckets under this test's own pipeline name."""

    def build(**overrides: Any) -> PipelineConfig:
        return PipelineConfig.model_validate(isolated(shared_buckets, **overrides))

    return build
