"""Fixtures for the validation tests: small synthetic frames, staged windows and configs (no S3 server)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
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


def source_uri(day: dt.date, part: int = 0) -> str:
    return f"s3://src/fraud/dt={day.isoformat()}/part-{part}.parquet"


def write_window(
    path: Path, frames: list[tuple[dt.date, pd.DataFrame]], *, row_group_size: int | None = None
) -> list[dict[str, Any]]:
    """A staged snapshot as streaming ingest writes it: one ParquetWriter, each source object's rows in their own
    row groups (at most ``row_group_size`` rows), in manifest order; returns the manifest's ``objects``.

    ``row_group_size=0`` writes the whole window as one table instead (row groups span objects, as the
    pre-streaming ingest did).
    """
    whole = staged(pd.concat([f for _, f in frames], ignore_index=True))
    table = pa.Table.from_pandas(whole, preserve_index=False)
    objects, start = [], 0
    counts: dict[dt.date, int] = {}
    with pq.ParquetWriter(path, table.schema) as writer:
        if row_group_size == 0:
            writer.write_table(table)
        for day, frame in frames:
            part = counts[day] = counts.get(day, -1) + 1
            if row_group_size != 0:
                writer.write_table(table.slice(start, len(frame)), row_group_size=row_group_size or len(frame) or 1)
            objects.append({"uri": source_uri(day, part), "day": day.isoformat(), "rows": len(frame), "skipped": None})
            start += len(frame)
    return objects


@pytest.fixture(scope="session")
def window_frames() -> list[tuple[dt.date, pd.DataFrame]]:
    """Four days of ~400 rows each (~8% positives); passes the defaults as a window."""
    days = [RUN_DATE - dt.timedelta(days=k) for k in range(3, -1, -1)]
    return [(d, make_frame(replace(SPEC, rows=400), seed=11, day=d)) for d in days]
