"""``validate_snapshot``: config -> GE suite -> one report for a window read partition by partition; pure, no I/O.

Schema checks run once on the snapshot's columns. Row checks run in GE batch by batch (one context and suite for
the window; small partitions share a batch and are told apart by GE's unexpected row indices); each partition's
result is the sum over its rows, the window's the sum over partitions, and a failure line names the partitions
(day and source URI) it failed in, with what each one showed. Window checks (row count, classes,
class shares and counts, duplicates) are decided on the window's counts; with negative sampling at ingest, class
shares are judged on the source's label counts before sampling, because the contract is about the source data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.validation._checks import Check, Plan, build_checks, build_view, resolve_spec, view_columns
from imbalance_jobs.validation._gx import RawResult, Session, render_window, to_json_value
from imbalance_jobs.validation._messages import Outcome, describe
from imbalance_jobs.validation._snapshot import FrameSnapshot, Partition, Snapshot
from imbalance_jobs.validation._window import (
    WindowCounts,
    add_counts,
    batch_label_counts,
    duplicate_columns,
    merge_row_results,
    row_hashes,
    rows_with_a_twin,
    split_result,
    summary_only,
    window_result,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MAX_PARTITIONS_NAMED = 5
"""A failure line names at most this many partitions; the JSON report lists them all."""

Severity = Literal["critical", "warning"]


@dataclass(frozen=True)
class ExpectationResult:
    """One GE expectation: which check group it belongs to, whether it stops the run, and what it found."""

    name: str
    check: str
    severity: Severity
    column: str | None
    success: bool
    observed: Any
    expected: dict[str, Any]
    message: str
    partitions: tuple[dict[str, Any], ...] = ()
    """Partitions a row check failed in: ``day``, ``uri``, ``rows``, ``observed`` (empty for window checks)."""

    @property
    def failed_critical(self) -> bool:
        return not self.success and self.severity == "critical"


@dataclass(frozen=True)
class Population:
    """Source label counts before ingest's negative sampling, and what the sampling kept (manifest fields)."""

    label_counts: dict[str, int]
    negative_sample: dict[str, Any]


@dataclass(frozen=True)
class PartitionReport:
    """One source object's rows: its own counts and the row checks that failed on it alone."""

    uri: str
    day: dt.date | None
    rows: int
    label_counts: dict[str, int]
    failed: tuple[str, ...]

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "day": self.day.isoformat() if self.day else None,
            "rows": self.rows,
            "label_counts": self.label_counts,
            "failed": list(self.failed),
        }


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of one validation run; ``success`` is False when any critical expectation failed."""

    source: str
    rows: int
    label_counts: dict[str, int]
    minority_share: float
    results: tuple[ExpectationResult, ...]
    gx_version: str
    html: str = field(repr=False)
    partitions: tuple[PartitionReport, ...] = ()
    population: Population | None = None
    notes: tuple[str, ...] = ()

    @property
    def class_shares_on(self) -> str:
        """Which counts the class-share checks read (the report says so)."""
        return "staged rows" if self.population is None else "source rows before negative sampling"

    @property
    def success(self) -> bool:
        return not any(r.failed_critical for r in self.results)

    @property
    def failures(self) -> list[str]:
        """One line per failed critical expectation."""
        return [r.message for r in self.results if r.failed_critical]

    @property
    def warnings(self) -> list[str]:
        """One line per failed warning-only expectation (recorded, never fatal)."""
        return [r.message for r in self.results if not r.success and r.severity == "warning"]

    def to_json_dict(self) -> dict[str, Any]:
        """The compact JSON report (no HTML): summary figures plus every expectation's result."""
        failed = [r for r in self.results if not r.success]
        return {
            "source": self.source,
            "success": self.success,
            "rows": self.rows,
            "label_counts": self.label_counts,
            "minority_share": self.minority_share,
            "class_shares_on": self.class_shares_on,
            "population_label_counts": self.population.label_counts if self.population else None,
            "negative_sample": to_json_value(self.population.negative_sample) if self.population else None,
            "notes": list(self.notes),
            "statistics": {
                "evaluated": len(self.results),
                "successful": len(self.results) - len(failed),
                "failed_critical": sum(r.severity == "critical" for r in failed),
                "failed_warning": sum(r.severity == "warning" for r in failed),
            },
            "failures": self.failures,
            "warnings": self.warnings,
            "results": [to_json_value(vars(r)) for r in self.results],
            "partitions": [p.to_json_dict() for p in self.partitions],
            "great_expectations_version": self.gx_version,
        }


def _minority_share(config: PipelineConfig, counts: dict[str, int]) -> float:
    total = sum(counts.values())
    return counts.get(str(config.label.positive), 0) / total if total else 0.0


def validate_frame(config: PipelineConfig, frame: pd.DataFrame, *, source: str) -> ValidationReport:
    """Run the expectation suite built from ``config.validation`` on a frame in memory (one partition).

    Failed expectations are reported, not raised, so that the caller can store the report before stopping
    the run. Checks named in ``validation.warn_only`` get GE severity ``warning``; all others are critical.
    Raises :class:`~imbalance_jobs.errors.IngestError` only when the data has no feature column at all.
    """
    return validate_snapshot(config, FrameSnapshot(frame, source=source))


@dataclass
class _Part:
    """Running results of one partition while its batches are validated."""

    partition: Partition
    raw: dict[int, list[RawResult]]
    rows: int = 0
    label_counts: dict[str, int] = field(default_factory=dict)
    merged: dict[int, RawResult] = field(default_factory=dict)


def validate_snapshot(
    config: PipelineConfig, snapshot: Snapshot, *, population: Population | None = None
) -> ValidationReport:
    """Validate a window partition by partition; memory is one batch plus counts, whatever the window's size.

    ``population``: the source's label counts before negative sampling (from the snapshot manifest); class
    shares are judged on them, counts (rows, rows per class) on the staged rows. Never raises on bad data.
    """
    empty = snapshot.empty()
    plan = Plan(config, frozenset(empty.columns), resolve_spec(config, empty, source=snapshot.source))
    checks = build_checks(plan)
    warn_only = set(config.validation.warn_only)
    severities: list[Severity] = ["warning" if c.group in warn_only else "critical" for c in checks]
    session = Session(checks, severities, name=config.name)
    schema = session.schema(build_view(plan, empty))
    rows_checked = [i for i, c in enumerate(checks) if c.scope == "rows"]
    columns, dup_columns = view_columns(plan), duplicate_columns(checks)
    hashes: list[np.ndarray] = []
    counts = WindowCounts(share_counts=_share_counts(population))
    parts = [_Part(p, {i: [] for i in rows_checked}) for p in snapshot.partitions]
    for frame, spans in snapshot.batches(columns):
        view = build_view(plan, frame)
        whole = len(spans) == 1
        for i, raw in session.rows(view, complete=not whole).items():
            pieces = [raw] if whole else split_result(checks[i], raw, spans, view)
            for (k, _, _), piece in zip(spans, pieces, strict=True):
                parts[k].raw[i].append(summary_only(piece))
        first = int(view.index[0]) if len(view) and not whole else 0
        for k, start, end in spans:
            rows = view if whole else view.iloc[start - first : end - first]
            parts[k].rows += len(rows)
            add_counts(parts[k].label_counts, batch_label_counts(plan, rows))
        if dup_columns:
            hashes.append(row_hashes(view, dup_columns))
        del frame, view
    for part in parts:
        part.merged = {i: merge_row_results(checks[i], part.raw.pop(i)) for i in rows_checked}
        counts.rows += part.rows
        add_counts(counts.label_counts, part.label_counts)
    counts.label_counts = dict(sorted(counts.label_counts.items()))
    counts.duplicates = rows_with_a_twin(hashes) if dup_columns else None
    del hashes
    named = len(parts) > 1 or any(p.partition.day is not None for p in parts)
    window: list[RawResult] = []
    results = []
    for i, (check, severity) in enumerate(zip(checks, severities, strict=True)):
        failed_in: list[dict[str, Any]] = []
        if check.scope == "window":
            raw = window_result(check, counts)
        elif check.scope == "schema":
            raw = schema[i]
        else:
            raw = merge_row_results(check, [p.merged[i] for p in parts])
            failed_in = _failed_partitions(check, i, parts)
        window.append(raw)
        success, result, error = raw
        observed, line = describe(Outcome(check, success, result, error, counts.rows, counts.label_counts))
        if population is not None and check.expectation == "expect_column_mean_to_be_between":
            line += f" on the source's {sum(counts.basis.values())} row(s) before negative sampling"
        if named and failed_in and not success:
            line += _where(failed_in, len(parts))
        results.append(
            ExpectationResult(
                check.expectation,
                check.group,
                severity,
                check.column,
                success,
                to_json_value(observed),
                to_json_value(check.expected),
                line,
                tuple(to_json_value(f) for f in failed_in),
            )
        )
    partitions = tuple(_partition_report(checks, p) for p in parts) if named else ()
    html = render_window(
        checks,
        severities,
        window,
        [_partition_row(p) for p in partitions],
        session=session,
        name=config.name,
        source=snapshot.source,
    )
    return ValidationReport(
        source=snapshot.source,
        rows=counts.rows,
        label_counts=counts.label_counts,
        minority_share=_minority_share(config, counts.basis),
        results=tuple(results),
        gx_version=session.version,
        html=html,
        partitions=partitions,
        population=population,
        notes=(snapshot.note,) if snapshot.note else (),
    )


_NULL_LABELS = frozenset({"nan", "<NA>", "None", "NaT"})


def _share_counts(population: Population | None) -> dict[str, int] | None:
    """Population counts without the manifest's null-label key: shares are among labelled rows, as for staged ones."""
    if population is None:
        return None
    return {k: int(v) for k, v in sorted(population.label_counts.items()) if k not in _NULL_LABELS}


def _failed_partitions(check: Check, index: int, parts: Sequence[_Part]) -> list[dict[str, Any]]:
    out = []
    for p in parts:
        success, result, error = p.merged[index]
        if success and not error:
            continue
        observed, _ = describe(Outcome(check, success, result, error, p.rows, p.label_counts))
        day = p.partition.day.isoformat() if p.partition.day else None
        out.append({"day": day, "uri": p.partition.uri, "rows": p.rows, "observed": observed})
    return out


def _where(failed: Sequence[dict[str, Any]], total: int) -> str:
    shown = [
        f"{f['day'] + ' ' if f['day'] else ''}{f['uri']} ({to_json_value(f['observed'])})"
        for f in failed[:MAX_PARTITIONS_NAMED]
    ]
    more = f" and {len(failed) - MAX_PARTITIONS_NAMED} more" if len(failed) > MAX_PARTITIONS_NAMED else ""
    return f"; failed in {len(failed)} of {total} partition(s): " + ", ".join(shown) + more


def _partition_report(checks: Sequence[Check], part: _Part) -> PartitionReport:
    failed = []
    for i, raw in part.merged.items():
        success, result, error = raw
        if not success or error:
            failed.append(describe(Outcome(checks[i], success, result, error, part.rows, part.label_counts))[1])
    p = part.partition
    return PartitionReport(p.uri, p.day, part.rows, dict(sorted(part.label_counts.items())), tuple(failed))


def _partition_row(p: PartitionReport) -> dict[str, str]:
    return {
        "day": p.day.isoformat() if p.day else "",
        "source object": p.uri,
        "rows": str(p.rows),
        "classes": ", ".join(f"{k}: {v}" for k, v in p.label_counts.items()),
        "failed row checks": "; ".join(p.failed) or "none",
    }
