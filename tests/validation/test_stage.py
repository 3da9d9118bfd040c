"""The validation stage against the real local S3 server: reports are stored on success and on failure."""

from __future__ import annotations

import pytest

from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.validation import ValidationSummary, validate

pytestmark = pytest.mark.integration


def _stage_frame(ctx, frame) -> str:
    uri = ctx.staging_uri("ingest", "data.parquet")
    ctx.store.put_frame(uri, frame)
    return uri


def _report_uris(ctx) -> tuple[str, str]:
    return ctx.staging_uri("validation", "report.json"), ctx.staging_uri("validation", "report.html")


def test_validate_stores_reports_and_returns_summary(make_config, make_context, store, clean_frame):
    ctx = make_context(make_config(validation={"value_ranges": {"amount": {"min": 0, "max": 50}}}))
    summary = validate(ctx, _stage_frame(ctx, clean_frame))
    report_uri, html_uri = _report_uris(ctx)
    assert (summary.report_uri, summary.html_uri) == (report_uri, html_uri)
    assert summary.success
    assert summary.rows == len(clean_frame)
    assert summary.failures == []
    assert len(summary.warnings) == 1  # the value range is warn-only by default
    assert ValidationSummary.model_validate(summary.to_json_dict()) == summary
    stored = store.get_json(report_uri)
    assert stored["success"] is True
    assert stored["label_counts"] == summary.label_counts
    assert store.get_bytes(html_uri).decode().lstrip().lower().startswith("<!doctype html")
    assert store.head(html_uri).size > 10_000


def test_validate_stores_reports_then_raises_on_critical_failure(make_config, make_context, store, clean_frame):
    ctx = make_context(make_config())
    data_uri = _stage_frame(ctx, clean_frame.assign(is_fraud=0))
    with pytest.raises(DataValidationError, match=r"has one class \{0: \d+\}; training needs 2") as info:
        validate(ctx, data_uri)
    report_uri, html_uri = _report_uris(ctx)
    error = info.value
    assert error.source == data_uri
    assert error.report_uri == report_uri
    assert any(
        line.startswith("expect_column_mean_to_be_between(is_fraud): minority share 0 ") for line in error.failures
    )
    stored = store.get_json(report_uri)
    assert stored["success"] is False
    assert stored["failures"] == error.failures
    assert "Failed" in store.get_bytes(html_uri).decode()
