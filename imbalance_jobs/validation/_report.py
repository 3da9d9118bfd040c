"""``validate_frame``: config -> GE suite -> per-expectation results and the rendered HTML; pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.validation._checks import Plan, build_checks, build_view, label_counts, resolve_spec
from imbalance_jobs.validation._gx import SuiteRun, run_suite, to_json_value
from imbalance_jobs.validation._messages import Outcome, describe

if TYPE_CHECKING:
    import pandas as pd

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

    @property
    def failed_critical(self) -> bool:
        return not self.success and self.severity == "critical"


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
            "statistics": {
                "evaluated": len(self.results),
                "successful": len(self.results) - len(failed),
                "failed_critical": sum(r.severity == "critical" for r in failed),
                "failed_warning": sum(r.severity == "warning" for r in failed),
            },
            "failures": self.failures,
            "warnings": self.warnings,
            "results": [to_json_value(vars(r)) for r in self.results],
            "great_expectations_version": self.gx_version,
        }


def _minority_share(config: PipelineConfig, counts: dict[str, int]) -> float:
    total = sum(counts.values())
    return counts.get(str(config.label.positive), 0) / total if total else 0.0


def validate_frame(config: PipelineConfig, frame: pd.DataFrame, *, source: str) -> ValidationReport:
    """Run the expectation suite built from ``config.validation`` on ``frame``; never raises on bad data.

    Failed expectations are reported, not raised, so that the caller can store the report before stopping
    the run. Checks named in ``validation.warn_only`` get GE severity ``warning``; all others are critical.
    Raises :class:`~imbalance_jobs.errors.IngestError` only when the data has no feature column at all.
    """
    counts = label_counts(config, frame)
    plan = Plan(config, frozenset(frame.columns), resolve_spec(config, frame, source=source), counts)
    checks = build_checks(plan)
    warn_only = set(config.validation.warn_only)
    severities: list[Severity] = ["warning" if c.group in warn_only else "critical" for c in checks]
    run: SuiteRun = run_suite(build_view(plan, frame), checks, severities, name=config.name, source=source)
    results = []
    for check, severity, (success, raw, error) in zip(checks, severities, run.results, strict=True):
        observed, line = describe(Outcome(check, success, raw, error, len(frame), counts))
        expected = to_json_value(check.expected)
        results.append(
            ExpectationResult(
                check.expectation, check.group, severity, check.column, success, to_json_value(observed), expected, line
            )
        )
    return ValidationReport(
        source=source,
        rows=len(frame),
        label_counts=counts,
        minority_share=_minority_share(config, counts),
        results=tuple(results),
        gx_version=run.gx_version,
        html=run.html,
    )
