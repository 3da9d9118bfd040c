"""Split: stratified shares, time order, disjoint parts, seeded reproducibility, clear errors, the staged stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.split import MIN_ROWS_PER_CLASS, SplitSummary, split, split_frame


def _ids(frame) -> set[int]:
    return set(frame[ROW_ID].tolist())


@pytest.mark.parametrize("method", ["stratified", "time"])
def test_split_frame_parts_are_disjoint_and_cover_every_row(snapshot, config, method) -> None:
    parts = split_frame(config(split={"method": method}), snapshot).parts()
    ids = [_ids(frame) for frame in parts.values()]
    assert sum(len(i) for i in ids) == len(snapshot)
    assert set.union(*ids) == _ids(snapshot)


def _within_noise(count: int, n: int, share: float) -> bool:
    """A hash split's part size is Binomial(n, share): accept 4 standard deviations."""
    return abs(count - n * share) <= 4 * np.sqrt(n * share * (1 - share))


def test_split_frame_time_sizes_are_exact_fractions_of_all_rows(snapshot, config) -> None:
    parts = split_frame(config(split={"method": "time", "test_size": 0.25, "validation_size": 0.15}), snapshot)
    assert (len(parts.test), len(parts.validation), len(parts.train)) == (250, 150, 600)


@pytest.mark.parametrize("key", [None, ["txn_id"]])
def test_split_frame_stratified_sizes_are_fractions_of_every_class_within_noise(snapshot, config, key) -> None:
    parts = split_frame(config(split={"test_size": 0.25, "validation_size": 0.15, "key": key}), snapshot)
    for label in (0, 1):
        n = int((snapshot["is_fraud"] == label).sum())
        counts = {p: int((f["is_fraud"] == label).sum()) for p, f in parts.parts().items()}
        assert _within_noise(counts["test"], n, 0.25), counts
        assert _within_noise(counts["validation"], n, 0.15), counts


def test_split_frame_stratified_same_salt_same_parts(snapshot, config) -> None:
    first, second = split_frame(config(seed=11), snapshot), split_frame(config(seed=12), snapshot)
    assert first.test[ROW_ID].tolist() == second.test[ROW_ID].tolist()  # the seed does not move rows
    assert first.validation[ROW_ID].tolist() == second.validation[ROW_ID].tolist()


def test_split_frame_stratified_other_salt_other_parts(snapshot, config) -> None:
    first = split_frame(config(split={"salt": "a"}), snapshot)
    second = split_frame(config(split={"salt": "b"}), snapshot)
    assert _ids(first.test) != _ids(second.test)


@pytest.mark.parametrize("key", [None, ["txn_id"]])
def test_split_frame_stratified_row_keeps_its_part_whatever_else_is_in_the_window(snapshot, config, key) -> None:
    cfg = config(split={"key": key})
    whole = split_frame(cfg, snapshot)
    half = snapshot.sample(frac=0.5, random_state=3).iloc[::-1]  # other rows, other order, other dtypes
    half = half.assign(f0=half["f0"].astype(np.float32), txn_id=half["txn_id"].astype(np.float64))
    part = split_frame(cfg, half)
    for name in ("train", "validation", "test"):
        assert _ids(part.parts()[name]) == _ids(whole.parts()[name]) & _ids(half)


def test_split_frame_spec_records_the_contract(snapshot, config) -> None:
    spec = split_frame(config(split={"key": ["txn_id"], "salt": "s1"}), snapshot).spec
    assert (spec.assignment, spec.key, spec.hashed_columns, spec.salt) == ("hash", ["txn_id"], ["txn_id"], "s1")
    assert spec.test_range == (0.0, 0.2)
    assert spec.validation_range == (0.2, 0.4)
    assert sum(spec.rows.values()) == len(snapshot)
    assert spec.warnings == []


def test_split_frame_spec_without_key_hashes_content_and_warns_about_duplicates(snapshot, config) -> None:
    frame = snapshot.assign(**{ROW_ID: np.arange(len(snapshot))})
    doubled = frame.iloc[:10].assign(**{ROW_ID: np.arange(10) + len(frame)})
    spec = split_frame(config(), pd.concat([frame, doubled], ignore_index=True)).spec
    assert spec.key is None
    assert "is_fraud" in spec.hashed_columns
    assert "txn_id" not in spec.hashed_columns
    assert spec.duplicate_rows == 10
    assert "identical rows share a part (10 duplicate row(s)" in spec.warnings[0]


def test_split_frame_time_spec_records_the_cutoff(snapshot, config) -> None:
    parts = split_frame(config(split={"method": "time"}), snapshot)
    seen = pd.concat([parts.train, parts.validation])["event_time"].max()
    assert parts.spec.assignment == "time_order"
    assert pd.Timestamp(parts.spec.seen_until.value) == seen
    assert pd.Timestamp(parts.spec.test_from.value) == parts.test["event_time"].min()


def test_split_frame_refuses_a_key_column_missing_from_the_data(snapshot, config) -> None:
    with pytest.raises(DataValidationError, match=r"split.key column\(s\) \['order_id'\] are not in the data"):
        split_frame(config(split={"key": ["order_id"]}), snapshot)


def test_split_frame_time_puts_the_newest_rows_in_test(snapshot, config) -> None:
    parts = split_frame(config(split={"method": "time"}), snapshot)
    assert parts.train["event_time"].max() <= parts.validation["event_time"].min()
    assert parts.validation["event_time"].max() <= parts.test["event_time"].min()
    newest = set(snapshot.nlargest(len(parts.test), "event_time")[ROW_ID])
    assert _ids(parts.test) == newest


def test_split_frame_time_uses_split_timestamp_column_over_features(snapshot, config) -> None:
    reversed_time = snapshot["event_time"].max() + (snapshot["event_time"].min() - snapshot["event_time"])
    frame = snapshot.assign(loaded_at=reversed_time)
    cfg = config(
        split={"method": "time", "timestamp_column": "loaded_at"}, features={"exclude": ["txn_id", "loaded_at"]}
    )
    parts = split_frame(cfg, frame)
    assert parts.train["loaded_at"].max() <= parts.test["loaded_at"].min()
    assert parts.train["event_time"].min() > parts.test["event_time"].max()


def test_split_frame_time_refuses_missing_timestamps(snapshot, config) -> None:
    frame = snapshot.copy()
    frame.loc[3, "event_time"] = None
    with pytest.raises(DataValidationError, match="timestamp column 'event_time' has 1 missing value"):
        split_frame(config(split={"method": "time"}), frame)


def test_split_frame_time_refuses_absent_timestamp_column(snapshot, config) -> None:
    with pytest.raises(DataValidationError, match="timestamp column 'event_time' for the time split is missing"):
        split_frame(config(split={"method": "time"}), snapshot.drop(columns=["event_time"]))


def test_split_frame_keeps_row_ids_and_adds_them_when_missing(snapshot, config) -> None:
    parts = split_frame(config(), snapshot.drop(columns=[ROW_ID]))
    assert sorted(np.concatenate([f[ROW_ID].to_numpy() for f in parts.parts().values()])) == list(range(len(snapshot)))


def test_split_frame_too_few_minority_rows_for_a_part_raises(snapshot, config) -> None:
    negatives = snapshot[snapshot["is_fraud"] == 0]
    frame = negatives.assign(is_fraud=[1] * 4 + [0] * (len(negatives) - 4))
    with pytest.raises(DataValidationError, match=r"split part '\w+' has [01] row\(s\) of class '1' \(4 in the data\)"):
        split_frame(config(), frame)


def test_split_frame_time_with_no_recent_positives_raises(snapshot, config) -> None:
    newest = snapshot["event_time"] >= snapshot["event_time"].quantile(0.5)
    frame = snapshot.assign(is_fraud=np.where(newest, 0, snapshot["is_fraud"]))
    with pytest.raises(DataValidationError, match=f"split part 'test' has 0 row.*at least {MIN_ROWS_PER_CLASS}"):
        split_frame(config(split={"method": "time"}), frame)


@pytest.mark.integration
def test_split_stage_writes_three_parts_and_counts(store, make_config, make_context, snapshot) -> None:
    ctx = make_context(make_config())
    data_uri = ctx.staging_uri("ingest", "data.parquet")
    store.put_frame(data_uri, snapshot)
    summary = split(ctx, data_uri)
    assert isinstance(summary, SplitSummary)
    for part, uri in (("train", summary.train_uri), ("validation", summary.validation_uri), ("test", summary.test_uri)):
        frame = store.get_frame(uri)
        assert uri == ctx.staging_uri("split", f"{part}.parquet")
        assert summary.counts[part] == {"0": int((frame["is_fraud"] == 0).sum()), "1": int(frame["is_fraud"].sum())}
    assert sum(sum(c.values()) for c in summary.counts.values()) == len(snapshot)
    assert SplitSummary.model_validate(summary.to_json_dict()) == summary
    assert store.get_json(summary.spec_uri) == summary.spec.to_json_dict()
