"""One readable line per expectation result: the expectation, the column, what was expected, what was observed.

``observed`` is what the line reports, as a plain JSON value: a share, a count, a dtype name or the values found
outside a set. Lines look like
``expect_column_mean_to_be_between(is_fraud): minority share (class 1) 0.0012 outside [0.01, 0.2]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from imbalance_jobs.validation._checks import Check

MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Outcome:
    """What GE reported for one check, already converted to plain Python values."""

    check: Check
    success: bool
    result: dict[str, Any]
    error: str | None
    rows: int
    label_counts: dict[str, int]


def num(value: float | None) -> str:
    """Shares and bounds with four significant digits: ``0.0012``, ``0.2``, ``1e+06``."""
    return "n/a" if value is None else f"{value:.4g}"


def _between(low: float | None, high: float | None) -> str:
    return f"[{num(low) if low is not None else '-inf'}, {num(high) if high is not None else 'inf'}]"


def _unexpected_fraction(result: dict[str, Any]) -> float | None:
    total = result.get("element_count")
    return None if not total else result.get("unexpected_count", 0) / total


def _examples(result: dict[str, Any]) -> list[Any]:
    seen: list[Any] = []
    for value in result.get("partial_unexpected_list") or []:
        if value not in seen:
            seen.append(value)
    return seen[:MAX_EXAMPLES]


def _exist(o: Outcome) -> tuple[Any, str]:
    col = o.check.column
    return (True, f"column '{col}' is present") if o.success else (False, f"column '{col}' is missing")


def _types(o: Outcome) -> tuple[Any, str]:
    dtype, kind = o.result.get("observed_value"), o.check.expected["kind"]
    verb = "is" if o.success else "is not"
    return dtype, f"dtype '{dtype}' {verb} {kind}"


def _not_null(o: Outcome) -> tuple[Any, str]:
    nulls = int(o.result.get("unexpected_count") or 0)
    if o.check.group == "label":
        return nulls, f"label column '{o.check.column}' has {nulls} null value(s); expected none"
    share, limit = _unexpected_fraction(o.result) or 0.0, o.check.expected["max"]
    word = "within" if o.success else "above"
    return share, f"null fraction {num(share)} {word} limit {num(limit)} ({nulls} of {o.rows} rows)"


def _in_set(o: Outcome) -> tuple[Any, str]:
    bad, allowed = int(o.result.get("unexpected_count") or 0), o.check.expected["value_set"]
    examples = [str(v) for v in _examples(o.result)]
    return examples, f"label column '{o.check.column}': {bad} value(s) outside {allowed}: {examples}"


def _classes(o: Outcome) -> tuple[Any, str]:
    counts, col = o.label_counts, o.check.column
    shown = "{" + ", ".join(f"{k}: {v}" for k, v in counts.items()) + "}"
    need = o.check.expected["min"]
    if not counts:
        return 0, f"label column '{col}' has no non-null values; training needs {need} classes"
    word = "one class" if len(counts) == 1 else f"{len(counts)} classes"
    return len(counts), f"label column '{col}' has {word} {shown}; training needs {need}"


def _share(o: Outcome) -> tuple[Any, str]:
    exp, share = o.check.expected, o.result.get("observed_value")
    word = "within" if o.success else "outside"
    bounds = f"{num(share)} {word} {_between(exp['min'], exp['max'])}"
    if o.check.group == "minority_share":
        return share, f"minority share {bounds} (class {exp['class']})"
    return share, f"class {exp['class']} share {bounds}"


def _count(o: Outcome) -> tuple[Any, str]:
    exp, count = o.check.expected, int(o.result.get("observed_value") or 0)
    word = "at least" if o.success else "fewer than"
    return count, f"class {exp['class']} has {count} row(s); {word} {exp['min']} required"


def _rows(o: Outcome) -> tuple[Any, str]:
    rows, low = o.result.get("observed_value"), o.check.expected["min"]
    return rows, f"{rows} row(s); {'at least' if o.success else 'fewer than'} {low} required"


def _range(o: Outcome) -> tuple[Any, str]:
    bad, exp = int(o.result.get("unexpected_count") or 0), o.check.expected
    share = _unexpected_fraction(o.result) or 0.0
    text = f"{bad} value(s) ({num(100 * share)}%) outside {_between(exp['min'], exp['max'])}"
    return bad, text + (f"; e.g. {_examples(o.result)}" if bad else "")


def _duplicates(o: Outcome) -> tuple[Any, str]:
    share, limit = _unexpected_fraction(o.result) or 0.0, o.check.expected["max"]
    dupes = int(o.result.get("unexpected_count") or 0)
    word = "within" if o.success else "above"
    return share, (
        f"duplicate fraction {num(share)} {word} limit {num(limit)} "
        f"({dupes} of {o.rows} rows repeat another row over features + label)"
    )


FORMATTERS: dict[str, Callable[[Outcome], tuple[Any, str]]] = {
    "expect_column_to_exist": _exist,
    "expect_column_values_to_be_in_type_list": _types,
    "expect_column_values_to_not_be_null": _not_null,
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_unique_value_count_to_be_between": _classes,
    "expect_column_mean_to_be_between": _share,
    "expect_column_sum_to_be_between": _count,
    "expect_table_row_count_to_be_between": _rows,
    "expect_column_values_to_be_between": _range,
    "expect_compound_columns_to_be_unique": _duplicates,
}


def describe(o: Outcome) -> tuple[Any, str]:
    """``(observed, line)``; a check GE could not evaluate reports GE's own error instead."""
    where = f"({o.check.column})" if o.check.column else ""
    head = f"{o.check.expectation}{where}"
    if o.error:
        return None, f"{head}: could not be evaluated: {o.error}"
    observed, text = FORMATTERS[o.check.expectation](o)
    return observed, f"{head}: {text}"
