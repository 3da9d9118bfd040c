"""TorchMLPClassifier: the sklearn contract, determinism, device fallback, categorical codes, and quality vs HGB."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from imblearn.pipeline import Pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import average_precision_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from imbalance_jobs.errors import StrategyError
from imbalance_jobs.torch_models import LOSSES, TorchMLPClassifier
from imbalance_jobs.torch_models._network import NORMS
from imbalance_jobs.torch_models._training import LR_SCHEDULES
from tests.torch_models.conftest import FAST, fraud_split

AP_MARGIN = 0.05
"""The focal-loss MLP's test AP may trail HistGradientBoosting by at most this much on the fraud-like set."""


@parametrize_with_checks([TorchMLPClassifier(hidden_sizes=(16,), max_epochs=10, device="cpu")])
def test_mlp_passes_sklearn_estimator_checks(estimator, check) -> None:
    check(estimator)


def test_mlp_clone_keeps_every_parameter() -> None:
    clf = TorchMLPClassifier(hidden_sizes=(32, 8), focal_alpha=0.4, seed=9, n_categorical=2)
    assert clone(clf).get_params() == clf.get_params()


def test_mlp_set_params_changes_only_the_named_parameter() -> None:
    clf = TorchMLPClassifier().set_params(dropout=0.3)
    assert clf.dropout == 0.3
    assert clf.get_params()["hidden_sizes"] == (128, 64)


def test_mlp_predict_proba_is_a_probability_pair_per_row(imbalanced) -> None:
    X, y = imbalanced
    clf = TorchMLPClassifier(**FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert clf.classes_.tolist() == [0, 1]
    assert clf.n_features_in_ == X.shape[1]
    assert set(np.unique(clf.predict(X))) <= {0, 1}


def test_mlp_same_seed_gives_identical_probabilities(imbalanced) -> None:
    X, y = imbalanced
    first = TorchMLPClassifier(**FAST, seed=5).fit(X, y).predict_proba(X)
    second = TorchMLPClassifier(**FAST, seed=5).fit(X, y).predict_proba(X)
    assert np.array_equal(first, second)


def test_mlp_different_seed_gives_different_probabilities(imbalanced) -> None:
    X, y = imbalanced
    first = TorchMLPClassifier(**FAST, seed=5).fit(X, y).predict_proba(X)
    second = TorchMLPClassifier(**FAST, seed=6).fit(X, y).predict_proba(X)
    assert not np.array_equal(first, second)


def test_mlp_fit_leaves_the_global_torch_rng_alone(imbalanced) -> None:
    X, y = imbalanced
    state = torch.get_rng_state()
    TorchMLPClassifier(**FAST).fit(X, y)
    assert torch.equal(torch.get_rng_state(), state)


def test_mlp_fit_refuses_more_than_two_classes(imbalanced) -> None:
    X, _ = imbalanced
    y = np.arange(len(X)) % 3
    with pytest.raises(
        ValueError, match=r"Only binary classification is supported\. .* multiclass \(3 classes: \[0, 1, 2\]\)"
    ):
        TorchMLPClassifier(**FAST).fit(X, y)


def test_mlp_fit_refuses_a_single_class(imbalanced) -> None:
    X, _ = imbalanced
    with pytest.raises(ValueError, match=r"needs 2 classes to train; y holds 1 class: \[0\]"):
        TorchMLPClassifier(**FAST).fit(X, np.zeros(len(X), dtype=np.int64))


def test_mlp_other_labels_map_to_sorted_classes_with_the_larger_one_positive(imbalanced) -> None:
    X, y = imbalanced
    named = np.where(y == 1, "yes", "no")
    clf = TorchMLPClassifier(**FAST).fit(X, named)
    assert clf.classes_.tolist() == ["no", "yes"]
    assert np.array_equal(clf.predict_proba(X), TorchMLPClassifier(**FAST).fit(X, y).predict_proba(X))


def test_mlp_fit_refuses_an_unknown_norm(imbalanced) -> None:
    X, y = imbalanced
    with pytest.raises(ValueError, match="The 'norm' parameter of TorchMLPClassifier must be"):
        TorchMLPClassifier(**{**FAST, "norm": "group"}).fit(X, y)


def test_mlp_fit_refuses_require_cuda_with_cpu_device(imbalanced) -> None:
    X, y = imbalanced
    with pytest.raises(ValueError, match=r"When require_cuda=True, device cannot be 'cpu'\."):
        TorchMLPClassifier(**FAST, require_cuda=True).fit(X, y)


def test_mlp_fit_refuses_nan_in_numeric_columns(imbalanced) -> None:
    X, y = imbalanced
    X = X.copy()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"numeric columns \[2\] hold NaN or inf; the MLP expects imputed input"):
        TorchMLPClassifier(**FAST).fit(X, y)


def test_mlp_cuda_requested_without_cuda_trains_on_cpu_with_a_log_line(
    imbalanced, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = imbalanced
    with caplog.at_level(logging.WARNING, logger="imbalance_jobs.torch_models"):
        clf = TorchMLPClassifier(**{**FAST, "device": "cuda"}).fit(X, y)
    assert clf.device_.type == "cpu"
    assert "device 'cuda' requested but CUDA is not available; training on CPU" in caplog.messages


def test_mlp_require_cuda_without_cuda_raises(imbalanced, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    X, y = imbalanced
    with pytest.raises(StrategyError, match="require_cuda=True"):
        TorchMLPClassifier(**{**FAST, "device": "cuda", "require_cuda": True}).fit(X, y)


def test_mlp_learns_cardinalities_and_scores_unseen_codes(with_codes) -> None:
    X, y = with_codes
    clf = TorchMLPClassifier(**FAST, n_categorical=2).fit(X, y)
    assert clf.architecture_.cardinalities == (5, 3)
    unseen = X[:5].copy()
    unseen[:, -2:] = [[9.0, -1.0]] * 5
    assert np.isfinite(clf.predict_proba(unseen)).all()


def test_mlp_early_stopping_keeps_the_best_validation_epoch(imbalanced) -> None:
    X, y = imbalanced
    clf = TorchMLPClassifier(**{**FAST, "max_epochs": 30}, patience=2).fit(X, y)
    scores = [r["val_average_precision"] for r in clf.history_]
    assert len(clf.history_) <= 30
    assert scores[clf.best_epoch_ - 1] == max(scores)


def test_mlp_without_validation_trains_every_epoch(imbalanced) -> None:
    X, y = imbalanced
    clf = TorchMLPClassifier(**FAST, validation_fraction=0.0).fit(X, y)
    assert len(clf.history_) == FAST["max_epochs"] == clf.best_epoch_
    assert all(r["val_average_precision"] is None for r in clf.history_)


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_mlp_every_loss_trains_to_finite_probabilities(imbalanced, loss: str) -> None:
    X, y = imbalanced
    assert np.isfinite(TorchMLPClassifier(**FAST, loss=loss).fit(X, y).predict_proba(X)).all()


@pytest.mark.parametrize("schedule", sorted(LR_SCHEDULES))
@pytest.mark.parametrize("norm", sorted(NORMS))
def test_mlp_every_schedule_and_norm_trains(imbalanced, schedule: str, norm: str) -> None:
    X, y = imbalanced
    clf = TorchMLPClassifier(**{**FAST, "max_epochs": 2, "norm": norm}, lr_schedule=schedule).fit(X, y)
    assert np.isfinite(clf.predict_proba(X[:10])).all()


def test_mlp_balanced_batches_train(imbalanced) -> None:
    X, y = imbalanced
    clf = TorchMLPClassifier(**FAST, balanced_batches=True).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()


def test_mlp_fits_inside_an_imblearn_pipeline_after_random_under_sampling(imbalanced) -> None:
    X, y = imbalanced
    pipe = Pipeline([("sampler", RandomUnderSampler(random_state=0)), ("model", TorchMLPClassifier(**FAST))])
    proba = clone(pipe).fit(X, y).predict_proba(X)
    assert proba.shape == (len(X), 2)  # the sampler drops rows in fit only; every row is scored


def test_mlp_with_focal_loss_reaches_hist_gradient_boosting_average_precision() -> None:
    """On a fraud-like set (logistic signal, two categorical columns, 5% positives, 2800 training rows).

    Measured over data seeds 0-9: the MLP's AP minus the best of HGB with and without native categorical
    support ranged from -0.03 to +0.11 (mean +0.03). On make_classification's hypercube clusters, which suit
    trees, the same MLP trails HGB by about 0.13 at 4000 rows; that is a property of the data, not a bug
    (sklearn's MLPClassifier trails further).
    """
    X_train, X_test, y_train, y_test = fraud_split(seed=1)
    hgb = HistGradientBoostingClassifier(categorical_features=[9, 10], random_state=0).fit(X_train, y_train)
    mlp = TorchMLPClassifier(loss="focal", n_categorical=2, device="cpu", seed=0).fit(X_train, y_train)
    hgb_ap = average_precision_score(y_test, hgb.predict_proba(X_test)[:, 1])
    mlp_ap = average_precision_score(y_test, mlp.predict_proba(X_test)[:, 1])
    assert mlp_ap >= hgb_ap - AP_MARGIN, f"MLP AP {mlp_ap:.3f} vs HGB AP {hgb_ap:.3f}"
