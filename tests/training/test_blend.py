"""The blend: out-of-fold evidence on shared folds, the entry rule, and a shipped blend that saves, loads and
predicts like any model (skops under the allow-list), against the real local S3 server."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.blend import BlendClassifier, blend_evidence
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.model_io import dump_model, load_model, load_model_files, save_model
from imbalance_jobs.selection import _blend
from imbalance_jobs.training import fit_candidate, train_candidates
from tests.training.conftest import HGB, LR_SMOTE, RF_UNDER


def _oof(ids, labels, folds, p1) -> pd.DataFrame:
    p1 = np.asarray(p1, dtype=float)
    return pd.DataFrame({ROW_ID: ids, "label_code": labels, "fold": folds, "proba_0": 1 - p1, "proba_1": p1})


def test_blend_evidence_averages_probabilities_and_scores_each_shared_fold() -> None:
    ids, y, folds = np.arange(8), np.array([0, 1, 0, 1, 0, 1, 0, 1]), np.array([0, 0, 0, 0, 1, 1, 1, 1])
    a = _oof(ids, y, folds, [0.1, 0.2, 0.3, 0.9, 0.1, 0.8, 0.6, 0.7])
    b = _oof(ids, y, folds, [0.3, 0.4, 0.1, 0.5, 0.2, 0.9, 0.1, 0.3])
    evidence = blend_evidence({"a": a, "b": b}, metric="average_precision")
    assert evidence.members == ["a", "b"]
    assert np.allclose(evidence.oof["proba_1"], (a["proba_1"] + b["proba_1"]) / 2)
    assert len(evidence.cv_scores) == 2
    assert all(0 < s <= 1 for s in evidence.cv_scores)


def test_blend_evidence_refuses_members_on_other_rows() -> None:
    a = _oof(np.arange(4), [0, 1, 0, 1], [0, 0, 1, 1], [0.1, 0.9, 0.2, 0.8])
    b = _oof(np.arange(1, 5), [0, 1, 0, 1], [0, 0, 1, 1], [0.1, 0.9, 0.2, 0.8])
    with pytest.raises(ValueError, match="a blend needs shared folds"):
        blend_evidence({"a": a, "b": b}, metric="average_precision")


def test_blend_round_trips_through_save_load_and_predict(snapshot, config) -> None:
    from sklearn.pipeline import Pipeline

    members = [fit_candidate(config(c).training.candidates[0], snapshot, config(c)).scoring for c in (HGB, LR_SMOTE)]
    blend = Pipeline([("blend", BlendClassifier(members=members, names=["hgb", "lr_smote"]))])
    loaded = load_model_files(dump_model(blend), source="test")
    expected = (members[0].predict_proba(snapshot) + members[1].predict_proba(snapshot)) / 2
    assert np.array_equal(loaded.predict_proba(snapshot), expected)
    assert loaded.steps[-1][1].names == ["hgb", "lr_smote"]


@pytest.mark.integration
def test_select_blend_of_trained_candidates_is_judged_on_their_oof_and_ships(
    store, make_config, make_context, snapshot
) -> None:
    ctx = make_context(make_config(training={"cv_folds": 3, "candidates": [HGB, LR_SMOTE, RF_UNDER]}))
    train_uri = ctx.staging_uri("split", "train.parquet")
    store.put_frame(train_uri, snapshot)
    results = train_candidates(ctx, train_uri)
    blend = _blend(ctx, results)
    ranked = sorted(results, key=lambda r: -r.cv_mean)
    assert blend.summary["members"] == [r.name for r in ranked]
    assert blend.entered == (blend.summary["gain_over_best"] > blend.summary["gain_se"])
    assert len(blend.result.cv_scores) == 3
    save_model(store, ctx.staging_uri("selection-test", "model") + "/", blend.pipeline(ctx))
    shipped = load_model(store, ctx.staging_uri("selection-test", "model") + "/")
    members = [load_model(store, r.model_uri).predict_proba(snapshot) for r in ranked]
    assert np.allclose(shipped.predict_proba(snapshot), np.mean(members, axis=0))
