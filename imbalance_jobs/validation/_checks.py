"""The validation plan: which expectations a config asks for, on which columns; pure pandas, no GE import.

Each check group of ``validation.warn_only`` (``VALIDATION_CHECKS``) maps to one or more Great Expectations
expectations, described here as plain :class:`Check` records so that the plan can be built and tested without
paying for the GE import.

Checks have one of three scopes. *Schema* checks (columns, types) read no rows: the staged snapshot is one parquet
file with one schema, so GE runs them once, on an empty frame with the file's dtypes. *Row* checks (label values
and nulls, null fractions, value ranges) are decided on counts that add up over the parts of a window, so GE runs
them on one partition batch at a time. *Window* checks (row count, distinct classes, class shares and counts, duplicates) need
the whole window; they are evaluated on counts summed over the batches (:mod:`._window`), never on the rows.

The frame GE sees is a *view* of one batch:

* the label column holds the string form of each label (``1`` and ``"1"`` are the same class, as in
  :mod:`imbalance_jobs.labels`), so one value set works for int and string labels;
* timezone-aware timestamps are converted to naive UTC, because GE's pandas type check cannot match a
  ``DatetimeTZDtype`` by name.

Window checks keep GE expectation names and kwargs (a class share is ``expect_column_mean_to_be_between`` on the
0/1 indicator ``<label>==<class>``), so the report and the Data Docs page read the same as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.errors import IngestError
from imbalance_jobs.features import FeatureSpec, resolve_features

if TYPE_CHECKING:
    import pandas as pd

NUMERIC_TYPES = (
    *(f"{k}{b}" for k in ("int", "uint") for b in (8, 16, 32, 64)),
    "float16",
    "float32",
    "float64",
    *(f"{k}{b}Dtype" for k in ("Int", "UInt") for b in (8, 16, 32, 64)),
    "Float32Dtype",
    "Float64Dtype",
)
DATETIME_TYPES = tuple(f"datetime64[{unit}]" for unit in ("s", "ms", "us", "ns"))
WINDOW_EXPECTATIONS = frozenset(
    {
        "expect_table_row_count_to_be_between",
        "expect_column_unique_value_count_to_be_between",
        "expect_column_mean_to_be_between",
        "expect_column_sum_to_be_between",
        "expect_compound_columns_to_be_unique",
    }
)
"""Expectations about the window as a whole: a day without positives is normal, a window without them is not."""
SCHEMA_EXPECTATIONS = frozenset({"expect_column_to_exist", "expect_column_values_to_be_in_type_list"})
"""Expectations about columns and dtypes: one staged file has one schema, so they run once, on no rows."""


@dataclass(frozen=True)
class Check:
    """One planned expectation: GE name and kwargs (on the view), its check group and what the report shows."""

    group: str
    expectation: str
    kwargs: dict[str, Any]
    column: str | None = None
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def scope(self) -> str:
        """``schema`` (once, on the columns), ``rows`` (per partition batch, then summed) or ``window`` (counts)."""
        if self.expectation in WINDOW_EXPECTATIONS:
            return "window"
        return "schema" if self.expectation in SCHEMA_EXPECTATIONS else "rows"


@dataclass(frozen=True)
class Plan:
    """Everything the plan builders need to know about the config and the data."""

    config: PipelineConfig
    present: frozenset[str]
    spec: FeatureSpec
    label_counts: dict[str, int] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.config.label.column

    @property
    def has_label(self) -> bool:
        return self.label in self.present


def indicator(label: str, cls: object) -> str:
    """Name of the 0/1 view column that marks rows of class ``cls``."""
    return f"{label}=={cls}"


def resolve_spec(config: PipelineConfig, frame: pd.DataFrame, *, source: str) -> FeatureSpec:
    """Features by kind; listed columns missing from the data are dropped here and reported by 'columns'."""
    feats = config.features

    def keep(cols: list[str] | None) -> list[str] | None:
        return None if cols is None else [c for c in cols if c in frame.columns]

    trimmed = config.model_copy(
        update={
            "features": feats.model_copy(
                update={"numeric": keep(feats.numeric), "categorical": keep(feats.categorical)}
            )
        }
    )
    listed = [*(feats.numeric or []), *(feats.categorical or [])]
    try:
        return resolve_features(trimmed, frame, source=source)
    except IngestError:
        if any(c not in frame.columns for c in listed):
            return FeatureSpec(numeric=(), categorical=())
        raise


def label_counts(config: PipelineConfig, frame: pd.DataFrame) -> dict[str, int]:
    """Rows per label value (string form, nulls left out), sorted by value."""
    if config.label.column not in frame.columns:
        return {}
    counts = frame[config.label.column].astype("string").value_counts(dropna=True).sort_index()
    return {str(k): int(v) for k, v in counts.items()}


def timestamp_columns(config: PipelineConfig) -> list[str]:
    return list(dict.fromkeys(c for c in (config.features.timestamp, config.split.timestamp_column) if c))


def view_columns(plan: Plan) -> list[str]:
    """Data columns a batch must hold: features, timestamps, ranged and null-limited columns, the label."""
    cfg = plan.config
    wanted = [
        *plan.spec.columns,
        *timestamp_columns(cfg),
        *cfg.validation.value_ranges,
        *cfg.validation.null_fraction,
        plan.label,
    ]
    return [c for c in dict.fromkeys(wanted) if c in plan.present]


def build_view(plan: Plan, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame GE validates: features, label (string form), timestamps, ranged columns; ``frame``'s index."""
    import pandas as pd

    cols: dict[str, Any] = {c: frame[c] for c in view_columns(plan) if c != plan.label}
    for col in timestamp_columns(plan.config):
        if col in cols and isinstance(cols[col].dtype, pd.DatetimeTZDtype):
            cols[col] = cols[col].dt.tz_convert(None)
    if plan.has_label:
        cols[plan.label] = frame[plan.label].astype("string")
    return pd.DataFrame(cols, index=frame.index)


def _columns(plan: Plan) -> list[Check]:
    """Columns the config names; inferred features exist by construction and are not listed."""
    cfg = plan.config
    names = [
        cfg.label.column,
        *(cfg.features.numeric or []),
        *(cfg.features.categorical or []),
        *timestamp_columns(cfg),
        *cfg.validation.value_ranges,
        *cfg.validation.null_fraction,
    ]
    return [Check("columns", "expect_column_to_exist", {"column": c}, c) for c in dict.fromkeys(names)]


def _types(plan: Plan) -> list[Check]:
    out = [
        Check(
            "types",
            "expect_column_values_to_be_in_type_list",
            {"column": c, "type_list": list(NUMERIC_TYPES)},
            c,
            {"kind": "numeric"},
        )
        for c in plan.spec.numeric
    ]
    out += [
        Check(
            "types",
            "expect_column_values_to_be_in_type_list",
            {"column": c, "type_list": list(DATETIME_TYPES)},
            c,
            {"kind": "datetime"},
        )
        for c in timestamp_columns(plan.config)
        if c in plan.present
    ]
    return out


def _label(plan: Plan) -> list[Check]:
    if not plan.has_label:
        return []
    names = [str(c) for c in plan.config.label.classes]
    col = plan.label
    return [
        Check("label", "expect_column_values_to_not_be_null", {"column": col}, col, {"max_nulls": 0}),
        Check(
            "label", "expect_column_values_to_be_in_set", {"column": col, "value_set": names}, col, {"value_set": names}
        ),
        Check(
            "label", "expect_column_unique_value_count_to_be_between", {"column": col, "min_value": 2}, col, {"min": 2}
        ),
    ]


def _min_rows(plan: Plan) -> list[Check]:
    low = plan.config.validation.min_rows
    return [Check("min_rows", "expect_table_row_count_to_be_between", {"min_value": low}, None, {"min": low})]


def _share(plan: Plan, group: str, cls: object, low: float, high: float) -> Check:
    kwargs = {"column": indicator(plan.label, cls), "min_value": low, "max_value": high}
    expected = {"class": str(cls), "min": low, "max": high}
    return Check(group, "expect_column_mean_to_be_between", kwargs, plan.label, expected)


def _minority_share(plan: Plan) -> list[Check]:
    if not plan.has_label:
        return []
    bounds = plan.config.validation.minority_share
    return [_share(plan, "minority_share", plan.config.label.positive, bounds.min, bounds.max)]


def _class_shares(plan: Plan) -> list[Check]:
    if not plan.has_label:
        return []
    return [_share(plan, "class_shares", cls, b.min, b.max) for cls, b in plan.config.validation.class_shares.items()]


def _min_minority_count(plan: Plan) -> list[Check]:
    """Every class needs ``min_minority_count`` rows; the majority passes trivially, the rare ones are the test."""
    if not plan.has_label:
        return []
    low = plan.config.validation.min_minority_count
    return [
        Check(
            "min_minority_count",
            "expect_column_sum_to_be_between",
            {"column": indicator(plan.label, cls), "min_value": low},
            plan.label,
            {"class": str(cls), "min": low},
        )
        for cls in plan.config.label.classes
    ]


def _null_fraction(plan: Plan) -> list[Check]:
    val = plan.config.validation
    cols = [c for c in dict.fromkeys([*plan.spec.columns, *val.null_fraction]) if c in plan.present]
    out = []
    for col in cols:
        limit = val.null_fraction.get(col, val.max_null_fraction)
        kwargs = {"column": col, "mostly": 1.0 - limit}
        out.append(Check("null_fraction", "expect_column_values_to_not_be_null", kwargs, col, {"max": limit}))
    return out


def _value_ranges(plan: Plan) -> list[Check]:
    out = []
    for col, rng in plan.config.validation.value_ranges.items():
        if col in plan.present and (rng.min is not None or rng.max is not None):
            kwargs = {"column": col, "min_value": rng.min, "max_value": rng.max}
            out.append(
                Check(
                    "value_ranges", "expect_column_values_to_be_between", kwargs, col, {"min": rng.min, "max": rng.max}
                )
            )
    return out


def _duplicates(plan: Plan) -> list[Check]:
    """Share of rows that have an identical twin over features + label (GE counts every member of a group)."""
    limit = plan.config.validation.max_duplicate_fraction
    cols = [c for c in [*plan.spec.columns, plan.label] if c in plan.present]
    if limit is None or len(cols) < 2:
        return []
    kwargs = {"column_list": cols, "mostly": 1.0 - limit, "ignore_row_if": "never"}
    return [Check("duplicates", "expect_compound_columns_to_be_unique", kwargs, None, {"max": limit, "columns": cols})]


BUILDERS: dict[str, Callable[[Plan], list[Check]]] = {
    "columns": _columns,
    "types": _types,
    "label": _label,
    "min_rows": _min_rows,
    "minority_share": _minority_share,
    "class_shares": _class_shares,
    "min_minority_count": _min_minority_count,
    "null_fraction": _null_fraction,
    "value_ranges": _value_ranges,
    "duplicates": _duplicates,
}


def build_checks(plan: Plan) -> list[Check]:
    """Every planned expectation, in ``VALIDATION_CHECKS`` order."""
    return [check for builder in BUILDERS.values() for check in builder(plan)]
