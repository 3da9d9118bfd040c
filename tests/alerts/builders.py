"""Small builders for configs, evaluations and alerts in the alert tests (fixtures live in conftest.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from imbalance_jobs.alerts import Alert, AlertCI, AlertLinks, RuleEvaluation, build_alert
from imbalance_jobs.config import PipelineConfig
from tests.conftest import BASE_CONFIG, merge

DAY = dt.date(2026, 11, 28)


def config_of(**overrides: Any) -> PipelineConfig:
    """A valid config on fixed bucket names, for tests that never touch the object store."""
    return PipelineConfig.model_validate(merge(BASE_CONFIG, overrides))


def evaluation(rule: str = "recall_floor", status: str = "breach", **fields: Any) -> RuleEvaluation:
    base: dict[str, Any] = {
        "message": f"{rule} is {status}",
        "metric": "recall",
        "observed": 0.12,
        "threshold": 0.3,
        "ci": AlertCI(low=0.05, high=0.2, confidence=0.95),
    }
    return RuleEvaluation(rule=rule, status=status, **{**base, **fields})


def alert(
    config: PipelineConfig, rule: str = "recall_floor", kind: str = "alarm", day: dt.date = DAY, **fields: Any
) -> Alert:
    links = AlertLinks(monitor_record=f"s3://models/{config.name}/monitoring/{day}.json")
    return build_alert(
        config, evaluation(rule, **fields), kind, day=day, run_id="run-1", champion_version="v1", links=links
    )
