"""The evaluation contract over consecutive nightly windows, on the real S3 server: the champion is never
scored on a row it was fit or calibrated on, a changed split is narrowed to rows unseen under both, and a
champion without a contract is never compared silently."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from imbalance_jobs.cli._local import seed_pipeline
from imbalance_jobs.config import PipelineConfig, load_config
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.publishing import read_champion
from tests.conftest import RUN_DATE, seed

pytestmark = pytest.mark.integration

YESTERDAY = RUN_DATE - dt.timedelta(days=1)


def _frame(store, summary, part: str) -> pd.DataFrame:
    return store.get_frame(summary.stages["split"][f"{part}_uri"])


def _seen_txn_ids(store, summary) -> set[int]:
    """Rows the run's model was fit or calibrated on: every non-test row (``txn_id`` is unique per row)."""
    return set(pd.concat([_frame(store, summary, "train"), _frame(store, summary, "validation")])["txn_id"])


def _compared_txn_ids(store, summary) -> set[int]:
    test = _frame(store, summary, "test")
    scores = store.get_frame(
        summary.stages["evaluate"]["verdict_uri"].replace("verdict.json", "evaluation/scores.parquet")
    )
    assert scores["_row_id"].tolist() == test["_row_id"].tolist()
    return set(test.loc[scores["compared"].to_numpy(), "txn_id"])


@pytest.mark.parametrize(
    ("split", "rule"),
    [
        ({"method": "stratified", "key": ["txn_id"]}, "same_contract"),
        ({"method": "stratified"}, "same_contract"),
        ({"method": "time"}, "newer_than_cutoff"),
        ({"method": "time", "key": ["txn_id"]}, "newer_than_cutoff"),
    ],
    ids=["stratified-key", "stratified-content", "time", "time-key"],
)
def test_champion_never_scored_on_rows_it_saw_over_consecutive_windows(store, quick_config, run, split, rule):
    config = quick_config(split=split)
    seed(store, config, days=4)
    first = run(config, "night-1", run_date=YESTERDAY)
    version = first.stages["publish"]["version"]
    assert read_champion(store, PipelineLayout(config)).version == version
    card = store.get_bytes(PipelineLayout(config).version_uri(version, "model_card.md")).decode()
    assert "test rows" in card.split("Compared on ", 1)[1]
    second = run(config, "night-2")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    compared = _compared_txn_ids(store, second)
    window_overlap = set(_frame(store, second, "test")["txn_id"]) & set(_frame(store, first, "train")["txn_id"])
    assert verdict["comparison"]["rule"] == rule
    assert len(compared) == verdict["comparison"]["rows"] > 0
    assert compared & _seen_txn_ids(store, first) == set()
    assert verdict["champion"]["metrics"]["positives"] == verdict["comparison"]["positives"]
    if split["method"] == "stratified":  # the windows overlap by two days, and so do the parts, row for row
        assert window_overlap == set()
        assert set(_frame(store, second, "train")["txn_id"]) & set(_frame(store, first, "train")["txn_id"])


def test_changed_salt_compares_only_rows_that_are_test_rows_under_both(store, quick_config, run) -> None:
    seed(store, quick_config(), days=4)
    first = run(quick_config(split={"key": ["txn_id"], "salt": "a"}), "night-1", run_date=YESTERDAY)
    second = run(quick_config(split={"key": ["txn_id"], "salt": "b"}, gate={"min_test_positives": 1}), "night-2")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    compared = _compared_txn_ids(store, second)
    assert verdict["comparison"]["rule"] == "test_under_both"
    assert 0 < len(compared) < verdict["comparison"]["test_rows"]
    assert compared & _seen_txn_ids(store, first) == set()
    assert "split contract changed" in verdict["comparison"]["reason"]


def test_changed_split_with_too_few_shared_test_positives_is_insufficient_evidence(store, quick_config, run):
    seed(store, quick_config(), days=4)
    first = run(quick_config(split={"test_size": 0.2}), "night-1", run_date=YESTERDAY)
    second = run(quick_config(split={"salt": "rotated"}, gate={"min_test_positives": 10}), "night-2")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    assert second.decision == "insufficient_evidence"
    assert "test rows the champion never saw" in verdict["reasons"][0]
    assert "test rows under both" in verdict["reasons"][0]
    assert read_champion(store, PipelineLayout(quick_config())).version == first.stages["publish"]["version"]


def test_champion_without_a_contract_is_not_compared_and_force_promote_adopts_one(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config, days=4)
    first = run(config, "night-1", run_date=YESTERDAY)
    layout = PipelineLayout(config)
    old = first.stages["publish"]["version"]
    store.delete_prefix(layout.version_uri(old, "split_spec.json"))  # as a version published before contracts
    second = run(config, "night-2")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    assert second.decision == "insufficient_evidence"
    assert verdict["comparison"]["rule"] == "unverifiable"
    assert verdict["comparison"]["rows"] == 0
    assert f"champion {old} has no split contract" in verdict["reasons"][0]
    assert verdict["champion"]["metrics"] is None
    assert verdict["ap_gain"] is None
    assert read_champion(store, layout).version == old
    forced = run(config, "night-2-forced", force="promote", force_reason="adopt the split contract")
    assert read_champion(store, layout).version == forced.stages["publish"]["version"]


def test_same_recipe_on_consecutive_windows_of_seed_data_finds_no_gain(store, buckets, run) -> None:
    """configs/fraud.yaml with one candidate on two consecutive windows of `imbalance-jobs seed` data.

    Before the contract the champion was scored on rows it had trained on: gain -0.30, CI [-0.38, -0.23].
    """
    fraud = load_config(Path(__file__).parents[2] / "configs" / "fraud.yaml").model_dump(mode="json")
    fraud["training"]["candidates"] = [c for c in fraud["training"]["candidates"] if c["name"] == "hgb"]
    fraud.update(alerts={}, monitoring={"enabled": False})
    fraud["source"]["bucket"], fraud["artifacts"]["bucket"] = buckets["source"], buckets["artifacts"]
    config = PipelineConfig.model_validate(fraud)
    seed_pipeline(store, config, end_day=RUN_DATE, days=config.source.lookback_days + 1, rows=2000)
    run(config, "night-1", run_date=YESTERDAY)
    second = run(config, "night-2")
    gain = store.get_json(second.stages["evaluate"]["verdict_uri"])["ap_gain"]
    assert gain["ci_low"] <= 0 <= gain["ci_high"] or abs(gain["delta"]) <= 0.02, gain
