"""Monitoring test helpers: a trained champion copied under each test's own pipeline, and fresh partitions per day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout, RunContext
from imbalance_jobs.monitoring import MonitorSummary, monitor
from imbalance_jobs.storage import ObjectStore
from imbalance_jobs.synthetic import SyntheticSpec, write_partitions
from tests.alerts.stores import isolated
from tests.conftest import BASE_CONFIG, QUICK, RUN_DATE, merge

# Healthy days give the champion a recall around 0.37-0.39 (interval lower bounds >= 0.32); drift 1.0 moves the
# signal to other features and its recall falls to 0.11-0.17 (upper bounds <= 0.22): a floor of 0.25 separates the
# two. Monitoring decides on bootstrap intervals, so a day holds 4000 rows (~320 positives, intervals about
# +-0.05) for the whole interval to clear the floor.
MONITOR: dict[str, Any] = {
    "monitoring": {"recall_floor": 0.25, "max_recall_drop": 1.0, "min_positives": 30, "bootstrap_samples": 200},
    "split": {"salt": "monitoring-tests"},  # the same champion whatever the (random) pipeline name
    "alerts": {"delivery_attempts": 2, "retry_backoff_seconds": 0.0, "timeout_seconds": 2.0},
}
FRESH_ROWS = 4000
DRIFT = 1.0


def day(offset: int) -> dt.date:
    """A day after the champion's training window (which ends at RUN_DATE)."""
    return RUN_DATE + dt.timedelta(days=offset)


def monitored_config(buckets: dict[str, str], **overrides: Any) -> dict[str, Any]:
    """A quick, monitored pipeline on the shared buckets under a fresh pipeline name."""
    return isolated(buckets, merge(merge(BASE_CONFIG, QUICK), MONITOR), **overrides)


def copy_published(store: ObjectStore, source: PipelineConfig, target: PipelineConfig) -> None:
    """Versions, history and the champion pointer of ``source`` into ``target``'s artifacts (no staging)."""
    src_layout = PipelineLayout(source)
    src, dst = src_layout.root, PipelineLayout(target).root
    for obj in store.list(src + "/"):
        # Not monitoring/ or alerts/: the training run's own monitor record would become this test's history.
        if obj.uri.startswith(src_layout.published_prefixes):
            store.put_bytes(dst + obj.uri.removeprefix(src), store.get_bytes(obj.uri))


def write_day(
    store: ObjectStore,
    config: PipelineConfig,
    when: dt.date,
    *,
    drift: float = 0.0,
    rows: int = FRESH_ROWS,
    **spec: Any,
) -> None:
    write_partitions(
        store,
        bucket=config.source.bucket,
        prefix=config.source.prefix,
        pipeline=config.name,
        end_day=when,
        days=1,
        spec=SyntheticSpec(**{"rows": rows, "positive_rate": 0.08, "drift": drift, **spec}),
        seed=3,
    )


def monitor_day(store: ObjectStore, config: PipelineConfig, when: dt.date, run_id: str | None = None) -> MonitorSummary:
    return monitor(RunContext(config=config, run_id=run_id or f"monitor-{when}", run_date=when, store=store))
