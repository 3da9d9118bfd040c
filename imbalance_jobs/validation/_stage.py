"""The validation stage: read the staged snapshot partition by partition, store the JSON + HTML report, stop on failure.

The snapshot is streamed to a temporary file (never held in memory whole) and read a few row groups at a time,
cut into source objects as the ingest manifest lays them out; memory follows the batch size, not the window
(docs/benchmarks.md).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import DataValidationError, StorageError
from imbalance_jobs.summary import Summary
from imbalance_jobs.validation._report import Population, ValidationReport, validate_snapshot
from imbalance_jobs.validation._snapshot import ParquetSnapshot


class ValidationSummary(Summary):
    report_uri: str
    html_uri: str
    success: bool
    rows: int
    label_counts: dict[str, int]
    minority_share: float
    failures: list[str]
    warnings: list[str]
    partitions: int = 1
    """Source objects validated one at a time (1 when the snapshot has no usable manifest)."""
    class_shares_on: str = "staged rows"


def _store_report(ctx: RunContext, report: ValidationReport) -> tuple[str, str]:
    report_uri = ctx.staging_uri("validation", "report.json")
    html_uri = ctx.staging_uri("validation", "report.html")
    ctx.store.put_json(report_uri, report.to_json_dict())
    ctx.store.put_bytes(html_uri, report.html.encode("utf-8"), content_type="text/html; charset=utf-8")
    return report_uri, html_uri


def _manifest(ctx: RunContext, data_uri: str, manifest_uri: str | None) -> dict[str, Any] | None:
    """The ingest manifest beside the snapshot (or at ``manifest_uri``); None when there is none."""
    uri = manifest_uri or data_uri.rsplit("/", 1)[0] + "/manifest.json"
    if manifest_uri is None and not ctx.store.exists(uri):
        return None
    return ctx.store.get_json(uri)


def _population(manifest: dict[str, Any] | None) -> Population | None:
    """Source counts before sampling, only when ingest sampled negatives (otherwise staged counts are the source)."""
    if not manifest or not manifest.get("negative_sample") or manifest.get("population_label_counts") is None:
        return None
    return Population(dict(manifest["population_label_counts"]), dict(manifest["negative_sample"]))


def validate(ctx: RunContext, data_uri: str, manifest_uri: str | None = None) -> ValidationSummary:
    """Stage: validate the staged snapshot at ``data_uri``; write ``validation/report.{json,html}`` either way.

    Row checks run per source object listed in the ingest manifest (``manifest_uri``, by default
    ``manifest.json`` beside the snapshot), window checks on the window's counts. The report is stored before any
    failure is raised, so a user can open it from the error message. Raises
    :class:`~imbalance_jobs.errors.DataValidationError` listing every failed critical expectation; failed
    warning-only expectations are returned in ``warnings`` and do not stop the run.
    """
    manifest = _manifest(ctx, data_uri, manifest_uri)
    with tempfile.TemporaryDirectory(prefix="imbalance-validate-") as tmp:
        path = Path(tmp) / "data.parquet"
        ctx.store.download(data_uri, path)
        try:
            snapshot = ParquetSnapshot(path, source=data_uri, objects=(manifest or {}).get("objects"))
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            raise StorageError(f"{data_uri}: cannot read parquet ({exc})") from exc
        report = validate_snapshot(ctx.config, snapshot, population=_population(manifest))
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
        partitions=max(len(report.partitions), 1),
        class_shares_on=report.class_shares_on,
    )
