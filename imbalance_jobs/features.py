"""Which columns are features, and of which kind; inferred from the data where the config leaves it open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.errors import IngestError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ROW_ID", "FeatureSpec", "required_columns", "resolve_features"]

ROW_ID = "_row_id"
"""Stable row identity added at ingest; never a feature. Tests use it to prove which rows a step touched."""


@dataclass(frozen=True)
class FeatureSpec:
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def columns(self) -> list[str]:
        return [*self.numeric, *self.categorical]


def required_columns(config: PipelineConfig) -> list[str] | None:
    """Columns that must be read, or ``None`` when features are inferred (read everything)."""
    feats = config.features
    if feats.numeric is None or feats.categorical is None:
        return None
    extra = [c for c in (feats.timestamp, config.split.timestamp_column, *(config.split.key or [])) if c]
    return list(dict.fromkeys([*feats.numeric, *feats.categorical, config.label.column, *extra]))


def resolve_features(config: PipelineConfig, frame: pd.DataFrame, *, source: str = "data") -> FeatureSpec:
    """Feature columns by kind. Listed columns must exist; unlisted ones are inferred from dtypes."""
    import pandas as pd

    feats = config.features
    reserved = {
        config.label.column,
        ROW_ID,
        feats.timestamp,
        config.split.timestamp_column,
        *feats.exclude,
        *(config.split.key or []),  # a row id is never a feature
    }
    listed = [*(feats.numeric or []), *(feats.categorical or [])]
    missing = [c for c in listed if c not in frame.columns]
    if missing:
        raise IngestError(f"{source}: feature column(s) {missing} listed in the config are not in the data")
    free = [c for c in frame.columns if c not in reserved and c not in listed]

    def is_numeric(col: str) -> bool:
        dtype = frame[col].dtype
        return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)

    def is_categorical(col: str) -> bool:
        dtype = frame[col].dtype
        return not is_numeric(col) and not pd.api.types.is_datetime64_any_dtype(dtype)

    numeric = feats.numeric if feats.numeric is not None else [c for c in free if is_numeric(c)]
    categorical = feats.categorical if feats.categorical is not None else [c for c in free if is_categorical(c)]
    if not numeric and not categorical:
        raise IngestError(f"{source}: no feature columns found (label '{config.label.column}' only?)")
    return FeatureSpec(numeric=tuple(numeric), categorical=tuple(categorical))
