"""Monitoring fixtures: one champion trained per session, copied under every test's own pipeline name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.pipeline import run_pipeline
from imbalance_jobs.storage import ObjectStore
from tests.alerts import stores
from tests.alerts.receivers import dead_port, http_receiver, smtp_receiver  # noqa: F401 (fixtures)
from tests.conftest import RUN_DATE, seed
from tests.monitoring.helpers import copy_published, monitored_config

shared_buckets = stores.shared_buckets  # one bucket pair for the folder; tests differ by pipeline name


@pytest.fixture(scope="session")
def trained(store: ObjectStore, shared_buckets: dict[str, str]) -> PipelineConfig:
    """A pipeline whose first run (3 days x 400 rows, one quick candidate) promoted a champion."""
    config = PipelineConfig.model_validate(monitored_config(shared_buckets))
    seed(store, config)
    summary = run_pipeline(RunContext(config=config, run_id="train", run_date=RUN_DATE, store=store))
    assert summary.decision == "promote"
    return config


@pytest.fixture
def pipeline(
    trained: PipelineConfig, store: ObjectStore, shared_buckets: dict[str, str]
) -> Callable[..., PipelineConfig]:
    """Build this test's config (overrides deep-merge) under its own pipeline name, holding a copy of the champion."""

    def build(*, champion: bool = True, **overrides: Any) -> PipelineConfig:
        config = PipelineConfig.model_validate(monitored_config(shared_buckets, **overrides))
        if champion:
            copy_published(store, trained, config)
        return config

    return build
