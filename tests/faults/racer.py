"""One racing publisher, importable on its own: the concurrent-promotion test runs it in fresh processes.

Forking the test process itself could deadlock: a fork copies held locks of the parent's other threads (boto3's
connection pools, logging, OpenMP) into a child that never releases them. A forkserver forks from a clean
single-threaded process that imported only this module.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imbalance_jobs import pipeline
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.errors import PromotionRejected
from imbalance_jobs.publishing import publish
from imbalance_jobs.storage import ObjectStore, StorageSettings


def race(args: tuple[StorageSettings, dict[str, Any], str, dt.date]) -> str:
    """Publish this process's copy of the evaluated run. Returns the version or the refusal."""
    settings, config_data, run_id, run_date = args
    ctx = RunContext(
        config=PipelineConfig.model_validate(config_data),
        run_id=run_id,
        run_date=run_date,
        store=ObjectStore(settings),
        options=RunOptions(force="promote", force_reason="race"),
    )
    try:
        return publish(ctx, pipeline.load_summary(ctx, "evaluate")["verdict_uri"]).version or "none"
    except PromotionRejected as exc:
        return f"rejected: {exc}"
