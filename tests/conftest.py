"""Shared fixtures: one real SeaweedFS S3 server per test session, unique buckets per test, config builders."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from threadpoolctl import threadpool_limits

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.local_s3 import LocalS3Server
from imbalance_jobs.pipeline import RunSummary, run_pipeline
from imbalance_jobs.storage import ObjectStore
from imbalance_jobs.synthetic import SyntheticSpec, write_partitions

REPO = Path(__file__).resolve().parents[1]
RUN_DATE = dt.date(2026, 11, 27)

BASE_CONFIG: dict[str, Any] = {
    "name": "fraud_test",
    "seed": 42,
    "source": {"bucket": "labeled", "prefix": "fraud/dt={date}/", "format": "parquet", "lookback_days": 3},
    "artifacts": {"bucket": "models"},
    "label": {"column": "is_fraud", "classes": [0, 1], "positive": 1},
    "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
    "validation": {"min_rows": 200, "min_minority_count": 20, "minority_share": {"min": 0.01, "max": 0.3}},
    "training": {
        "cv_folds": 3,
        "candidates": [{"name": "hgb", "model": "hist_gradient_boosting", "model_params": {"max_iter": 40}}],
    },
    "evaluation": {"bootstrap_samples": 200},
    "gate": {"min_test_positives": 10},
}


QUICK: dict[str, Any] = {
    "source": {"lookback_days": 3},
    "training": {
        "cv_folds": 3,
        "candidates": [{"name": "hgb", "model": "hist_gradient_boosting", "model_params": {"max_iter": 30}}],
    },
    "gate": {"min_test_positives": 10},
}
"""A one-candidate config small enough for whole-run tests (seconds per run)."""


@pytest.fixture(autouse=True, scope="session")
def _one_openmp_thread() -> Iterator[None]:
    """Tests share two cores with a server process: OpenMP spin-waiting under contention makes
    HistGradientBoosting fits up to 100x slower, so every test runs native thread pools single-threaded."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3Server]:
    """A real S3-compatible server (SeaweedFS) on loopback, shared by the whole session."""
    server = LocalS3Server(tmp_path_factory.mktemp("seaweedfs"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def store(s3_server: LocalS3Server) -> ObjectStore:
    return ObjectStore(s3_server.settings)


@pytest.fixture
def buckets(store: ObjectStore) -> dict[str, str]:
    """A fresh source bucket and artifacts bucket for one test, so tests never see each other's objects."""
    suffix = uuid.uuid4().hex[:10]
    names = {"source": f"src-{suffix}", "artifacts": f"art-{suffix}"}
    for name in names.values():
        store.ensure_bucket(name)
    return names


def merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``overrides`` into a copy of ``base`` (lists replace lists)."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


@pytest.fixture
def make_config(buckets: dict[str, str]) -> Callable[..., PipelineConfig]:
    """Build a validated config on this test's buckets; keyword arguments deep-merge into BASE_CONFIG."""

    def build(**overrides: Any) -> PipelineConfig:
        data = merge(
            BASE_CONFIG, {"source": {"bucket": buckets["source"]}, "artifacts": {"bucket": buckets["artifacts"]}}
        )
        return PipelineConfig.model_validate(merge(data, overrides))

    return build


@pytest.fixture
def make_context(store: ObjectStore) -> Callable[..., RunContext]:
    def build(config: PipelineConfig, *, run_id: str = "run-1", run_date: dt.date = RUN_DATE, **options: Any):
        return RunContext(config=config, run_id=run_id, run_date=run_date, store=store, options=RunOptions(**options))

    return build


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def seed(store: ObjectStore, config: PipelineConfig, *, end: dt.date = RUN_DATE, days: int = 3, **spec: Any) -> None:
    """Write ``days`` synthetic partitions for ``config`` ending at ``end``; ``spec`` overrides SyntheticSpec."""
    write_partitions(
        store,
        bucket=config.source.bucket,
        prefix=config.source.prefix,
        pipeline=config.name,
        end_day=end,
        days=days,
        spec=SyntheticSpec(**{"rows": 400, "positive_rate": 0.08, **spec}),
        seed=3,
        fmt=config.source.format,
    )


@pytest.fixture
def quick_config(make_config: Callable[..., PipelineConfig]) -> Callable[..., PipelineConfig]:
    """Like make_config, starting from QUICK."""

    def build(**overrides: Any) -> PipelineConfig:
        return make_config(**merge(QUICK, overrides))

    return build


@pytest.fixture
def run(make_context: Callable[..., RunContext]) -> Callable[..., RunSummary]:
    """Run the whole pipeline for a config; keyword arguments become RunOptions."""

    def go(config: PipelineConfig, run_id: str, *, run_date: dt.date = RUN_DATE, **options: Any) -> RunSummary:
        return run_pipeline(make_context(config, run_id=run_id, run_date=run_date, **options))

    return go
