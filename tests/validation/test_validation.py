"""validate_frame: one test per failure mode; each asserts the failure line names the expectation and what it saw.

The suite runs in memory (no S3); GE is imported once for the whole module (~5-9 s), each run takes well under 1 s.
"""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.config import VALIDATION_CHECKS, PipelineConfig
from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.validation import ValidationReport, validate_frame
from imbalance_jobs.validation._checks import BUILDERS
from tests.conftest import BASE_CONFIG

SOURCE = "s3://src/fraud/dt=2026-11-27/part-0.parquet"


def run(config, frame: pd.DataFrame) -> ValidationReport:
    return validate_frame(config, frame, source=SOURCE)


def failure(report: ValidationReport, expectation: str, column: str | None = None) -> str:
    """The one failure line of ``expectation`` (on ``column``); fails the test when there is none."""
    head = f"{expectation}({column}):" if column else f"{expectation}:"
    lines = [line for line in report.failures if line.startswith(head)]
    assert len(lines) == 1, f"expected one failure starting {head!r}; got {report.failures}"
    return lines[0]


def result(report: ValidationReport, expectation: str, column: str | None = None, check: str | None = None):
    found = [
        r
        for r in report.results
        if r.name == expectation and r.column == column and (check is None or r.check == check)
    ]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def clean_report(clean_frame) -> ValidationReport:
    return run(PipelineConfig.model_validate(BASE_CONFIG), clean_frame)


def test_builders_cover_every_check_group():
    assert tuple(BUILDERS) == VALIDATION_CHECKS


def test_validate_frame_clean_synthetic_frame_passes(clean_report, clean_frame):
    assert clean_report.success, clean_report.failures
    assert clean_report.failures == []
    assert clean_report.warnings == []
    assert clean_report.rows == len(clean_frame)
    positives = int((clean_frame["is_fraud"] == 1).sum())
    assert clean_report.label_counts == {"0": len(clean_frame) - positives, "1": positives}
    assert clean_report.minority_share == pytest.approx(positives / len(clean_frame))


def test_validate_frame_covers_every_configured_group(clean_report):
    groups = {r.check for r in clean_report.results}
    # value_ranges and duplicates are not configured in BASE_CONFIG; class_shares neither
    assert groups == set(VALIDATION_CHECKS) - {"value_ranges", "duplicates", "class_shares"}


def test_validate_frame_report_json_is_strict_json(clean_report):
    data = json.loads(json.dumps(clean_report.to_json_dict(), allow_nan=False))
    assert data["success"] is True
    assert data["statistics"]["evaluated"] == len(clean_report.results)
    assert {r["severity"] for r in data["results"]} == {"critical"}
    assert all(isinstance(r["observed"], (int, float, str, bool, list, type(None))) for r in data["results"])


def test_validate_frame_renders_data_docs_html(clean_report):
    html = clean_report.html
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "fraud_test.validation" in html
    assert SOURCE in html


def test_validate_frame_data_docs_render_offline_with_local_assets(clean_report):
    """No stylesheet or script is loaded from the network; Bootstrap and jQuery come inline from their wheels."""
    import re

    html = clean_report.html
    assert not re.search(r'<(link|script)[^>]+(href|src)="https?://', html)
    assert "Bootstrap v4" in html
    assert "jQuery v3" in html
    assert "index.html" not in html  # no dead "Home" link to a Data Docs site that does not exist
    assert "Succeeded" in html


def test_validate_frame_missing_listed_column_fails(config, frame):
    cfg = config(features={"numeric": ["f0", "f1", "f9"], "categorical": ["channel"]})
    report = run(cfg, frame)
    assert not report.success
    assert failure(report, "expect_column_to_exist", "f9").endswith("column 'f9' is missing")
    assert result(report, "expect_column_to_exist", "f9").observed is False


def test_validate_frame_missing_label_column_fails(config, frame):
    report = run(config(), frame.drop(columns=["is_fraud"]))
    assert "column 'is_fraud' is missing" in failure(report, "expect_column_to_exist", "is_fraud")
    assert report.label_counts == {}
    assert report.minority_share == 0.0


def test_validate_frame_numeric_feature_of_wrong_type_fails(config, frame):
    cfg = config(features={"numeric": ["f0", "f1", "merchant_category"], "categorical": ["channel"]})
    line = failure(run(cfg, frame), "expect_column_values_to_be_in_type_list", "merchant_category")
    assert line.endswith("dtype 'str' is not numeric")


def test_validate_frame_timestamp_that_is_not_datetime_fails(config, frame):
    frame["event_time"] = frame["event_time"].astype(str)
    line = failure(run(config(), frame), "expect_column_values_to_be_in_type_list", "event_time")
    assert line.endswith("dtype 'str' is not datetime")


def test_validate_frame_null_label_fails(config, frame):
    frame["is_fraud"] = frame["is_fraud"].astype("Int64")
    frame.loc[[3, 10, 11], "is_fraud"] = pd.NA
    line = failure(run(config(), frame), "expect_column_values_to_not_be_null", "is_fraud")
    assert "label column 'is_fraud' has 3 null value(s); expected none" in line


def test_validate_frame_renders_null_labels_without_renderer_errors(config, frame, caplog):
    frame["is_fraud"] = frame["is_fraud"].astype("Int64")
    frame.loc[[3, 10], "is_fraud"] = pd.NA
    with caplog.at_level(logging.ERROR, logger="great_expectations"):
        report = run(config(), frame)
    assert [r.getMessage()[:80] for r in caplog.records if r.name.startswith("great_expectations")] == []
    assert "Failed" in report.html


def test_validate_frame_label_outside_the_set_fails(config, frame):
    frame.loc[[1, 5, 9, 40], "is_fraud"] = 2
    report = run(config(), frame)
    line = failure(report, "expect_column_values_to_be_in_set", "is_fraud")
    assert "4 value(s) outside ['0', '1']: ['2']" in line
    assert result(report, "expect_column_values_to_be_in_set", "is_fraud").observed == ["2"]


def test_validate_frame_string_labels_match_int_classes(config, frame):
    frame["is_fraud"] = frame["is_fraud"].astype(str)
    report = run(config(), frame)
    assert report.success, report.failures


def test_validate_frame_single_class_fails(config, frame):
    frame["is_fraud"] = 0
    line = failure(run(config(), frame), "expect_column_unique_value_count_to_be_between", "is_fraud")
    assert line.endswith(f"label column 'is_fraud' has one class {{0: {len(frame)}}}; training needs 2")


def test_validate_frame_minority_share_too_low_fails(config, frame):
    rare = pd.concat([frame[frame["is_fraud"] == 0], frame[frame["is_fraud"] == 1].head(3)])
    report = run(config(validation={"min_minority_count": 1}), rare)
    line = failure(report, "expect_column_mean_to_be_between", "is_fraud")
    share = 3 / len(rare)
    assert re.search(rf"minority share {share:.4g} outside \[0\.01, 0\.3\] \(class 1\)$", line), line
    assert result(report, "expect_column_mean_to_be_between", "is_fraud").observed == pytest.approx(share)
    assert report.failures == [line]


def test_validate_frame_minority_share_too_high_fails(config, frame):
    common = pd.concat([frame[frame["is_fraud"] == 1], frame[frame["is_fraud"] == 0].head(60)])
    report = run(config(validation={"min_rows": 50}), common)
    line = failure(report, "expect_column_mean_to_be_between", "is_fraud")
    assert re.search(r"minority share 0\.\d+ outside \[0\.01, 0\.3\]", line), line
    assert result(report, "expect_column_mean_to_be_between", "is_fraud").observed > 0.3


def test_validate_frame_multiclass_class_share_out_of_bounds_fails(config, frame, rng):
    frame["severity"] = rng.choice(["low", "mid", "high"], size=len(frame), p=[0.82, 0.08, 0.10])
    cfg = config(
        label={"column": "severity", "classes": ["low", "mid", "high"], "positive": "high"},
        features={"exclude": ["txn_id", "is_fraud"]},
        validation={"class_shares": {"mid": {"min": 0.2, "max": 0.5}, "high": {"min": 0.01, "max": 0.5}}},
    )
    report = run(cfg, frame)
    mid_share = float((frame["severity"] == "mid").mean())
    line = failure(report, "expect_column_mean_to_be_between", "severity")
    assert line.endswith(f"class mid share {mid_share:.4g} outside [0.2, 0.5]")
    assert report.minority_share == pytest.approx(float((frame["severity"] == "high").mean()))


def test_validate_frame_too_few_rows_fails(config, frame):
    report = run(config(validation={"min_minority_count": 1}), frame.head(150))
    line = failure(report, "expect_table_row_count_to_be_between")
    assert line.endswith("150 row(s); fewer than 200 required")


def test_validate_frame_too_few_minority_rows_fails(config, frame):
    positives = int((frame["is_fraud"] == 1).sum())
    report = run(config(validation={"min_minority_count": positives + 1}), frame)
    line = failure(report, "expect_column_sum_to_be_between", "is_fraud")
    assert line.endswith(f"class 1 has {positives} row(s); fewer than {positives + 1} required")
    assert report.failures == [line]


def test_validate_frame_null_fraction_over_global_limit_fails(config, frame, rng):
    frame.loc[rng.random(len(frame)) < 0.3, "f0"] = np.nan
    report = run(config(), frame)
    line = failure(report, "expect_column_values_to_not_be_null", "f0")
    share = float(frame["f0"].isna().mean())
    assert line.endswith(f"null fraction {share:.4g} above limit 0.1 ({frame['f0'].isna().sum()} of {len(frame)} rows)")


def test_validate_frame_per_feature_null_override_is_stricter(config, frame):
    assert frame["f1"].isna().any()
    report = run(config(validation={"null_fraction": {"f1": 0.0}}), frame)
    line = failure(report, "expect_column_values_to_not_be_null", "f1")
    assert re.search(r"null fraction 0\.0\d+ above limit 0 ", line), line


def test_validate_frame_per_feature_null_override_is_looser(config, frame, rng):
    frame.loc[rng.random(len(frame)) < 0.3, "f0"] = np.nan
    report = run(config(validation={"null_fraction": {"f0": 0.5}}), frame)
    assert report.success, report.failures


def test_validate_frame_value_range_is_a_warning_by_default(config, frame):
    report = run(config(validation={"value_ranges": {"amount": {"min": 0, "max": 50}}}), frame)
    outside = int((frame["amount"] > 50).sum())
    assert report.success
    assert report.failures == []
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith(f"expect_column_values_to_be_between(amount): {outside} value(s)")
    assert result(report, "expect_column_values_to_be_between", "amount").severity == "warning"


def test_validate_frame_value_range_fails_when_not_warn_only(config, frame):
    cfg = config(validation={"value_ranges": {"amount": {"min": 0, "max": 50}}, "warn_only": []})
    report = run(cfg, frame)
    outside = int((frame["amount"] > 50).sum())
    line = failure(report, "expect_column_values_to_be_between", "amount")
    assert re.search(rf": {outside} value\(s\) \([\d.]+%\) outside \[0, 50\]; e\.g\. \[", line), line


def test_validate_frame_duplicates_over_limit_fail_ignoring_row_id(config, frame):
    copies = frame.head(40).copy()
    copies[ROW_ID] = np.arange(len(frame), len(frame) + len(copies))  # fresh row ids: still the same rows
    data = pd.concat([frame, copies], ignore_index=True)
    report = run(config(validation={"max_duplicate_fraction": 0.05, "warn_only": []}), data)
    line = failure(report, "expect_compound_columns_to_be_unique")
    assert re.search(rf"duplicate fraction {80 / len(data):.4g} above limit 0\.05 \(80 of {len(data)} rows", line)


def test_validate_frame_duplicates_within_limit_pass(config, frame):
    report = run(config(validation={"max_duplicate_fraction": 0.05, "warn_only": []}), frame)
    assert report.success, report.failures
    assert result(report, "expect_compound_columns_to_be_unique").observed == 0.0


def test_validate_frame_warn_only_checks_do_not_fail(config, frame):
    rare = pd.concat([frame[frame["is_fraud"] == 0], frame[frame["is_fraud"] == 1].head(3)])
    report = run(config(validation={"warn_only": ["minority_share", "min_minority_count"]}), rare)
    assert report.success
    assert report.failures == []
    assert {r.check for r in report.results if not r.success} == {"minority_share", "min_minority_count"}
    assert any(w.startswith("expect_column_mean_to_be_between(is_fraud): minority share") for w in report.warnings)


def test_validate_frame_failure_lines_make_the_error_message(config, frame):
    frame["is_fraud"] = 0
    report = run(config(), frame)
    error = DataValidationError(SOURCE, report.failures)
    assert f"{SOURCE}: data validation failed" in str(error)
    assert f"label column 'is_fraud' has one class {{0: {len(frame)}}}; training needs 2" in str(error)
