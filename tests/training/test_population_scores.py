"""CV scores on a negative sample weight kept negatives 1 / beta, so candidates are compared on population AP."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from imbalance_jobs.blend import blend_evidence
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.negative_sampling import population_weights
from imbalance_jobs.training import cross_validate_candidate
from tests.training.conftest import HGB


def test_cross_validate_candidate_with_beta_scores_each_fold_with_population_weights(snapshot, config) -> None:
    cfg = config(HGB)
    candidate = cfg.training.candidates[0]
    plain = cross_validate_candidate(candidate, snapshot, cfg)
    weighted = cross_validate_candidate(candidate, snapshot, cfg, beta=0.25)
    np.testing.assert_array_equal(weighted.oof, plain.oof)  # the fits do not change, only the scoring
    y = snapshot["is_fraud"].to_numpy()
    w = population_weights(y == 1, 0.25)
    expected = [
        average_precision_score(
            y[weighted.fold == k], weighted.oof[weighted.fold == k, 1], sample_weight=w[weighted.fold == k]
        )
        for k in range(3)
    ]
    assert weighted.scores == pytest.approx(expected, rel=1e-12)
    assert all(s < p for s, p in zip(weighted.scores, plain.scores))  # more (weighted) negatives: lower AP


def test_cross_validate_candidate_beta_one_is_the_unweighted_path(snapshot, config) -> None:
    cfg = config(HGB)
    candidate = cfg.training.candidates[0]
    assert cross_validate_candidate(candidate, snapshot, cfg, beta=1.0).scores == (
        cross_validate_candidate(candidate, snapshot, cfg).scores
    )


def test_blend_evidence_with_weights_scores_folds_like_the_members(snapshot, config) -> None:
    cfg = config(HGB)
    cv = cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg, beta=0.25)
    y = snapshot["is_fraud"].to_numpy()
    oof = snapshot[[ROW_ID]].assign(label_code=y, fold=cv.fold, proba_0=cv.oof[:, 0], proba_1=cv.oof[:, 1])
    w = population_weights(y == 1, 0.25)
    evidence = blend_evidence({"a": oof, "b": oof}, metric="average_precision", sample_weight=w)
    assert evidence.cv_scores == pytest.approx(cv.scores, rel=1e-12)
