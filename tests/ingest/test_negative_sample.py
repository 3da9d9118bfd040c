"""Negative sampling at ingest: every positive kept, a hash-stable share of negatives, beta in the manifest."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.parquet as pq
import pytest

from imbalance_jobs.features import ROW_ID
from imbalance_jobs.ingest import BATCH_ROWS, ingest
from imbalance_jobs.negative_sampling import stored_beta
from tests.conftest import RUN_DATE, seed

pytestmark = pytest.mark.integration


def _sampled(make_config, **sample):
    return make_config(source={"lookback_days": 3, "negative_sample": sample}, split={"key": ["txn_id"]})


def test_keeps_every_positive_and_the_configured_share_of_negatives(store, make_config, make_context) -> None:
    full_cfg = make_config(source={"lookback_days": 3}, split={"key": ["txn_id"]})
    seed(store, full_cfg, days=3, rows=4000, positive_rate=0.02)
    full = ingest(make_context(full_cfg, run_id="full"))
    config = _sampled(make_config, fraction=0.1)
    sampled = ingest(make_context(config, run_id="sampled"))
    manifest = store.get_json(sampled.manifest_uri)
    sample = manifest["negative_sample"]

    assert sampled.label_counts["1"] == full.label_counts["1"] == sample["positives"]
    assert sample["negatives_seen"] == full.label_counts["0"]
    assert sample["negatives_kept"] == sampled.label_counts["0"]
    assert sample["beta"] == pytest.approx(sample["negatives_kept"] / sample["negatives_seen"])
    assert 0.08 < sample["beta"] < 0.12  # a hash below 0.1: about a tenth of 11,760 negatives
    assert sampled.negative_sample_beta == sample["beta"] == stored_beta(store, sampled.manifest_uri)
    assert manifest["population_label_counts"] == full.label_counts == sampled.population_label_counts
    assert manifest["rows_read"] == full.rows
    assert [o["rows_read"] for o in manifest["objects"]] == [4000, 4000, 4000]
    assert sum(o["rows"] for o in manifest["objects"]) == sampled.rows

    # a kept row keeps the row id it has in the unsampled snapshot, with the same values
    whole, part = store.get_frame(full.data_uri), store.get_frame(sampled.data_uri)
    joined = part.merge(whole, on=ROW_ID, suffixes=("", "_full"))
    assert len(joined) == len(part)
    assert (joined["txn_id"] == joined["txn_id_full"]).all()


def test_the_same_row_is_kept_every_night(store, make_config, make_context) -> None:
    config = _sampled(make_config, fraction=0.2)
    seed(store, config, days=4, rows=1500, positive_rate=0.05)
    today = store.get_frame(ingest(make_context(config, run_id="today")).data_uri)
    earlier = make_context(config, run_id="yesterday", run_date=RUN_DATE - dt.timedelta(days=1))
    yesterday = store.get_frame(ingest(earlier).data_uri)  # the windows share two days
    shared_days = {RUN_DATE - dt.timedelta(days=2), RUN_DATE - dt.timedelta(days=1)}

    def kept_on_shared_days(frame):
        return set(frame.loc[frame["event_time"].dt.date.isin(shared_days), "txn_id"])

    assert kept_on_shared_days(today) == kept_on_shared_days(yesterday)
    assert 0 < len(kept_on_shared_days(today)) < 2 * 1500


def test_max_rows_sizes_the_snapshot(store, make_config, make_context) -> None:
    config = _sampled(make_config, max_rows=1000)
    seed(store, config, days=3, rows=2000, positive_rate=0.05)
    summary = ingest(make_context(config))
    sample = store.get_json(summary.manifest_uri)["negative_sample"]
    assert sample["max_rows"] == 1000
    assert sample["fraction"] == pytest.approx((1000 - sample["positives"]) / sample["negatives_seen"])
    assert abs(summary.rows - 1000) < 60  # hash sampling: the count is binomial around the target


def test_staged_row_groups_never_span_objects(store, make_config, make_context, tmp_path) -> None:
    config = make_config(source={"lookback_days": 2})
    seed(store, config, days=2, rows=700)
    summary = ingest(make_context(config))
    path = tmp_path / "data.parquet"
    store.download(summary.data_uri, path)
    groups = [pq.ParquetFile(path).metadata.row_group(i).num_rows for i in range(pq.ParquetFile(path).num_row_groups)]
    assert groups == [700, 700]
    assert max(groups) <= BATCH_ROWS


def test_without_sampling_beta_is_one(store, make_config, make_context) -> None:
    config = make_config(source={"lookback_days": 1})
    seed(store, config, days=1, rows=300)
    summary = ingest(make_context(config))
    manifest = store.get_json(summary.manifest_uri)
    assert manifest["negative_sample"] is None
    assert summary.negative_sample_beta == 1.0
    assert manifest["population_label_counts"] == manifest["label_counts"]
    assert np.isclose(stored_beta(store, summary.manifest_uri), 1.0)
