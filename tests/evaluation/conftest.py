"""Small seeded data for the evaluation tests: noisy binary scores and an undersampled (miscalibrated) model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class Split:
    y_val: np.ndarray
    scores_val: np.ndarray
    y_test: np.ndarray
    scores_test: np.ndarray
    beta: float


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261127)


@pytest.fixture
def make_scores(rng: np.random.Generator) -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """Labels with a given prevalence and probability-like scores that rank positives higher by ``separation``."""

    def make(n: int, *, prevalence: float, separation: float) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(n) < prevalence).astype(np.int64)
        logits = rng.normal(-2.0 + separation * y, 1.0)
        return y, 1.0 / (1.0 + np.exp(-logits))

    return make


@pytest.fixture(scope="module")
def undersampled() -> Split:
    """Logistic regression trained on 1:1 randomly undersampled rows: good ranking, inflated probabilities."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=9000, n_features=8, weights=[0.95, 0.05], flip_y=0.01, random_state=7)
    train, val, test = np.split(np.arange(y.size), [3000, 6000])
    rng = np.random.default_rng(7)
    pos, neg = train[y[train] == 1], train[y[train] == 0]
    kept_neg = rng.choice(neg, size=pos.size, replace=False)
    rows = np.r_[pos, kept_neg]
    model = LogisticRegression().fit(X[rows], y[rows])
    scores = model.predict_proba(X)[:, 1]
    return Split(y[val], scores[val], y[test], scores[test], beta=kept_neg.size / neg.size)
