"""A window from its parts: row-check results summed over batches, class counts, duplicate rows by hash.

Nothing here holds rows. Row checks come back from GE per batch with counts (``element_count``,
``unexpected_count``, ``missing_count``) that add up, so the window's result is the sum with GE's own success rule
(``mostly``) applied again to the sums. Window checks need only the window's class counts and row count, plus,
when ``validation.max_duplicate_fraction`` is set, one 64-bit hash per row (8 bytes a row: 160 MB for 20 million
rows, sorted once at the end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from imbalance_jobs.row_hash import row_hash_unit
from imbalance_jobs.validation._checks import Check, Plan
from imbalance_jobs.validation._gx import RawResult, denumpy

if TYPE_CHECKING:
    import pandas as pd

MAX_EXAMPLES = 20
"""GE's SUMMARY format keeps 20 unexpected values; the sum over batches keeps the first 20 too."""

_DUPLICATE_SALTS = ("validation/duplicates/a", "validation/duplicates/b")


def _mostly_success(considered: int, unexpected: int, mostly: float) -> bool:
    """GE's rule (``expectation._mostly_success``); no considered rows is vacuously a pass, as in GE."""
    if considered <= 0:
        return True
    return (considered - unexpected) / considered >= mostly


def _merged_counts(results: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for result in results:
        for item in result.get("partial_unexpected_counts") or []:
            key = repr(item.get("value"))
            entry = merged.setdefault(key, {"value": item.get("value"), "count": 0})
            entry["count"] += int(item.get("count") or 0)
    return sorted(merged.values(), key=lambda e: -e["count"])[:MAX_EXAMPLES]


def merge_row_results(check: Check, parts: Sequence[RawResult]) -> RawResult:
    """One row check over several batches (or partitions): counts summed, examples kept, success re-decided.

    A check passes by GE's rule on the summed counts: with ``mostly``, the share of unexpected values among the
    considered ones (non-null values, or all values for the not-null check); without, no unexpected value at all.
    """
    if len(parts) == 1:
        return parts[0]
    errors = [e for _, _, e in parts if e]
    error = errors[0] if errors else None
    if not parts:
        return True, {}, None
    results = [r for _, r, _ in parts]
    elements = sum(int(r.get("element_count") or 0) for r in results)
    unexpected = sum(int(r.get("unexpected_count") or 0) for r in results)
    with_missing = any("missing_count" in r for r in results)
    missing = sum(int(r.get("missing_count") or 0) for r in results)
    considered = elements - missing
    mostly = check.kwargs.get("mostly")
    success = _mostly_success(considered, unexpected, 1.0 if mostly is None else float(mostly))
    pct_considered = 100.0 * unexpected / considered if considered > 0 else None
    merged: dict[str, Any] = {
        "element_count": elements,
        "unexpected_count": unexpected,
        "unexpected_percent": pct_considered,
        "partial_unexpected_list": [v for r in results for v in r.get("partial_unexpected_list") or []][:MAX_EXAMPLES],
        "partial_unexpected_counts": _merged_counts(results),
        "partial_unexpected_index_list": [v for r in results for v in r.get("partial_unexpected_index_list") or []][
            :MAX_EXAMPLES
        ],
    }
    if with_missing:
        merged |= {
            "missing_count": missing,
            "missing_percent": 100.0 * missing / elements if elements else None,
            "unexpected_percent_total": 100.0 * unexpected / elements if elements else None,
            "unexpected_percent_nonmissing": pct_considered,
        }
    return success, merged, error


_FULL_LISTS = ("unexpected_list", "unexpected_index_list", "unexpected_index_query")


def summary_only(raw: RawResult) -> RawResult:
    """GE's SUMMARY shape: the COMPLETE lists (every unexpected value and row) are dropped once attributed."""
    success, result, error = raw
    return success, {k: v for k, v in result.items() if k not in _FULL_LISTS}, error


def split_result(
    check: Check, raw: RawResult, spans: Sequence[tuple[int, int, int]], view: pd.DataFrame
) -> list[RawResult]:
    """One batch's COMPLETE result for a row check, cut into one SUMMARY result per span (partition rows).

    GE lists every unexpected row by its index (the row's position in the snapshot; its value list stops at 200),
    so each partition gets its exact unexpected count, and its examples are read from those rows of the view; its
    element count is its rows, its missing count the nulls of the column in its rows, and its verdict GE's rule
    on those counts.
    """
    _, result, error = raw
    if error:
        return [(False, {}, error) for _ in spans]
    index = np.asarray(result.get("unexpected_index_list") or [], dtype=np.int64)
    first = int(view.index[0]) if len(view) else 0
    column = check.kwargs.get("column")
    mostly = check.kwargs.get("mostly")
    out: list[RawResult] = []
    for _, start, end in spans:
        rows_at = index[(index >= start) & (index < end)] - first
        unexpected, rows = len(rows_at), end - start
        found = view[column].iloc[rows_at] if column is not None else None
        examples = denumpy(found.iloc[:MAX_EXAMPLES].tolist()) if found is not None else []
        tally = found.value_counts(dropna=False).iloc[:MAX_EXAMPLES] if found is not None else None
        part: dict[str, Any] = {"element_count": rows, "unexpected_count": unexpected}
        missing = 0
        if "missing_count" in result and column is not None:
            missing = int(view[column].iloc[start - first : end - first].isna().sum())
        considered = rows - missing
        pct = 100.0 * unexpected / considered if considered > 0 else None
        part |= {
            "unexpected_percent": pct,
            "partial_unexpected_list": examples,
            "partial_unexpected_counts": []
            if tally is None
            else [{"value": denumpy(v), "count": int(n)} for v, n in tally.items()],
            "partial_unexpected_index_list": [int(i) + first for i in rows_at[:MAX_EXAMPLES]],
        }
        if "missing_count" in result:
            part |= {
                "missing_count": missing,
                "missing_percent": 100.0 * missing / rows if rows else None,
                "unexpected_percent_total": 100.0 * unexpected / rows if rows else None,
                "unexpected_percent_nonmissing": pct,
            }
        ok = _mostly_success(considered, unexpected, 1.0 if mostly is None else float(mostly))
        out.append((ok, part, None))
    return out


def batch_label_counts(plan: Plan, view: pd.DataFrame) -> dict[str, int]:
    """Rows per label value (string form, nulls left out) in one batch of the view."""
    if not plan.has_label:
        return {}
    counts = view[plan.label].value_counts(dropna=True)
    return {str(k): int(v) for k, v in counts.items()}


def add_counts(total: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        total[key] = total.get(key, 0) + value


def duplicate_columns(checks: Sequence[Check]) -> list[str]:
    """The columns the duplicates check compares (features + label), or [] when it is not planned."""
    for check in checks:
        if check.expectation == "expect_compound_columns_to_be_unique":
            return list(check.kwargs["column_list"])
    return []


def row_hashes(view: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """A 64-bit content hash per row (two salted :func:`row_hash_unit` values, 53 + 11 bits).

    Equal rows hash equal under the split's canonical forms (1 and 1.0 are one value; non-integral floats are
    compared as float32). Two different rows share a hash with probability ~n^2 / 2^65: 1e-5 at 20 million rows.
    """
    hi, lo = (np.ldexp(row_hash_unit(view, columns, salt), 53).astype(np.uint64) for salt in _DUPLICATE_SALTS)
    return (hi << np.uint64(11)) | (lo >> np.uint64(42))


def rows_with_a_twin(hashes: Sequence[np.ndarray]) -> int:
    """How many rows have at least one other row with the same hash (GE counts every member of a group)."""
    if not hashes:
        return 0
    ordered = np.sort(np.concatenate(hashes))
    same = ordered[1:] == ordered[:-1]
    member = np.zeros(len(ordered), dtype=bool)
    member[1:] |= same
    member[:-1] |= same
    return int(member.sum())


@dataclass
class WindowCounts:
    """What the window checks read: staged rows and classes, the class-share basis, duplicate rows."""

    rows: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    share_counts: dict[str, int] | None = None
    """Counts the class shares are judged on: the source population when ingest sampled negatives, else staged."""
    duplicates: int | None = None

    @property
    def basis(self) -> dict[str, int]:
        return self.label_counts if self.share_counts is None else self.share_counts


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def window_result(check: Check, counts: WindowCounts) -> RawResult:
    """A window check decided on the window's counts, in the shape GE reports it (``observed_value`` etc.)."""
    kw = check.kwargs
    name = check.expectation
    if name == "expect_table_row_count_to_be_between":
        observed: Any = counts.rows
    elif name == "expect_column_unique_value_count_to_be_between":
        observed = len(counts.label_counts)
    elif name == "expect_column_mean_to_be_between":
        total = sum(counts.basis.values())
        observed = counts.basis.get(check.expected["class"], 0) / total if total else None
    elif name == "expect_column_sum_to_be_between":
        observed = counts.label_counts.get(check.expected["class"], 0)
    elif name == "expect_compound_columns_to_be_unique":
        dupes = counts.duplicates or 0
        result = {
            "element_count": counts.rows,
            "unexpected_count": dupes,
            "unexpected_percent": 100.0 * dupes / counts.rows if counts.rows else None,
        }
        return _mostly_success(counts.rows, dupes, float(kw.get("mostly", 1.0))), result, None
    else:  # pragma: no cover - WINDOW_EXPECTATIONS and this table change together
        raise ValueError(f"{name} is not a window expectation")
    return _within(observed, kw.get("min_value"), kw.get("max_value")), {"observed_value": observed}, None
