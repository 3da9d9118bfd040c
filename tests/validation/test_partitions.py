"""Validation partition by partition: the same verdicts as on the whole window, failures that name the partition,
window checks on summed counts (population counts under negative sampling), duplicates across partitions.

No S3 here: snapshots are parquet files on local disk, written the way streaming ingest writes them.
"""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.validation import ParquetSnapshot, Population, ValidationReport, validate_frame, validate_snapshot
from tests.validation.conftest import source_uri, staged, write_window


def snapshot(tmp_path, frames, *, batch_rows: int = 1 << 20, row_group_size: int | None = 128, objects=True):
    path = tmp_path / "data.parquet"
    listed = write_window(path, frames, row_group_size=row_group_size)
    return ParquetSnapshot(
        path, source="s3://art/runs/r/ingest/data.parquet", objects=listed if objects else None, batch_rows=batch_rows
    )


def whole(frames) -> pd.DataFrame:
    return staged(pd.concat([f for _, f in frames], ignore_index=True))


def verdicts(report: ValidationReport) -> list[tuple]:
    return [(r.name, r.column, r.check, r.success, r.observed) for r in report.results]


@pytest.fixture
def frames(window_frames):
    return [(d, f.copy()) for d, f in window_frames]


def damage(frames, rng):
    """Nulls in a feature on one day, an unknown label on another, duplicated rows across days."""
    (d0, f0), (d1, f1), (d2, f2), (d3, f3) = frames
    f1 = f1.copy()
    f1.loc[rng.random(len(f1)) < 0.4, "f0"] = np.nan
    f2 = f2.copy()
    f2["is_fraud"] = f2["is_fraud"].astype(str)
    f2.loc[[3, 7], "is_fraud"] = "2"
    f3 = pd.concat([f3, f0.head(25)], ignore_index=True)
    # ingest stages the label as text for the whole window once any value matches no class
    return [(d, f.assign(is_fraud=f["is_fraud"].astype(str))) for d, f in [(d0, f0), (d1, f1), (d2, f2), (d3, f3)]]


def test_partitioned_results_equal_whole_window_results(tmp_path, config, frames, rng):
    cfg = config(validation={"max_duplicate_fraction": 0.01, "value_ranges": {"amount": {"min": 0, "max": 80}}})
    frames = damage(frames, rng)
    data = whole(frames)
    expected = validate_frame(cfg, data, source="whole")
    for batch_rows in (1 << 20, 150):  # partitions sharing one batch, and partitions cut into several batches
        got = validate_snapshot(cfg, snapshot(tmp_path, frames, batch_rows=batch_rows))
        assert verdicts(got) == verdicts(expected)
        assert (got.rows, got.label_counts, got.minority_share) == (
            expected.rows,
            expected.label_counts,
            expected.minority_share,
        )
    assert not expected.success


def test_partitions_sharing_a_batch_get_the_results_they_get_alone(tmp_path, config, frames, rng):
    """GE's row indices cut a shared batch's results exactly: the same per-partition figures as one per batch."""
    cfg = config(validation={"value_ranges": {"amount": {"min": 0, "max": 80}}, "null_fraction": {"f0": 0.05}})
    frames = damage(frames, rng)
    shared = validate_snapshot(cfg, snapshot(tmp_path, frames, batch_rows=1 << 20))
    alone = validate_snapshot(cfg, snapshot(tmp_path, frames, batch_rows=1))  # every row group its own batch
    assert shared.to_json_dict()["partitions"] == alone.to_json_dict()["partitions"]
    assert [r.partitions for r in shared.results] == [r.partitions for r in alone.results]
    assert shared.failures == alone.failures
    assert any(r.partitions for r in shared.results)


def test_row_check_failure_names_its_partitions(tmp_path, config, frames, rng):
    frames = damage(frames, rng)
    report = validate_snapshot(config(), snapshot(tmp_path, frames))
    day, uri = frames[2][0].isoformat(), source_uri(frames[2][0])
    line = next(f for f in report.failures if f.startswith("expect_column_values_to_be_in_set(is_fraud):"))
    assert line.endswith(f"2 value(s) outside ['0', '1']: ['2']; failed in 1 of 4 partition(s): {day} {uri} (['2'])")
    result = next(r for r in report.results if r.name == "expect_column_values_to_be_in_set")
    assert result.partitions == ({"day": day, "uri": uri, "rows": len(frames[2][1]), "observed": ["2"]},)
    part = report.to_json_dict()["partitions"][2]
    assert (part["day"], part["uri"], part["rows"]) == (day, uri, len(frames[2][1]))
    assert any("outside ['0', '1']" in line for line in part["failed"])


def test_null_fraction_is_judged_on_the_window_and_reported_per_partition(tmp_path, config, frames, rng):
    """One day with 40% nulls in f0 fails that day's own check; the window's 10% contract holds when diluted."""
    (d1, f1) = frames[1]
    f1.loc[rng.random(len(f1)) < 0.4, "f0"] = np.nan
    frames[1] = (d1, f1)
    report = validate_snapshot(config(validation={"null_fraction": {"f0": 0.15}}), snapshot(tmp_path, frames))
    assert report.success, report.failures
    day = report.to_json_dict()["partitions"][1]
    assert [line for line in day["failed"] if line.startswith("expect_column_values_to_not_be_null(f0)")]
    strict = validate_snapshot(config(validation={"null_fraction": {"f0": 0.05}}), snapshot(tmp_path, frames))
    line = next(f for f in strict.failures if f.startswith("expect_column_values_to_not_be_null(f0):"))
    assert re.search(rf"above limit 0\.05 \(\d+ of {strict.rows} rows\); failed in \d of 4 partition\(s\): ", line)
    assert f"{d1.isoformat()} {source_uri(d1)} (0.4" in line or f"{d1.isoformat()} {source_uri(d1)} (0.3" in line


def test_a_day_without_positives_passes_the_window_checks(tmp_path, config, frames):
    """Distinct classes and minority counts are window contracts: one quiet day is normal."""
    d0, f0 = frames[0]
    frames[0] = (d0, f0[f0["is_fraud"] == 0])
    positives = sum(int((f["is_fraud"] == 1).sum()) for _, f in frames)
    report = validate_snapshot(config(validation={"min_minority_count": positives}), snapshot(tmp_path, frames))
    assert report.success, report.failures
    assert report.to_json_dict()["partitions"][0]["label_counts"] == {"0": len(frames[0][1])}


def test_duplicates_are_counted_across_partitions(tmp_path, config, frames):
    d3, f3 = frames[3]
    frames[3] = (d3, pd.concat([f3, frames[0][1].head(30)], ignore_index=True))
    cfg = config(validation={"max_duplicate_fraction": 0.01, "warn_only": []})
    report = validate_snapshot(cfg, snapshot(tmp_path, frames))
    line = next(f for f in report.failures if f.startswith("expect_compound_columns_to_be_unique:"))
    assert f"(60 of {report.rows} rows repeat another row over features + label)" in line


def test_class_shares_are_judged_on_source_counts_under_negative_sampling(tmp_path, config, frames):
    """A 1-in-20 negative sample makes the staged share ~60%; the contract reads the source's counts."""
    staged_counts = validate_frame(config(), whole(frames), source="x").label_counts
    beta = 0.05
    population = Population(
        {"0": round(staged_counts["0"] / beta), "1": staged_counts["1"]},
        {"beta": beta, "positives": staged_counts["1"], "negatives_kept": staged_counts["0"]},
    )
    cfg = config(validation={"minority_share": {"min": 0.001, "max": 0.3}})
    sampled = [(d, pd.concat([f[f["is_fraud"] == 1], f[f["is_fraud"] == 0]])) for d, f in frames]
    report = validate_snapshot(cfg, snapshot(tmp_path, sampled), population=population)
    assert report.success, report.failures
    share = staged_counts["1"] / sum(population.label_counts.values())
    assert report.minority_share == pytest.approx(share)
    data = report.to_json_dict()
    assert data["class_shares_on"] == "source rows before negative sampling"
    assert data["population_label_counts"] == population.label_counts
    assert data["negative_sample"]["beta"] == beta
    too_rare = config(validation={"minority_share": {"min": 0.01, "max": 0.3}})
    line = validate_snapshot(too_rare, snapshot(tmp_path, sampled), population=population).failures[0]
    total = sum(population.label_counts.values())
    assert line.endswith(
        f"minority share {share:.4g} outside [0.01, 0.3] (class 1) on the source's {total} row(s) "
        f"before negative sampling"
    )


def test_row_groups_spanning_objects_are_sliced(tmp_path, config, frames, rng):
    """Snapshots staged before streaming ingest (one row group for the window) still validate per partition."""
    frames = damage(frames, rng)
    cfg = config()
    new = validate_snapshot(cfg, snapshot(tmp_path, frames))
    old = validate_snapshot(cfg, snapshot(tmp_path, frames, row_group_size=0))
    assert verdicts(old) == verdicts(new)
    assert old.failures == new.failures
    assert [p.rows for p in old.partitions] == [len(f) for _, f in frames]


def test_a_manifest_that_does_not_add_up_is_not_trusted(tmp_path, config, frames):
    path = tmp_path / "data.parquet"
    objects = write_window(path, frames)
    objects[0]["rows"] += 1
    report = validate_snapshot(config(), ParquetSnapshot(path, source="s3://a/data.parquet", objects=objects))
    assert report.success
    assert report.partitions == ()
    assert report.notes == (
        f"the manifest's objects hold {report.rows + 1} staged row(s) but the snapshot has {report.rows}: "
        f"the snapshot was validated as one partition",
    )


def test_data_docs_page_lists_the_partitions(tmp_path, config, frames, rng):
    report = validate_snapshot(config(), snapshot(tmp_path, damage(frames, rng)))
    html = report.html
    assert "Partitions" in html
    for day, _ in frames:
        assert source_uri(day) in html
        assert day.isoformat() in html
    assert "outside [&#39;0&#39;, &#39;1&#39;]" in html or "outside ['0', '1']" in html
    assert not re.search(r'<(link|script)[^>]+(href|src)="https?://', html)


def test_skipped_objects_are_not_partitions(tmp_path, config, frames):
    path = tmp_path / "data.parquet"
    objects = write_window(path, frames)
    skipped = {"uri": source_uri(dt.date(2026, 11, 20)), "day": "2026-11-20", "rows": 0, "skipped": "zero bytes"}
    snap = ParquetSnapshot(path, source="s3://a/data.parquet", objects=[skipped, *objects])
    assert [p.uri for p in snap.partitions] == [o["uri"] for o in objects]
