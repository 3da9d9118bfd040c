"""Input checks and the operating points of a binary scorer, shared by metrics, thresholds, bootstrap and plots.

An operating point is one distinct score value ``t`` used as a threshold: rows with ``score >= t`` are predicted
positive. Tied scores can never be split by a threshold, so they form one point. Every curve-derived number in this
package (AP, ROC AUC, precision at a recall target, the chosen threshold) is computed over these same points.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "OperatingPoints",
    "as_binary",
    "as_scores",
    "as_weights",
    "check_fraction",
    "operating_points",
    "tie_groups",
]


def as_binary(y_true: ArrayLike, scores: ArrayLike, *, probabilities: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(y, scores)``: 1-D, equal length, non-empty, 0/1 labels, finite scores (in [0, 1] if asked)."""
    y = np.asarray(y_true)
    s = as_scores(scores, probabilities=probabilities)
    if y.shape != s.shape:
        raise ValueError(f"y_true and scores must be 1-D arrays of equal length; got shapes {y.shape} and {s.shape}")
    if not np.isin(y, (0, 1)).all():
        seen = np.unique(y)[:6].tolist()
        raise ValueError(f"y_true must hold binary codes 0/1 (1 = positive); got values {seen}")
    return y.astype(np.int64), s


def as_scores(scores: ArrayLike, *, probabilities: bool = False) -> np.ndarray:
    """Validated scores: a non-empty 1-D float array of finite values (in [0, 1] if ``probabilities``)."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1 or s.size == 0:
        raise ValueError(f"scores must be a non-empty 1-D array; got shape {s.shape}")
    bad = int((~np.isfinite(s)).sum())
    if bad:
        raise ValueError(f"scores must be finite; got {bad} NaN or infinite value(s)")
    if probabilities and (s.min() < 0.0 or s.max() > 1.0):
        raise ValueError(f"scores must be probabilities in [0, 1]; got range [{s.min():.4g}, {s.max():.4g}]")
    return s


def as_weights(sample_weight: ArrayLike | None, n: int) -> np.ndarray | None:
    """Validated per-row weights: ``None`` stays ``None`` (the unweighted path), else ``n`` finite values >= 0.

    Weights make the rows stand for a population they were sampled from (a kept negative counts ``1 / beta``
    rows), so every figure computed with them equals the figure on the rows duplicated by their weights.
    """
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight must be a 1-D array of {n} values, one per row; got shape {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must hold finite values >= 0")
    return w


def check_fraction(name: str, value: float) -> float:
    """A target, floor or confidence level must lie in [0, 1]."""
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1]; got {value}")
    return value


def tie_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(order, ends)``: row order by descending score (stable), and the last sorted position of each tie group."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    ends = np.flatnonzero(np.r_[ranked[1:] != ranked[:-1], True])
    return order, ends


@dataclass(frozen=True)
class OperatingPoints:
    """Counts at every distinct threshold, highest threshold first (so recall is non-decreasing).

    With sample weights the counts are weighted sums (floats): population estimates from a weighted sample.
    """

    thresholds: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    positives: int | float
    negatives: int | float

    @property
    def fn(self) -> np.ndarray:
        return self.positives - self.tp

    @property
    def precision(self) -> np.ndarray:
        # Every point predicts at least one row positive, so tp + fp >= 1.
        return self.tp / (self.tp + self.fp)

    @property
    def recall(self) -> np.ndarray:
        """tp / positives; all zeros when there are no positives (recall is then undefined: check first)."""
        return self.tp / (self.positives or 1)

    @property
    def f1(self) -> np.ndarray:
        # 2tp / (2tp + fp + fn): exact ratios, so equal F1 values compare equal (deterministic tie-breaking).
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn)


def operating_points(y: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None) -> OperatingPoints:
    """Operating points of validated arrays (see :func:`as_binary`), weighted by ``sample_weight`` if given."""
    order, ends = tie_groups(scores)
    if sample_weight is not None:
        w = sample_weight[order]
        tp = np.cumsum(w * y[order])[ends]
        fp = np.cumsum(w * (1 - y[order]))[ends]
        return OperatingPoints(scores[order][ends], tp, fp, float(tp[-1]), float(fp[-1]))
    tp = np.cumsum(y[order])[ends]
    fp = (ends + 1) - tp
    positives = int(y.sum())
    return OperatingPoints(scores[order][ends], tp, fp, positives, int(y.size - positives))
