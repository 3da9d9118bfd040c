"""The validation stage against the real local S3 server: reports are stored on success and on failure."""

from __future__ import annotations

import pytest

from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.validation import ValidationSummary, validate
from tests.conftest import seed

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


def test_validate_after_streaming_ingest_reports_each_source_object(make_config, make_context, store):
    """The real ingest's manifest cuts the snapshot: one partition per source object, named in the report."""
    from imbalance_jobs.ingest import ingest

    ctx = make_context(make_config())
    seed(store, ctx.config, days=3)
    staged = ingest(ctx)
    summary = validate(ctx, staged.data_uri)
    objects = store.get_json(staged.manifest_uri)["objects"]
    report = store.get_json(summary.report_uri)
    assert summary.partitions == len(objects) == 3
    assert [(p["uri"], p["day"], p["rows"]) for p in report["partitions"]] == [
        (o["uri"], o["day"], o["rows"]) for o in objects
    ]
    assert summary.label_counts == staged.label_counts
    assert report["class_shares_on"] == "staged rows"
    assert report["notes"] == []


def test_validate_judges_class_shares_on_the_source_under_negative_sampling(make_config, make_context, store):
    """A 10% negative sample lifts the staged positive share ~10x; the class-share contract reads the source's."""
    from imbalance_jobs.ingest import ingest

    cfg = make_config(
        source={"negative_sample": {"fraction": 0.1}},
        validation={"min_rows": 50, "minority_share": {"min": 0.01, "max": 0.2}},
    )
    ctx = make_context(cfg)
    seed(store, cfg, days=3)
    staged = ingest(ctx)
    summary = validate(ctx, staged.data_uri)
    population = staged.population_label_counts
    assert summary.class_shares_on == "source rows before negative sampling"
    assert summary.minority_share == pytest.approx(population["1"] / sum(population.values()))
    assert staged.label_counts["1"] / sum(staged.label_counts.values()) > 0.2  # the sample alone would fail
    report = store.get_json(summary.report_uri)
    assert report["population_label_counts"] == population
    assert report["negative_sample"]["beta"] == pytest.approx(staged.negative_sample_beta)
