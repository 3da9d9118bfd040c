"""Example-pipeline configs for the Airflow tests: configs/fraud.yaml, resized to run in seconds."""

from __future__ import annotations

import copy
from typing import Any

import yaml

from tests.conftest import REPO, merge


def example_config(name: str = "fraud") -> dict[str, Any]:
    return yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())


RUN_DAY = "2026-11-27"
FAST_CANDIDATES = [
    {"name": "logreg", "model": "logistic_regression"},
    {
        "name": "logreg_balanced",
        "model": "logistic_regression",
        "imbalance": "class_weight",
        "imbalance_params": {"class_weight": "balanced"},
    },
]


def fast_example_config(source: str, artifacts: str, **overrides: Any) -> dict[str, Any]:
    """configs/fraud.yaml on the given buckets, sized for a few hundred rows a day and two quick candidates."""
    data = example_config("fraud")
    data["training"]["candidates"] = copy.deepcopy(FAST_CANDIDATES)
    fast = {
        "source": {"bucket": source, "lookback_days": 3},
        "artifacts": {"bucket": artifacts},
        "validation": {"min_rows": 300, "min_minority_count": 20},
        "evaluation": {"bootstrap_samples": 200},
        # A first run promotes whatever clears a low bar; scenarios that need a rejection raise it.
        "gate": {"min_test_positives": 5, "min_average_precision": 0.05, "min_recall": 0.0},
    }
    return merge(merge(data, fast), overrides)
