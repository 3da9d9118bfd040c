"""Synthetic rare-event data in dated partitions, for the demo, the tests and the benchmarks.

The label follows a logistic model over numeric and categorical features, with an intercept solved so the
positive share matches ``positive_rate``. ``drift`` in [0, 1] moves the signal to other features, which is how
tests make a deployed champion start missing the rare class.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from imbalance_jobs.storage import ObjectStore, join_uri

__all__ = ["SyntheticSpec", "make_frame", "write_partitions"]

CATEGORIES = {
    "merchant_category": ["grocery", "travel", "electronics", "fuel", "gaming", "fashion", "pharmacy", "other"],
    "channel": ["web", "app", "pos"],
}


@dataclass(frozen=True)
class SyntheticSpec:
    """Shape of the generated data; the defaults give a small fraud-like table."""

    rows: int = 2000
    positive_rate: float = 0.05
    n_numeric: int = 8
    n_informative: int = 5
    categorical: bool = True
    null_fraction: float = 0.01
    drift: float = 0.0
    label_column: str = "is_fraud"
    label_values: tuple[int | str, int | str] = (0, 1)
    signal: float = 2.6


def make_frame(spec: SyntheticSpec, *, seed: int, day: dt.date) -> pd.DataFrame:
    """One day of labeled rows; the same ``seed`` and ``day`` give the same frame.

    Examples
    --------
    >>> import datetime as dt
    >>> df = make_frame(SyntheticSpec(rows=500), seed=0, day=dt.date(2026, 11, 27))
    >>> df.shape[0], sorted(df["is_fraud"].unique().tolist())
    (500, [0, 1])
    """
    rng = np.random.default_rng([seed, day.toordinal()])
    n = spec.rows
    x = rng.normal(size=(n, spec.n_numeric)).astype(np.float64)
    frame = pd.DataFrame({f"f{i}": x[:, i] for i in range(spec.n_numeric)})
    frame.insert(0, "txn_id", np.arange(n, dtype=np.int64) + day.toordinal() * 10_000_000)
    amount = np.exp(rng.normal(3.5, 1.0, size=n))
    frame["amount"] = np.round(amount, 2)
    logit = _signal(x, spec, seed) * spec.signal + 0.4 * np.log1p(amount)
    if spec.categorical:
        for col, levels in CATEGORIES.items():
            codes = rng.integers(0, len(levels), size=n)
            effects = np.random.default_rng([seed, len(levels)]).normal(0, 0.8, size=len(levels))
            logit += effects[codes]
            frame[col] = pd.Categorical.from_codes(codes, levels).astype(str)
    logit += _intercept(logit, spec.positive_rate)
    positive = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    if spec.label_values == (0, 1):
        frame[spec.label_column] = positive.astype(np.int64)
    else:
        frame[spec.label_column] = np.where(positive, spec.label_values[1], spec.label_values[0])
    start = pd.Timestamp(day, tz="UTC")
    frame["event_time"] = start + pd.to_timedelta(np.sort(rng.uniform(0, 86_399, size=n)), unit="s")
    _add_nulls(frame, rng, spec.null_fraction)
    return frame


def _signal(x: np.ndarray, spec: SyntheticSpec, seed: int) -> np.ndarray:
    k = min(spec.n_informative, spec.n_numeric)
    w = np.random.default_rng([seed, 7]).normal(1.0, 0.3, size=k) * np.sign(np.arange(k) % 2 - 0.5)
    base = x[:, :k] @ w / np.sqrt(k)
    if spec.drift <= 0:
        return base
    other = x[:, -k:][:, ::-1] @ np.abs(w) / np.sqrt(k)
    return (1 - spec.drift) * base + spec.drift * other


def _intercept(logit: np.ndarray, rate: float) -> float:
    lo, hi = -30.0, 30.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(logit + mid)))) > rate:
            hi = mid
        else:
            lo = mid
    return (lo + hi) / 2


def _add_nulls(frame: pd.DataFrame, rng: np.random.Generator, fraction: float) -> None:
    if fraction <= 0:
        return
    for col in ("f1", "amount"):
        if col in frame:
            frame.loc[rng.random(len(frame)) < fraction, col] = np.nan


def write_partitions(
    store: ObjectStore,
    *,
    bucket: str,
    prefix: str,
    pipeline: str,
    end_day: dt.date,
    days: int,
    spec: SyntheticSpec,
    seed: int,
    fmt: str = "parquet",
) -> list[str]:
    """Write ``days`` daily partitions ending at ``end_day``; returns the object URIs written."""
    store.ensure_bucket(bucket)
    uris = []
    for offset in range(days - 1, -1, -1):
        day = end_day - dt.timedelta(days=offset)
        frame = make_frame(spec, seed=seed, day=day)
        folder = prefix.format(date=day.isoformat(), pipeline=pipeline)
        uri = join_uri(f"s3://{bucket}", folder, f"part-0.{fmt}")
        store.put_bytes(uri, _encode(frame, fmt))
        uris.append(uri)
    return uris


def _encode(frame: pd.DataFrame, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "csv":
        frame.to_csv(buf, index=False)
    else:
        frame.to_parquet(buf, index=False)
    return buf.getvalue()
