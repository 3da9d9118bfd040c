"""Fixtures for the validation tests: small synthetic frames and configs that need no S3 server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import BASE_CONFIG, RUN_DATE, merge

SPEC = SyntheticSpec(rows=800, n_numeric=3, n_informative=3, positive_rate=0.08, null_fraction=0.01)


def staged(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame as ingest stages it: with the ``_row_id`` column first."""
    out = frame.reset_index(drop=True)
    out.insert(0, ROW_ID, np.arange(len(out), dtype=np.int64))
    return out


@pytest.fixture(scope="session")
def clean_frame() -> pd.DataFrame:
    """~800 rows, ~8% positives, 3 numeric + 2 categorical features, a tz-aware timestamp; passes the defaults."""
    return staged(make_frame(SPEC, seed=7, day=RUN_DATE))


@pytest.fixture
def frame(clean_frame: pd.DataFrame) -> pd.DataFrame:
    """A private copy each test may damage."""
    return clean_frame.copy()


@pytest.fixture
def config() -> Callable[..., PipelineConfig]:
    """``config(**overrides)``: BASE_CONFIG with deep-merged overrides; buckets are never touched here."""

    def build(**overrides: Any) -> PipelineConfig:
        return PipelineConfig.model_validate(merge(BASE_CONFIG, overrides))

    return build


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261127)
