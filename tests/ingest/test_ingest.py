"""Ingest against the real local S3 server: window selection, formats, manifest, and clear errors."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.errors import IngestError, StorageError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.ingest import ingest, list_partitions, partition_days, read_snapshot
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import RUN_DATE, seed

pytestmark = pytest.mark.integration
SPEC = SyntheticSpec(rows=300)


def _seed(store, config, *, days=5, end=RUN_DATE, **spec):
    seed(store, config, end=end, days=days, **{"rows": 300, **spec})


def test_partition_days_ends_on_run_date() -> None:
    days = partition_days(RUN_DATE, 3)
    assert days == [RUN_DATE - dt.timedelta(days=2), RUN_DATE - dt.timedelta(days=1), RUN_DATE]


def test_list_partitions_takes_only_the_lookback_window(store, make_config) -> None:
    config = make_config(source={"lookback_days": 3})
    _seed(store, config, days=5)
    _seed(store, config, days=1, end=RUN_DATE + dt.timedelta(days=1))  # a future partition is ignored
    found = list_partitions(store, config, RUN_DATE, 3)
    assert [day for day, _ in found] == partition_days(RUN_DATE, 3)


def test_list_partitions_ignores_other_files(store, make_config) -> None:
    config = make_config(source={"lookback_days": 1})
    _seed(store, config, days=1)
    folder = f"s3://{config.source.bucket}/fraud/dt={RUN_DATE}/"
    store.put_bytes(folder + "_SUCCESS", b"")
    store.put_bytes(folder + "notes.txt", b"hello")
    assert [o.uri for _, o in list_partitions(store, config, RUN_DATE, 1)] == [folder + "part-0.parquet"]


def test_ingest_writes_data_and_manifest(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 2})
    _seed(store, config, days=2)
    summary = ingest(make_context(config))
    data = store.get_frame(summary.data_uri)
    manifest = store.get_json(summary.manifest_uri)
    assert summary.rows == len(data) == 600
    assert [o["rows"] for o in manifest["objects"]] == [300, 300]
    assert all(o["etag"] and o["size"] > 0 for o in manifest["objects"])
    assert data[ROW_ID].tolist() == list(range(600))
    assert sum(summary.label_counts.values()) == 600
    assert summary.data_uri.startswith(f"s3://{config.artifacts.bucket}/fraud_test/runs/run-1/")


def test_ingest_records_a_zero_byte_partition_file_as_skipped(store, make_config, make_context, caplog) -> None:
    config = make_config(source={"lookback_days": 2})
    _seed(store, config, days=2)
    empty = f"s3://{config.source.bucket}/fraud/dt={RUN_DATE}/part-1.parquet"
    store.put_bytes(empty, b"")
    with caplog.at_level("WARNING", logger="imbalance_jobs.ingest"):
        summary = ingest(make_context(config))
    manifest = store.get_json(summary.manifest_uri)
    assert summary.rows == 600
    assert summary.objects == 2
    assert summary.skipped == [f"{empty}: zero bytes: an interrupted upload or an empty export; not read"]
    (listed,) = [o for o in manifest["objects"] if o["uri"] == empty]
    assert (listed["size"], listed["rows"], listed["skipped"].startswith("zero bytes")) == (0, 0, True)
    assert f"{empty}: zero bytes" in caplog.text


def test_ingest_reads_csv_like_parquet(store, make_config, make_context) -> None:
    parquet_cfg = make_config(source={"lookback_days": 2})
    _seed(store, parquet_cfg, days=2)
    csv_cfg = make_config(source={"lookback_days": 2, "format": "csv", "prefix": "csv/dt={date}/"})
    _seed(store, csv_cfg, days=2)
    from_parquet, _ = read_snapshot(make_context(parquet_cfg))
    from_csv, _ = read_snapshot(make_context(csv_cfg))
    assert from_csv.shape == from_parquet.shape
    assert (from_csv["is_fraud"].to_numpy() == from_parquet["is_fraud"].to_numpy()).all()
    np.testing.assert_allclose(from_csv["f0"], from_parquet["f0"], rtol=1e-5)


def test_ingest_reads_only_configured_columns(store, make_config, make_context) -> None:
    config = make_config(
        source={"lookback_days": 1},
        features={"numeric": ["f0", "amount"], "categorical": ["channel"], "exclude": []},
    )
    _seed(store, config, days=1)
    frame, _ = read_snapshot(make_context(config))
    assert sorted(frame.columns) == sorted([ROW_ID, "f0", "amount", "channel", "is_fraud", "event_time"])


def test_ingest_downcasts_floats_that_round_trip(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 1})
    _seed(store, config, days=1)
    frame, _ = read_snapshot(make_context(config))
    assert frame["f0"].dtype == np.float32
    assert frame["is_fraud"].dtype == np.int64  # the label is never narrowed


def test_ingest_sample_fraction_keeps_class_shares(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 2})
    _seed(store, config, days=2, rows=2000, positive_rate=0.1)
    full = ingest(make_context(config, run_id="full"))
    half = ingest(make_context(config, run_id="half", sample_fraction=0.5))
    for label, count in full.label_counts.items():
        assert abs(half.label_counts[label] - count / 2) <= 1


def test_ingest_no_partitions_in_window(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 2})
    _seed(store, config, days=1, end=RUN_DATE - dt.timedelta(days=10))
    with pytest.raises(
        IngestError, match=r"fraud/dt=\{date\}/: no parquet files in any partition from 2026-11-26 to 2026-11-27"
    ):
        ingest(make_context(config))


def test_ingest_missing_bucket(store, make_config, make_context) -> None:
    config = make_config(source={"bucket": "missing-bucket-xyz"})
    with pytest.raises(StorageError, match="bucket 'missing-bucket-xyz' does not exist"):
        ingest(make_context(config))


def test_ingest_corrupt_parquet_names_the_object(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 1})
    uri = f"s3://{config.source.bucket}/fraud/dt={RUN_DATE}/part-0.parquet"
    store.put_bytes(uri, b"PAR1 garbage")
    with pytest.raises(IngestError, match=rf"{uri}: cannot read parquet file"):
        ingest(make_context(config))


def test_ingest_missing_label_column_names_the_object(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 1})
    frame = make_frame(SPEC, seed=1, day=RUN_DATE).drop(columns=["is_fraud"])
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    uri = f"s3://{config.source.bucket}/fraud/dt={RUN_DATE}/part-0.parquet"
    store.put_bytes(uri, buf.getvalue())
    with pytest.raises(IngestError, match=rf"{uri}: label column 'is_fraud' is missing"):
        ingest(make_context(config))


def test_ingest_missing_configured_column_in_csv(store, make_config, make_context) -> None:
    config = make_config(
        source={"lookback_days": 1, "format": "csv"},
        features={"numeric": ["f0", "nope"], "categorical": [], "exclude": []},
    )
    _seed(store, config, days=1)
    with pytest.raises(IngestError, match=r"part-0.csv: configured column\(s\) \['nope'\] are missing"):
        ingest(make_context(config))


def test_ingest_rerun_overwrites_its_own_outputs(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 1})
    _seed(store, config, days=1)
    first = ingest(make_context(config))
    second = ingest(make_context(config))
    assert first == second
    assert pd.DataFrame(store.get_frame(second.data_uri)).shape[0] == 300


def _put_day(store, config, day, frame, fmt="parquet") -> str:
    uri = f"s3://{config.source.bucket}/fraud/dt={day}/part-0.{fmt}"
    buf = io.BytesIO()
    if fmt == "parquet":
        frame.to_parquet(buf, index=False)
    else:
        frame.to_csv(buf, index=False, sep=";")
    store.put_bytes(uri, buf.getvalue())
    return uri


def test_ingest_schema_drift_between_days_fails_validation_naming_both(store, make_config, make_context) -> None:
    """Issue 12 item 6: float on one day, text on the next was an ArrowInvalid traceback (exit 3)."""
    from imbalance_jobs.errors import DataValidationError

    config = make_config(source={"lookback_days": 2})
    day1, day2 = RUN_DATE - dt.timedelta(days=1), RUN_DATE
    _put_day(store, config, day1, make_frame(SPEC, seed=1, day=day1))
    drifted = make_frame(SPEC, seed=1, day=day2)
    drifted["f0"] = drifted["f0"].map(lambda v: f"{v:.3f} EUR")
    uri2 = _put_day(store, config, day2, drifted)
    with pytest.raises(DataValidationError) as info:
        ingest(make_context(config))
    (failure,) = info.value.failures
    assert failure.startswith(f"column 'f0' changes type between days: number (float64) on {day1}")
    assert re.search(rf"text \(\w+\) on {day2} in {re.escape(uri2)};", failure)


def test_ingest_matches_float_labels_as_labels(store, make_config, make_context) -> None:
    """Issue 12 item 7: 0.0/1.0 were 'outside [0, 1]' for every row."""
    config = make_config(source={"lookback_days": 1})
    frame = make_frame(SPEC, seed=1, day=RUN_DATE)
    frame["is_fraud"] = frame["is_fraud"].astype(float)
    _put_day(store, config, RUN_DATE, frame)
    summary = ingest(make_context(config))
    assert set(summary.label_counts) == {"0", "1"}
    assert store.get_frame(summary.data_uri)["is_fraud"].dtype == np.int64


def test_ingest_string_labels_on_one_day_reach_validation_as_values(store, make_config, make_context) -> None:
    """Issue 12 item 6: 'fraud'/'ok' strings on one day of a 0/1 pipeline was a TypeError traceback."""
    config = make_config(source={"lookback_days": 2})
    day1, day2 = RUN_DATE - dt.timedelta(days=1), RUN_DATE
    _put_day(store, config, day1, make_frame(SPEC, seed=1, day=day1))
    words = make_frame(SPEC, seed=1, day=day2)
    words["is_fraud"] = words["is_fraud"].map({0: "ok", 1: "fraud"})
    _put_day(store, config, day2, words)
    summary = ingest(make_context(config))
    assert {"0", "1", "ok", "fraud"} <= set(summary.label_counts)


def test_ingest_numbers_stored_as_text_fail_validation(store, make_config, make_context) -> None:
    """Issue 12 item 7: a numeric column stored as text was silently treated as categorical."""
    from imbalance_jobs.errors import DataValidationError

    config = make_config(source={"lookback_days": 1})
    frame = make_frame(SPEC, seed=1, day=RUN_DATE)
    frame["f1"] = frame["f1"].map(lambda v: f"{v:.4f}" if pd.notna(v) else None)
    _put_day(store, config, RUN_DATE, frame)
    with pytest.raises(DataValidationError, match=r"column 'f1' holds numbers stored as text \(e.g. '-?\d"):
        ingest(make_context(config))


def test_ingest_semicolon_csv_is_named_as_such(store, make_config, make_context) -> None:
    """Issue 12 item 7: a ';'-delimited CSV was reported as every column missing."""
    config = make_config(source={"lookback_days": 1, "format": "csv"})
    uri = _put_day(store, config, RUN_DATE, make_frame(SPEC, seed=1, day=RUN_DATE), fmt="csv")
    with pytest.raises(IngestError, match=rf"{uri}: the header is one column .* looks ';'-delimited"):
        ingest(make_context(config))
