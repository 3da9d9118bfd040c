"""A blend of the best candidates: the mean of their probabilities, judged on the same out-of-fold evidence.

Built in the select stage from the candidates' out-of-fold predictions (same folds for all), so its CV scores
are paired with every single candidate's at no extra fitting. It enters the choice only when its paired gain over
the best single candidate exceeds one standard error; the shipped blend holds the members' refit scoring
pipelines and averages their ``predict_proba``. Probabilities, not ranks: a rank is not a function of one row,
and the shipped model must score a single row the way it scored the out-of-fold rows. Binary labels only; torch
members are left out (their weights are stored apart from skops).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BLEND_NAME", "BlendClassifier", "BlendEvidence", "blend_evidence"]

BLEND_NAME = "blend"


class BlendClassifier(ClassifierMixin, BaseEstimator):
    """The mean of fitted members' ``predict_proba``; every member reads the same feature columns.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.naive_bayes import GaussianNB
    >>> X, y = make_classification(n_samples=500, weights=[0.9, 0.1], random_state=0)
    >>> members = [LogisticRegression().fit(X, y), GaussianNB().fit(X, y)]
    >>> blend = BlendClassifier(members=members)
    >>> bool(np.allclose(blend.predict_proba(X[:3]), (members[0].predict_proba(X[:3]) + members[1].predict_proba(X[:3])) / 2))
    True
    """

    def __init__(self, members: list[Any] | None = None, names: list[str] | None = None) -> None:
        self.members = members
        self.names = names

    @property
    def classes_(self) -> np.ndarray:
        return self.members[0].classes_

    def __sklearn_is_fitted__(self) -> bool:
        """Fitted when built from fitted members (it has no state of its own)."""
        return bool(self.members)

    def fit(self, X: Any, y: Any) -> BlendClassifier:
        """Refit every member on ``X, y`` (the select stage builds blends from members refit by the train stage)."""
        for member in self.members:
            member.fit(X, y)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.mean([np.asarray(m.predict_proba(X)) for m in self.members], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


@dataclass(frozen=True)
class BlendEvidence:
    """The blend's out-of-fold probabilities and per-fold scores, on the folds its members share."""

    members: list[str]
    oof: pd.DataFrame
    cv_scores: list[float]


def blend_evidence(
    oofs: dict[str, pd.DataFrame], *, metric: str, sample_weight: np.ndarray | None = None
) -> BlendEvidence:
    """Average the members' out-of-fold probabilities row by row and score each fold like a candidate.

    ``oofs`` maps member name -> its ``oof.parquet`` frame; rows are aligned by ``_row_id`` and only rows held
    out for every member (the same rows, as the folds are shared) are scored. ``sample_weight`` (one per oof
    row) weights each fold's score as the members' were (population weights of a negative sample).
    """
    from imbalance_jobs.features import ROW_ID
    from imbalance_jobs.training import score_predictions

    names = list(oofs)
    first = oofs[names[0]]
    columns = [c for c in first.columns if c.startswith("proba_")]
    for name in names[1:]:
        if not np.array_equal(oofs[name][ROW_ID].to_numpy(), first[ROW_ID].to_numpy()):
            raise ValueError(f"out-of-fold rows of '{name}' and '{names[0]}' differ; a blend needs shared folds")
    proba = np.mean([oofs[n][columns].to_numpy(dtype=np.float64) for n in names], axis=0)
    out = first[[ROW_ID, "label_code", "fold"]].copy()
    for k, column in enumerate(columns):
        out[column] = proba[:, k]
    y, fold = out["label_code"].to_numpy(), out["fold"].to_numpy()
    scores = [
        score_predictions(
            metric,
            y[fold == k],
            proba[fold == k],
            len(columns),
            sample_weight=None if sample_weight is None else sample_weight[fold == k],
        )
        for k in sorted(set(fold[fold >= 0].tolist()))
    ]
    return BlendEvidence(members=names, oof=out, cv_scores=scores)
