"""The evaluation contract between nightly runs: which rows a model may have seen, recorded and checked.

Every run records a :class:`SplitSpec` (``runs/<id>/split/spec.json``, copied into each published version as
``split_spec.json``): how rows were given their part and which rows the model was fit or calibrated on. Before the
champion is re-scored on today's test rows, :func:`unseen_rows` uses the *champion's* spec to keep only rows the
champion never saw:

* ``same_contract``: both runs hash the same columns with the same salt and today's test range lies inside the
  champion's, so every one of today's test rows was a test row for the champion too;
* ``test_under_both``: the key, salt or fractions changed; the champion's hash is recomputed on today's rows and
  only rows that are test rows under both specs are compared;
* ``newer_than_cutoff``: the champion was split by time; only rows newer than its newest non-test row count;
* ``unverifiable``: the champion has no spec (published before contracts) or today's rows lack the columns its
  spec needs; nothing is compared and the gate answers "insufficient evidence" with this reason.

Pure functions of frames and specs: no storage, no models.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.row_hash import HASH_SCHEME, row_hash_unit
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SPLIT_FORMAT",
    "ComparedRows",
    "SplitSpec",
    "TimePoint",
    "hash_units",
    "rows_unseen_by",
    "time_values",
    "unseen_rows",
]

SPLIT_FORMAT = "imbalance-jobs/split@2"
CompareRule = Literal["no_champion", "same_contract", "test_under_both", "newer_than_cutoff", "unverifiable"]


class TimePoint(Summary):
    """A timestamp that survives JSON: ISO-8601 UTC for datetimes, a plain number for numeric time columns."""

    kind: Literal["datetime", "number"]
    value: str | float

    @classmethod
    def of(cls, value: object) -> TimePoint:
        import pandas as pd

        if isinstance(value, pd.Timestamp):
            return cls(kind="datetime", value=value.tz_convert("UTC").isoformat())
        return cls(kind="number", value=float(value))  # type: ignore[arg-type]

    def as_value(self) -> object:
        import pandas as pd

        return pd.Timestamp(self.value) if self.kind == "datetime" else float(self.value)


class SplitSpec(Summary):
    """How one run split its rows, and so which rows its model saw (every non-test row: fit or calibration)."""

    format: Literal["imbalance-jobs/split@2"] = SPLIT_FORMAT
    method: Literal["stratified", "time"]
    assignment: Literal["hash", "time_order"]
    key: list[str] | None
    """Configured row-key columns; ``None``: rows are hashed by their content (features + label)."""
    hashed_columns: list[str]
    salt: str
    scheme: str = HASH_SCHEME
    test_size: float
    validation_size: float
    test_range: tuple[float, float] | None = None
    """Hash assignment: units in [low, high) are test rows; every other unit was seen by the model."""
    validation_range: tuple[float, float] | None = None
    timestamp_column: str | None = None
    test_from: TimePoint | None = None
    seen_until: TimePoint | None = None
    """Time assignment: the newest non-test row; only rows strictly newer are unseen."""
    rows: dict[str, int]
    duplicate_rows: int = 0
    """Rows whose hashed values repeat an earlier row's (equal row hashes: floats compared as float32, as the hash
    does; they share its part); expected 0 with a real key."""

    @property
    def warnings(self) -> list[str]:
        out = []
        if self.assignment == "hash" and self.key is None:
            out.append(
                f"split.key is not set: rows are assigned by a hash of their content ({len(self.hashed_columns)} "
                f"columns), so identical rows share a part ({self.duplicate_rows} duplicate row(s) in this "
                f"snapshot); set split.key to a stable row id"
            )
        return out


@dataclass(frozen=True)
class ComparedRows:
    """Which of today's test rows champion and candidate are compared on, and why."""

    mask: np.ndarray | None
    """Boolean per test row; ``None`` when nothing can be compared (``unverifiable``)."""
    rule: CompareRule
    reason: str


def hash_units(frame: pd.DataFrame, spec: SplitSpec) -> np.ndarray:
    """The spec's hash unit in [0, 1) for each row of ``frame``."""
    return row_hash_unit(frame, spec.hashed_columns, spec.salt)


def time_values(frame: pd.DataFrame, column: str, *, source: str) -> pd.Series:
    """The time column as UTC datetimes (or numbers, kept as numbers); a clear error when unusable."""
    import pandas as pd

    if column not in frame.columns:
        raise DataValidationError(source, [f"timestamp column '{column}' for the time split is missing"])
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        out = values.astype(np.float64)
    else:
        try:
            out = pd.to_datetime(values, utc=True)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(
                source, [f"timestamp column '{column}' is not parseable as time ({exc})"]
            ) from exc
    nulls = int(out.isna().sum())
    if nulls:
        raise DataValidationError(source, [f"timestamp column '{column}' has {nulls} missing value(s); cannot order"])
    return out


def unseen_rows(champion: SplitSpec | None, today: SplitSpec, test: pd.DataFrame, *, version: str) -> ComparedRows:
    """Today's test rows that the champion (``version``, split by ``champion``) can never have seen."""
    if champion is None:
        return _no_contract(version)
    if champion.assignment == "hash" and _same_hash(champion, today):
        return ComparedRows(
            mask=np.ones(len(test), dtype=bool),
            rule="same_contract",
            reason=(
                f"same split contract as champion {version} (hash of {_cols(today)}, same salt, test range inside "
                f"the champion's): every test row was a test row for the champion too"
            ),
        )
    found = rows_unseen_by(champion, test, version=version)
    if found.rule != "test_under_both":
        return found
    return ComparedRows(
        mask=found.mask,
        rule=found.rule,
        reason=f"split contract changed since champion {version}; comparing on the test rows under both: {found.reason}",
    )


def rows_unseen_by(spec: SplitSpec | None, frame: pd.DataFrame, *, version: str) -> ComparedRows:
    """Rows of any frame (test rows, a fresh partition) that the model split by ``spec`` can never have seen.

    Hash contracts keep the rows inside the model's test range, time contracts the rows newer than its cutoff.
    """
    if spec is None:
        return _no_contract(version)
    if spec.assignment == "time_order":
        return _newer_than_cutoff(spec, frame, version)
    return _test_under_both(spec, frame, version)


def _no_contract(version: str) -> ComparedRows:
    return ComparedRows(
        mask=None,
        rule="unverifiable",
        reason=(
            f"champion {version} has no split contract (published before rows kept their part for life), so "
            f"nothing proves it never saw these rows; promote a first contracted version with --force-promote REASON"
        ),
    )


def _same_hash(champion: SplitSpec, today: SplitSpec) -> bool:
    return (
        today.assignment == "hash"
        and (champion.scheme, champion.hashed_columns, champion.salt)
        == (today.scheme, today.hashed_columns, today.salt)
        and today.test_range is not None
        and champion.test_range is not None
        and champion.test_range[0] <= today.test_range[0]
        and today.test_range[1] <= champion.test_range[1]
    )


def _missing(columns: list[str], test: pd.DataFrame, version: str) -> ComparedRows | None:
    missing = [c for c in columns if c not in test.columns]
    if not missing:
        return None
    return ComparedRows(
        mask=None,
        rule="unverifiable",
        reason=f"today's test rows lack column(s) {missing} that champion {version}'s split contract needs",
    )


def _test_under_both(champion: SplitSpec, test: pd.DataFrame, version: str) -> ComparedRows:
    if champion.scheme != HASH_SCHEME:
        return ComparedRows(
            mask=None, rule="unverifiable", reason=f"champion {version} used unknown hash scheme {champion.scheme!r}"
        )
    problem = _missing(champion.hashed_columns, test, version)
    if problem:
        return problem
    low, high = champion.test_range or (0.0, 0.0)
    units = hash_units(test, champion)
    mask = (units >= low) & (units < high)
    return ComparedRows(
        mask=mask,
        rule="test_under_both",
        reason=(
            f"{int(mask.sum())} of {len(test)} rows are test rows under champion {version}'s contract (hash of "
            f"{_cols(champion)}, salt '{champion.salt}', test range [{low:g}, {high:g}))"
        ),
    )


def _newer_than_cutoff(champion: SplitSpec, test: pd.DataFrame, version: str) -> ComparedRows:
    column, cutoff = champion.timestamp_column, champion.seen_until
    if column is None or cutoff is None:
        return ComparedRows(mask=None, rule="unverifiable", reason=f"champion {version}'s time contract has no cutoff")
    problem = _missing([column], test, version)
    if problem:
        return problem
    values = time_values(test, column, source="test rows")
    kind = "datetime" if str(values.dtype).startswith("datetime") else "number"
    if kind != cutoff.kind:
        return ComparedRows(
            mask=None,
            rule="unverifiable",
            reason=f"'{column}' holds {kind}s today but champion {version}'s cutoff is a {cutoff.kind}",
        )
    mask = (values > cutoff.as_value()).to_numpy()
    return ComparedRows(
        mask=mask,
        rule="newer_than_cutoff",
        reason=(
            f"champion {version} was split by time and saw rows up to {column} = {cutoff.value}: "
            f"{int(mask.sum())} of {len(test)} rows are newer than that"
        ),
    )


def _cols(spec: SplitSpec) -> str:
    if spec.key is not None:
        return f"key {spec.key}"
    return f"the content of {len(spec.hashed_columns)} columns"
