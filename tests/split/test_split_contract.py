"""The evaluation contract: today's test rows a champion may be compared on are the rows it can never have seen."""

from __future__ import annotations

import pandas as pd
import pytest

from imbalance_jobs.features import ROW_ID
from imbalance_jobs.split import split_frame
from imbalance_jobs.split_contract import unseen_rows


def _seen_ids(parts) -> set[int]:
    return set(pd.concat([parts.train, parts.validation])[ROW_ID])


def _compared_ids(result, test: pd.DataFrame) -> set[int]:
    return set(test.loc[result.mask, ROW_ID])


def test_unseen_rows_same_contract_keeps_every_test_row(snapshot, config) -> None:
    cfg = config(split={"key": ["txn_id"]})
    champion, today = split_frame(cfg, snapshot.iloc[:700]), split_frame(cfg, snapshot.iloc[300:])
    result = unseen_rows(champion.spec, today.spec, today.test, version="v1")
    assert result.rule == "same_contract"
    assert result.mask.all()
    assert not _compared_ids(result, today.test) & _seen_ids(champion)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({"key": ["txn_id"], "salt": "a"}, {"key": ["txn_id"], "salt": "b"}),
        ({"key": ["txn_id"]}, {}),
        ({"test_size": 0.1}, {"test_size": 0.3}),
    ],
    ids=["salt", "key", "test_size"],
)
def test_unseen_rows_changed_contract_keeps_rows_that_are_test_rows_under_both(snapshot, config, before, after):
    champion = split_frame(config(split=before), snapshot)
    today = split_frame(config(split=after), snapshot)
    result = unseen_rows(champion.spec, today.spec, today.test, version="v1")
    assert result.rule == "test_under_both"
    assert _compared_ids(result, today.test) == set(today.test[ROW_ID]) & set(champion.test[ROW_ID])
    assert not _compared_ids(result, today.test) & _seen_ids(champion)
    assert f"{int(result.mask.sum())} of {len(today.test)} rows are test rows" in result.reason
    assert "test rows under both" in result.reason


def test_unseen_rows_time_champion_keeps_rows_newer_than_its_cutoff(snapshot, config) -> None:
    champion = split_frame(config(split={"method": "time"}), snapshot.iloc[:800])
    today = split_frame(config(split={"key": ["txn_id"]}), snapshot)
    result = unseen_rows(champion.spec, today.spec, today.test, version="v1")
    assert result.rule == "newer_than_cutoff"
    cutoff = pd.concat([champion.train, champion.validation])["event_time"].max()
    assert _compared_ids(result, today.test) == set(today.test.loc[today.test["event_time"] > cutoff, ROW_ID])
    assert not _compared_ids(result, today.test) & _seen_ids(champion)


def test_unseen_rows_without_a_champion_contract_is_unverifiable(snapshot, config) -> None:
    today = split_frame(config(), snapshot)
    result = unseen_rows(None, today.spec, today.test, version="v0")
    assert result.mask is None
    assert result.rule == "unverifiable"
    assert "champion v0 has no split contract" in result.reason
    assert "--force-promote" in result.reason


def test_unseen_rows_missing_key_column_today_is_unverifiable(snapshot, config) -> None:
    champion = split_frame(config(split={"key": ["txn_id"]}), snapshot)
    today = split_frame(config(), snapshot.drop(columns=["txn_id"]))
    result = unseen_rows(champion.spec, today.spec, today.test, version="v1")
    assert result.mask is None
    assert "lack column(s) ['txn_id']" in result.reason
