"""Resampling fixtures: small mixed and categorical-only training frames; one thread for OpenMP/BLAS.

The test machines share two cores; HistGradientBoosting's OpenMP threads spin-wait under contention and turn a
0.1 s fit into tens of seconds, so every test here runs single-threaded.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import RUN_DATE

NUMERIC = ("f0", "f1", "f2", "f3", "amount")
CATEGORICAL = ("merchant_category", "channel")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="module")
def mixed() -> tuple[pd.DataFrame, np.ndarray, FeatureSpec]:
    """400 rows, about 12% positives, numeric (with a few missing values) and categorical features."""
    frame = make_frame(SyntheticSpec(rows=400, positive_rate=0.12, n_numeric=4), seed=2, day=RUN_DATE)
    return frame, frame["is_fraud"].to_numpy(), FeatureSpec(numeric=NUMERIC, categorical=CATEGORICAL)


@pytest.fixture(scope="module")
def categorical_only(mixed) -> tuple[pd.DataFrame, np.ndarray, FeatureSpec]:
    frame, y, _ = mixed
    return frame, y, FeatureSpec(numeric=(), categorical=CATEGORICAL)


@pytest.fixture(scope="module")
def numeric_only(mixed) -> tuple[pd.DataFrame, np.ndarray, FeatureSpec]:
    frame, y, _ = mixed
    return frame, y, FeatureSpec(numeric=NUMERIC, categorical=())
