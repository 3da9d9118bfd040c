"""Split fixtures: a small synthetic snapshot with row ids, and configs that need no object store."""

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


@pytest.fixture
def snapshot() -> pd.DataFrame:
    """1000 rows, about 8% positives, shuffled so that row order is not time order."""
    frame = make_frame(SyntheticSpec(rows=1000, positive_rate=0.08), seed=5, day=RUN_DATE)
    frame = frame.sample(frac=1.0, random_state=5).reset_index(drop=True)
    frame.insert(0, ROW_ID, np.arange(len(frame), dtype=np.int64))
    return frame


@pytest.fixture
def config() -> Callable[..., PipelineConfig]:
    def build(**overrides: Any) -> PipelineConfig:
        return PipelineConfig.model_validate(merge(BASE_CONFIG, overrides))

    return build
