"""Operating-threshold selection on validation rows, by the configured objective.

The default 0.5 cut of a probability is arbitrary for a rare class (and meaningless after resampling), so the cut
is tuned on validation rows; tuning it on test rows would make every test figure optimistic.

Candidates are the distinct validation scores: threshold ``t`` flags rows with ``score >= t``. Ties between
candidates are broken deterministically: first by the objective, then by the objective's secondary figure
(recall for max-precision, precision for max-recall), then in favour of the highest threshold, the operating point
that flags fewest rows. The "flag nothing" point (a threshold above every score) is not a candidate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from imbalance_jobs.config import ThresholdConfig
from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.evaluation._curves import OperatingPoints, as_binary, as_weights, operating_points
from imbalance_jobs.summary import Summary

__all__ = ["ThresholdChoice", "choose_threshold"]


class ThresholdChoice(Summary):
    """The chosen cut and its validation figures; ``expected_cost`` is per row with the config's FP/FN costs."""

    threshold: float
    objective: str
    precision: float
    recall: float
    f1: float
    expected_cost: float
    feasible: bool
    note: str = ""


_Pick = tuple[int, bool, str]  # index of the chosen point, feasible, note


def _best(mask: np.ndarray, *keys: np.ndarray) -> int:
    """Index of the point maximising ``keys`` lexicographically among ``mask``; ties -> highest threshold."""
    idx = np.flatnonzero(mask)
    # lexsort sorts by its last key first; -idx last-resort key prefers the smallest index (highest threshold).
    ranking = np.lexsort((-idx, *(k[idx] for k in reversed(keys))))
    return int(idx[ranking[-1]])


def _expected_cost(pts: OperatingPoints, config: ThresholdConfig) -> np.ndarray:
    return (config.fp_cost * pts.fp + config.fn_cost * pts.fn) / (pts.positives + pts.negatives)


def _max_f1(pts: OperatingPoints, config: ThresholdConfig) -> _Pick:
    return _best(np.ones(pts.tp.size, dtype=bool), pts.f1), True, ""


def _max_recall_at_precision(pts: OperatingPoints, config: ThresholdConfig) -> _Pick:
    floor = config.min_precision
    ok = pts.precision >= floor
    if not ok.any():
        index, _, _ = _max_f1(pts, config)
        note = (
            f"no threshold reaches precision >= {floor} on validation rows (best {pts.precision.max():.4f}); "
            "fell back to the max-F1 threshold"
        )
        return index, False, note
    return _best(ok, pts.recall, pts.precision), True, ""


def _max_precision_at_recall(pts: OperatingPoints, config: ThresholdConfig) -> _Pick:
    # The lowest candidate flags every row (recall 1.0), so some point always meets a floor in [0, 1].
    return _best(pts.recall >= config.min_recall, pts.precision, pts.recall), True, ""


def _min_cost(pts: OperatingPoints, config: ThresholdConfig) -> _Pick:
    return _best(np.ones(pts.tp.size, dtype=bool), -_expected_cost(pts, config)), True, ""


_OBJECTIVES: dict[str, Callable[[OperatingPoints, ThresholdConfig], _Pick]] = {
    "max_f1": _max_f1,
    "max_recall_at_precision": _max_recall_at_precision,
    "max_precision_at_recall": _max_precision_at_recall,
    "min_cost": _min_cost,
}


def choose_threshold(
    y_true: ArrayLike, scores: ArrayLike, config: ThresholdConfig, *, sample_weight: ArrayLike | None = None
) -> ThresholdChoice:
    """Choose the operating threshold on validation rows by ``config.objective``.

    Objectives: ``max_f1``; ``max_recall_at_precision`` (precision >= ``min_precision``; if no threshold reaches
    it, the max-F1 threshold is returned with ``feasible=False`` and a note); ``max_precision_at_recall``
    (recall >= ``min_recall``); ``min_cost`` (least ``(fp_cost * FP + fn_cost * FN) / rows``). Validation rows
    must hold both classes (DataValidationError otherwise): a threshold tuned on one class means nothing.
    ``sample_weight`` (one per row) tunes the cut for the population the rows stand for: with negatives sampled
    at rate beta and weighted ``1 / beta``, a precision floor is met on the population, not on the sample.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from imbalance_jobs.config import ThresholdConfig
    >>> X, y = make_classification(n_samples=2000, weights=[0.95, 0.05], random_state=0)
    >>> scores = LogisticRegression().fit(X[:1000], y[:1000]).predict_proba(X[1000:])[:, 1]
    >>> choice = choose_threshold(y[1000:], scores, ThresholdConfig(objective="max_precision_at_recall",
    ...                                                               min_recall=0.5))
    >>> choice.feasible, choice.recall >= 0.5, choice.threshold in set(scores)
    (True, True, True)
    """
    y, s = as_binary(y_true, scores)
    pts = operating_points(y, s, as_weights(sample_weight, y.size))
    if not (y.any() and not y.all()):
        found = f"got {int(y.sum())} positive(s) and {int(y.size - y.sum())} negative(s)"
        raise DataValidationError("validation rows", [f"choosing the operating threshold needs both classes; {found}"])
    index, feasible, note = _OBJECTIVES[config.objective](pts, config)
    return ThresholdChoice(
        threshold=float(pts.thresholds[index]),
        objective=config.objective,
        precision=float(pts.precision[index]),
        recall=float(pts.recall[index]),
        f1=float(pts.f1[index]),
        expected_cost=float(_expected_cost(pts, config)[index]),
        feasible=feasible,
        note=note,
    )
