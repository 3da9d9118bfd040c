"""Split stage: set the test and validation rows aside before anything else touches the data.

Two methods, both reproducible:

* ``stratified`` -- two seeded stratified shuffles: first the test part is taken from all rows, then the
  validation part from what is left, so every part keeps the class shares of the whole snapshot.
* ``time`` -- rows are ordered by the timestamp column (ties broken by ``_row_id``); the newest rows become the
  test part, the ones before them the validation part, and the oldest the training part ("train on the past").

``test_size`` and ``validation_size`` are fractions of *all* rows. Every part must hold at least
:data:`MIN_ROWS_PER_CLASS` rows of every class, or the split fails with a message that says which part and
class fell short: a part without positives cannot be stratified in cross-validation nor scored afterwards.
Resampling and weighting happen later, inside the training part only (see :mod:`imbalance_jobs.training`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.labels import class_names, encode_labels
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MIN_ROWS_PER_CLASS", "PARTS", "SplitFrames", "SplitSummary", "split", "split_frame"]

PARTS = ("train", "validation", "test")
MIN_ROWS_PER_CLASS = 2


class SplitSummary(Summary):
    train_uri: str
    validation_uri: str
    test_uri: str
    method: str
    counts: dict[str, dict[str, int]]
    """part -> label value -> rows."""
    timestamp_column: str | None = None


@dataclass(frozen=True)
class SplitFrames:
    """The three disjoint parts; every frame keeps the ``_row_id`` column and the label column."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame
    method: str

    def parts(self) -> dict[str, pd.DataFrame]:
        return {"train": self.train, "validation": self.validation, "test": self.test}


def split_frame(config: PipelineConfig, frame: pd.DataFrame, *, source: str = "data") -> SplitFrames:
    """Split one labeled snapshot into train / validation / test by ``config.split``.

    Parameters
    ----------
    config : PipelineConfig
        ``split`` picks the method and sizes, ``seed`` the shuffle, ``label`` the stratification target.
    frame : DataFrame
        The ingested snapshot. A ``_row_id`` column is added when missing so row identity can be checked later.
    source : str
        Named in error messages (the snapshot URI in the stage).

    Returns
    -------
    SplitFrames
        Disjoint parts whose ``_row_id`` values together are exactly the input's.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import make_classification
    >>> from imbalance_jobs.config import PipelineConfig
    >>> X, y = make_classification(n_samples=1000, weights=[0.95, 0.05], random_state=0)
    >>> frame = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"]).assign(label=y)
    >>> config = PipelineConfig.model_validate({"name": "demo", "source": {"bucket": "src"},
    ...     "artifacts": {"bucket": "art"}, "label": {"column": "label"},
    ...     "training": {"candidates": [{"name": "hgb"}]}})
    >>> parts = split_frame(config, frame)
    >>> [len(parts.train), len(parts.validation), len(parts.test)]
    [600, 200, 200]
    """
    if ROW_ID not in frame.columns:
        frame = frame.assign(**{ROW_ID: np.arange(len(frame), dtype=np.int64)})
    y = encode_labels(frame[config.label.column], config.label, source=source)
    if config.split.method == "time":
        order = _time_order(config, frame, source)
        index = _time_parts(order, config.split.test_size, config.split.validation_size)
    else:
        index = _stratified_parts(y, config, source)
    _check_parts(index, y, config, source)
    frames = {part: _take(frame, rows) for part, rows in index.items()}
    return SplitFrames(**frames, method=config.split.method)


def split(ctx: RunContext, data_uri: str) -> SplitSummary:
    """Stage: read the snapshot, split it, stage ``split/{train,validation,test}.parquet``."""
    config = ctx.config
    frames = split_frame(config, ctx.store.get_frame(data_uri), source=data_uri)
    uris, counts = {}, {}
    for part, frame in frames.parts().items():
        uris[part] = ctx.staging_uri("split", f"{part}.parquet")
        ctx.store.put_frame(uris[part], frame)
        counts[part] = _code_counts(encode_labels(frame[config.label.column], config.label), config)
    return SplitSummary(
        train_uri=uris["train"],
        validation_uri=uris["validation"],
        test_uri=uris["test"],
        method=config.split.method,
        counts=counts,
        timestamp_column=_timestamp_column(config) if config.split.method == "time" else None,
    )


def _stratified_parts(y: np.ndarray, config: PipelineConfig, source: str) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    test_size, val_size = config.split.test_size, config.split.validation_size
    try:
        rest, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=config.seed)
        train, val = train_test_split(
            rest, test_size=val_size / (1.0 - test_size), stratify=y[rest], random_state=config.seed
        )
    except ValueError as exc:
        raise DataValidationError(
            source, [f"cannot stratify {len(y)} rows with class counts {_code_counts(y, config)} ({exc})"]
        ) from exc
    return {"train": np.sort(train), "validation": np.sort(val), "test": np.sort(test)}


def _time_parts(order: np.ndarray, test_size: float, val_size: float) -> dict[str, np.ndarray]:
    n = len(order)
    n_test = math.ceil(test_size * n)
    n_val = math.ceil(val_size * n)
    n_train = n - n_test - n_val
    return {"train": order[:n_train], "validation": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}


def _timestamp_column(config: PipelineConfig) -> str:
    column = config.split.timestamp_column or config.features.timestamp
    if column is None:  # the config schema already refuses this; kept for direct callers
        raise DataValidationError("config", ["split.method 'time' needs split.timestamp_column or features.timestamp"])
    return column


def _time_order(config: PipelineConfig, frame: pd.DataFrame, source: str) -> np.ndarray:
    """Row positions from oldest to newest; equal timestamps keep ``_row_id`` order."""
    import pandas as pd

    column = _timestamp_column(config)
    if column not in frame.columns:
        raise DataValidationError(source, [f"timestamp column '{column}' for the time split is missing"])
    values = frame[column]
    if not (pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_numeric_dtype(values)):
        try:
            values = pd.to_datetime(values, utc=True)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                source, [f"timestamp column '{column}' is not parseable as time ({exc})"]
            ) from exc
    nulls = int(values.isna().sum())
    if nulls:
        raise DataValidationError(source, [f"timestamp column '{column}' has {nulls} missing value(s); cannot order"])
    keys = values.rank(method="dense").to_numpy()
    return np.lexsort((frame[ROW_ID].to_numpy(), keys))


def _check_parts(index: dict[str, np.ndarray], y: np.ndarray, config: PipelineConfig, source: str) -> None:
    names = class_names(config.label)
    totals = np.bincount(y, minlength=len(names))
    problems = []
    for part, rows in index.items():
        counts = np.bincount(y[rows], minlength=len(names))
        for code, count in enumerate(counts):
            if count < MIN_ROWS_PER_CLASS:
                problems.append(
                    f"split part '{part}' has {count} row(s) of class '{names[code]}' ({totals[code]} in the data); "
                    f"every part needs at least {MIN_ROWS_PER_CLASS} per class: collect more data "
                    f"(source.lookback_days) or lower split.test_size / split.validation_size"
                )
    if problems:
        raise DataValidationError(source, problems)


def _take(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows at ``rows`` in the order given (time order for the time split, snapshot order otherwise)."""
    return frame.iloc[np.asarray(rows)].reset_index(drop=True)


def _code_counts(y: np.ndarray, config: PipelineConfig) -> dict[str, int]:
    names = class_names(config.label)
    return {names[i]: int(c) for i, c in enumerate(np.bincount(y, minlength=len(names)))}
