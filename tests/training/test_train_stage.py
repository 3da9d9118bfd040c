"""The train stage against the real local S3 server: results, saved models, failures that do not stop the rest."""

from __future__ import annotations

import numpy as np
import pytest

from imbalance_jobs.errors import CandidateError
from imbalance_jobs.model_choice import choose
from imbalance_jobs.model_io import load_model
from imbalance_jobs.training import CandidateResult, train_candidate, train_candidates
from tests.training.conftest import HGB, LR_SMOTE, RF_UNDER

pytestmark = pytest.mark.integration

TOO_MANY_NEIGHBOURS = {**LR_SMOTE, "name": "lr_smote_k50", "imbalance_params": {"k_neighbors": 50}}
FAILS_AT_FIT = {**HGB, "name": "hgb_broken", "model_params": {"max_iter": 5, "monotonic_cst": [1]}}


def _stage(store, make_config, make_context, snapshot, *candidates, **options):
    ctx = make_context(make_config(training={"cv_folds": 3, "candidates": list(candidates)}), **options)
    train_uri = ctx.staging_uri("split", "train.parquet")
    store.put_frame(train_uri, snapshot)
    return ctx, train_uri


def test_train_candidate_saves_a_loadable_model_and_its_result(store, make_config, make_context, snapshot) -> None:
    ctx, train_uri = _stage(store, make_config, make_context, snapshot, LR_SMOTE)
    result = train_candidate(ctx, "lr_smote", train_uri)
    assert (result.status, result.error, result.sampler) == ("ok", None, "SMOTENC")
    assert result.model_uri == ctx.staging_uri("candidates", "lr_smote", "model") + "/"
    assert result.cv_mean == pytest.approx(np.mean(result.cv_scores))
    assert result.class_counts_after["1"] > result.class_counts_before["1"]
    assert result.features["categorical"] == ["merchant_category", "channel"]
    stored = store.get_json(ctx.staging_uri("candidates", "lr_smote", "result.json"))
    assert CandidateResult.model_validate(stored) == result
    proba = load_model(store, result.model_uri).predict_proba(snapshot)
    assert proba.shape == (len(snapshot), 2)


def test_train_candidates_reports_failures_and_goes_on(store, make_config, make_context, snapshot) -> None:
    ctx, train_uri = _stage(store, make_config, make_context, snapshot, TOO_MANY_NEIGHBOURS, FAILS_AT_FIT, RF_UNDER)
    results = train_candidates(ctx, train_uri)
    assert [r.status for r in results] == ["failed", "failed", "ok"]
    assert results[0].error.startswith("candidates 'lr_smote_k50' > imbalance_params > k_neighbors: SMOTENC needs")
    assert results[1].error.startswith("candidate 'hgb_broken' (hist_gradient_boosting + none): ValueError:")
    assert "\n" not in results[1].error
    assert (results[0].model_uri, results[0].cv_scores) == (None, [])
    assert not store.list(ctx.staging_uri("candidates", "hgb_broken", "model") + "/")
    assert choose([r for r in results if r.status == "ok"]).name == "rf_under"


def test_train_candidates_respects_the_run_options_subset(store, make_config, make_context, snapshot) -> None:
    ctx, train_uri = _stage(store, make_config, make_context, snapshot, HGB, RF_UNDER, candidates=("rf_under",))
    assert [r.name for r in train_candidates(ctx, train_uri)] == ["rf_under"]


def test_train_candidates_unknown_name_lists_the_known_ones(store, make_config, make_context, snapshot) -> None:
    ctx, train_uri = _stage(store, make_config, make_context, snapshot, HGB, RF_UNDER)
    with pytest.raises(
        CandidateError, match=r"unknown candidate\(s\) \['xgb'\]; training.candidates are: \['hgb', 'rf_under'\]"
    ):
        train_candidates(ctx, train_uri, names=["xgb"])


def test_train_candidate_rerun_that_fails_leaves_no_old_model(store, make_config, make_context, snapshot) -> None:
    ctx, train_uri = _stage(store, make_config, make_context, snapshot, HGB)
    assert train_candidate(ctx, "hgb", train_uri).status == "ok"
    store.put_frame(train_uri, snapshot.drop(columns=["is_fraud"]).assign(is_fraud=0))
    assert train_candidate(ctx, "hgb", train_uri).status == "failed"
    assert not store.list(ctx.staging_uri("candidates", "hgb", "model") + "/")
