"""Training fixtures: a small snapshot with row ids, configs without an object store, one thread for OpenMP.

The test machines share two cores; HistGradientBoosting's OpenMP threads spin-wait under contention and turn a
0.1 s fit into tens of seconds, so every test here runs single-threaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import BASE_CONFIG, RUN_DATE, merge

HGB = {"name": "hgb", "model": "hist_gradient_boosting", "model_params": {"max_iter": 20}}
LR_SMOTE = {"name": "lr_smote", "model": "logistic_regression", "imbalance": "smote"}
RF_UNDER = {
    "name": "rf_under",
    "model": "random_forest",
    "model_params": {"n_estimators": 10},
    "imbalance": "random_under",
    "imbalance_params": {"sampling_strategy": 0.5},
}


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def snapshot() -> pd.DataFrame:
    """600 rows, about 10% positives, numeric and categorical features, a few missing values."""
    frame = make_frame(SyntheticSpec(rows=600, positive_rate=0.1, n_numeric=5), seed=9, day=RUN_DATE)
    frame.insert(0, ROW_ID, np.arange(len(frame), dtype=np.int64))
    return frame


@pytest.fixture
def config() -> Callable[..., PipelineConfig]:
    """A validated config (no buckets are touched); ``candidates`` replaces the candidate list."""

    def build(*candidates: dict[str, Any], **overrides: Any) -> PipelineConfig:
        training = {"cv_folds": 3, "candidates": list(candidates) or [HGB]}
        return PipelineConfig.model_validate(merge(BASE_CONFIG, {"training": training, **overrides}))

    return build
