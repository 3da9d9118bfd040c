"""The validation stage: read the staged snapshot, validate it, store the JSON + HTML report, stop on failure."""

from __future__ import annotations

from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.summary import Summary
from imbalance_jobs.validation._report import ValidationReport, validate_frame


class ValidationSummary(Summary):
    report_uri: str
    html_uri: str
    success: bool
    rows: int
    label_counts: dict[str, int]
    minority_share: float
    failures: list[str]
    warnings: list[str]


def _store_report(ctx: RunContext, report: ValidationReport) -> tuple[str, str]:
    report_uri = ctx.staging_uri("validation", "report.json")
    html_uri = ctx.staging_uri("validation", "report.html")
    ctx.store.put_json(report_uri, report.to_json_dict())
    ctx.store.put_bytes(html_uri, report.html.encode("utf-8"), content_type="text/html; charset=utf-8")
    return report_uri, html_uri


def validate(ctx: RunContext, data_uri: str) -> ValidationSummary:
    """Stage: validate the staged snapshot at ``data_uri``; write ``validation/report.{json,html}`` either way.

    The report is stored before any failure is raised, so a user can open it from the error message.
    Raises :class:`~imbalance_jobs.errors.DataValidationError` listing every failed critical expectation;
    failed warning-only expectations are returned in ``warnings`` and do not stop the run.
    """
    frame = ctx.store.get_frame(data_uri)
    report = validate_frame(ctx.config, frame, source=data_uri)
    report_uri, html_uri = _store_report(ctx, report)
    if not report.success:
        raise DataValidationError(source=data_uri, failures=report.failures, report_uri=report_uri)
    return ValidationSummary(
        report_uri=report_uri,
        html_uri=html_uri,
        success=report.success,
        rows=report.rows,
        label_counts=report.label_counts,
        minority_share=report.minority_share,
        failures=report.failures,
        warnings=report.warnings,
    )
