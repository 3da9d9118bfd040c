"""Point metrics on held-out rows: binary (minority = positive class) and multi-class (one-vs-rest).

Average Precision is the primary metric: it summarises the precision-recall curve, which (unlike ROC AUC) moves
when false positives pile up on a rare class. Undefined numbers are ``None`` with a note, never a crash: a fresh
partition with no positives must still produce a report.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from imbalance_jobs.evaluation._curves import (
    OperatingPoints,
    as_binary,
    as_weights,
    check_fraction,
    operating_points,
)
from imbalance_jobs.summary import Summary

__all__ = [
    "BinaryMetrics",
    "ClassMetrics",
    "Confusion",
    "MulticlassMetrics",
    "average_precision",
    "binary_metrics",
    "multiclass_metrics",
    "precision_at_recall",
    "recall_at_precision",
    "roc_auc",
]

_LOG_EPS = np.finfo(np.float64).eps


class Confusion(Summary):
    """Binary confusion counts at the operating threshold (positive = minority class).

    Weighted sums (floats, population estimates) when the figures were computed with sample weights.
    """

    tn: int | float
    fp: int | float
    fn: int | float
    tp: int | float


class BinaryMetrics(Summary):
    """Test-set figures of one binary model; ``precision``/``recall``/``f1`` are for the positive class.

    ``positives`` and ``negatives`` count rows (the evidence); with sample weights every other figure, the
    confusion included, is weighted (a population estimate) and ``notes`` says so.
    """

    average_precision: float | None
    roc_auc: float | None
    brier: float
    log_loss: float
    precision: float
    recall: float | None
    f1: float | None
    confusion: Confusion
    positives: int
    negatives: int
    threshold: float
    precision_at_recall: dict[str, float | None]
    recall_at_precision: dict[str, float | None]
    notes: list[str] = []


class ClassMetrics(Summary):
    """One class of a multi-class problem, one-vs-rest, at argmax prediction."""

    name: str
    precision: float
    recall: float | None
    f1: float
    average_precision: float | None
    support: int


class MulticlassMetrics(Summary):
    """Per-class and macro figures; ``watched`` is the code of the minority class the pipeline guards."""

    class_names: list[str]
    per_class: list[ClassMetrics]
    macro_average_precision: float | None
    macro_f1: float
    accuracy: float
    log_loss: float
    confusion: list[list[int]]
    watched: int
    watched_name: str
    watched_recall: float | None
    watched_precision: float
    watched_average_precision: float | None
    notes: list[str] = []


def _points(y_true: ArrayLike, scores: ArrayLike, sample_weight: ArrayLike | None = None) -> OperatingPoints:
    y, s = as_binary(y_true, scores)
    return operating_points(y, s, as_weights(sample_weight, y.size))


def _average_precision(pts: OperatingPoints) -> float:
    """Sum over points of (recall step) x precision: the same step-wise AP as scikit-learn."""
    steps = np.diff(pts.tp, prepend=0) / pts.positives
    return float(np.sum(steps * pts.precision))


def _roc_auc(pts: OperatingPoints) -> float:
    """Trapezoidal area under (fpr, tpr), ties as diagonal segments, as scikit-learn's roc_auc_score."""
    tpr = np.r_[0.0, pts.tp / pts.positives]
    fpr = np.r_[0.0, pts.fp / pts.negatives]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def average_precision(y_true: ArrayLike, scores: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float | None:
    """Average Precision (step-wise, as scikit-learn); ``None`` unless both classes are present.

    ``sample_weight`` (one per row) gives the AP of the rows repeated by their weights, as scikit-learn's.

    Examples
    --------
    >>> average_precision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.8333333333333333
    """
    pts = _points(y_true, scores, sample_weight)
    return _average_precision(pts) if pts.positives and pts.negatives else None


def roc_auc(y_true: ArrayLike, scores: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float | None:
    """ROC AUC; ``None`` unless both classes are present. ``sample_weight``: one weight per row.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    pts = _points(y_true, scores, sample_weight)
    return _roc_auc(pts) if pts.positives and pts.negatives else None


def precision_at_recall(
    y_true: ArrayLike, scores: ArrayLike, target: float, *, sample_weight: ArrayLike | None = None
) -> float:
    """Best precision among operating points whose recall is >= ``target``.

    Scanning every distinct threshold (rather than indexing into a curve) is what makes this correct: precision is
    not monotone in recall, so the nearest point is not the best one. Returns 0.0 when no point qualifies, which
    only happens when ``y_true`` holds no positives (recall is then undefined). ``sample_weight``: one per row.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=2000, weights=[0.95, 0.05], random_state=0)
    >>> scores = LogisticRegression().fit(X[:1000], y[:1000]).predict_proba(X[1000:])[:, 1]
    >>> 0.0 < precision_at_recall(y[1000:], scores, 0.5) <= 1.0
    True
    """
    return _best_precision(_points(y_true, scores, sample_weight), target) or 0.0


def recall_at_precision(
    y_true: ArrayLike, scores: ArrayLike, target: float, *, sample_weight: ArrayLike | None = None
) -> float:
    """Best recall among operating points whose precision is >= ``target``; 0.0 when no point qualifies.

    ``sample_weight``: one weight per row (figures of the rows repeated by their weights).

    Examples
    --------
    Precision is not monotone along the curve: here it dips to 0.67 at recall 0.67 and recovers to 0.75 at
    recall 1.0, so the answer is 1.0, not the last recall before the first dip.

    >>> recall_at_precision([0, 1, 0, 1, 1], [0.1, 0.9, 0.8, 0.7, 0.2], 0.75)
    1.0
    """
    return _best_recall(_points(y_true, scores, sample_weight), target) or 0.0


def brier_and_log_loss(y: np.ndarray, p: np.ndarray, sample_weight: np.ndarray | None = None) -> tuple[float, float]:
    """Brier score and log loss; weighted means with ``sample_weight``."""
    clipped = np.clip(p, _LOG_EPS, 1 - _LOG_EPS)
    losses = y * np.log(clipped) + (1 - y) * np.log1p(-clipped)
    if sample_weight is not None:
        return float(np.average((p - y) ** 2, weights=sample_weight)), float(-np.average(losses, weights=sample_weight))
    return float(np.mean((p - y) ** 2)), float(-np.mean(losses))


def _at_threshold(y: np.ndarray, p: np.ndarray, threshold: float, w: np.ndarray | None = None) -> Confusion:
    pred = p >= threshold
    if w is not None:
        tp, fp = float(w[pred & (y == 1)].sum()), float(w[pred & (y == 0)].sum())
        fn, tn = float(w[~pred & (y == 1)].sum()), float(w[~pred & (y == 0)].sum())
        return Confusion(tn=tn, fp=fp, fn=fn, tp=tp)
    tp = int(np.sum(pred & (y == 1)))
    fp = int(np.sum(pred & (y == 0)))
    fn = int(np.sum(~pred & (y == 1)))
    return Confusion(tn=int(y.size) - tp - fp - fn, fp=fp, fn=fn, tp=tp)


def _best_precision(pts: OperatingPoints, target: float) -> float | None:
    """Best precision among points with recall >= target; None without positives, 0.0 if none qualifies."""
    ok = pts.recall >= check_fraction("recall target", target)
    if not pts.positives:
        return None
    return float(pts.precision[ok].max()) if ok.any() else 0.0


def _best_recall(pts: OperatingPoints, target: float) -> float | None:
    """Best recall among points with precision >= target; None without positives, 0.0 if none qualifies."""
    ok = pts.precision >= check_fraction("precision target", target)
    if not pts.positives:
        return None
    return float(pts.recall[ok].max()) if ok.any() else 0.0


def binary_metrics(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    threshold: float,
    recall_targets: Sequence[float] = (),
    precision_targets: Sequence[float] = (),
    sample_weight: ArrayLike | None = None,
) -> BinaryMetrics:
    """Every test-set figure of a binary model, positives being the minority class.

    ``scores`` are P(positive). Precision, recall and F1 are at the operating ``threshold`` (positive when
    ``score >= threshold``). With one class present, AP and ROC AUC are ``None`` and a note says why; with no
    positives, recall, F1 and the target tables are ``None`` too. Precision with no predicted positive is 0.0.
    ``sample_weight`` (one per row) weights every figure but the row counts ``positives`` / ``negatives``: with
    negatives sampled at rate beta and weighted ``1 / beta``, the figures estimate the unsampled population.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=2000, weights=[0.95, 0.05], random_state=0)
    >>> scores = LogisticRegression().fit(X[:1000], y[:1000]).predict_proba(X[1000:])[:, 1]
    >>> m = binary_metrics(y[1000:], scores, threshold=0.3, recall_targets=[0.5])
    >>> m.positives + m.negatives, 0 < m.average_precision <= 1, sorted(m.precision_at_recall)
    (1000, True, ['0.5'])
    """
    y, p = as_binary(y_true, scores, probabilities=True)
    w = as_weights(sample_weight, y.size)
    pts = operating_points(y, p, w)
    cm = _at_threshold(y, p, threshold, w)
    brier, log_loss = brier_and_log_loss(y, p, w)
    positives = int(y.sum())
    negatives = int(y.size) - positives
    both = bool(pts.positives and pts.negatives)
    notes = []
    if not both:
        notes.append(
            f"y_true holds one class ({positives} positives, {negatives} negatives): "
            "average_precision and roc_auc are undefined"
        )
    if w is not None:
        notes.append(
            f"weighted figures (weights sum to {float(w.sum()):.6g} over {y.size} rows): estimates for the rows "
            "the weights stand for; positives and negatives count rows"
        )
    return BinaryMetrics(
        average_precision=_average_precision(pts) if both else None,
        roc_auc=_roc_auc(pts) if both else None,
        brier=brier,
        log_loss=log_loss,
        precision=cm.tp / (cm.tp + cm.fp) if cm.tp + cm.fp else 0.0,
        recall=cm.tp / pts.positives if pts.positives else None,
        f1=2 * cm.tp / (2 * cm.tp + cm.fp + cm.fn) if pts.positives else None,
        confusion=cm,
        positives=positives,
        negatives=negatives,
        threshold=float(threshold),
        precision_at_recall={str(float(t)): _best_precision(pts, t) for t in recall_targets},
        recall_at_precision={str(float(t)): _best_recall(pts, t) for t in precision_targets},
        notes=notes,
    )


def _as_multiclass(y_true: ArrayLike, proba: ArrayLike, class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    p = np.asarray(proba, dtype=np.float64)
    k = len(class_names)
    if p.ndim != 2 or y.ndim != 1 or p.shape != (y.size, k) or y.size == 0:
        raise ValueError(
            f"proba must be an (n, {k}) array for {k} class_names and y_true 1-D with n > 0 rows; "
            f"got shapes {p.shape} and {y.shape}"
        )
    if not np.isin(y, np.arange(k)).all():
        raise ValueError(f"y_true must hold class codes 0..{k - 1}; got values {np.unique(y)[:6].tolist()}")
    if not np.isfinite(p).all() or p.min() < 0.0 or p.max() > 1.0:
        raise ValueError("proba must hold finite probabilities in [0, 1]")
    if (p.sum(axis=1) <= 0).any():
        raise ValueError("every row of proba must have a positive sum")
    return y.astype(np.int64), p


def _per_class(y: np.ndarray, p: np.ndarray, pred: np.ndarray, names: Sequence[str]) -> list[ClassMetrics]:
    out = []
    for code, name in enumerate(names):
        truth, hit = y == code, pred == code
        tp, support, flagged = int(np.sum(truth & hit)), int(truth.sum()), int(hit.sum())
        both = 0 < support < y.size
        out.append(
            ClassMetrics(
                name=name,
                precision=tp / flagged if flagged else 0.0,
                recall=tp / support if support else None,
                f1=2 * tp / (support + flagged) if support + flagged else 0.0,
                average_precision=_average_precision(operating_points(truth.astype(np.int64), p[:, code]))
                if both
                else None,
                support=support,
            )
        )
    return out


def multiclass_metrics(
    y_true: ArrayLike, proba: ArrayLike, *, class_names: Sequence[str], watched: int
) -> MulticlassMetrics:
    """Per-class (one-vs-rest) and macro figures at argmax prediction, plus the watched minority class's recall.

    Macro AP averages the classes whose AP is defined (present, and not the only class); a note lists the others.
    Macro F1 averages every class (an absent, never-predicted class counts as F1 0, as scikit-learn's
    ``zero_division=0``). Argmax ties go to the lower class code.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=3000, n_classes=3, n_informative=4, weights=[0.8, 0.15, 0.05],
    ...                            random_state=0)
    >>> proba = LogisticRegression().fit(X[:1500], y[:1500]).predict_proba(X[1500:])
    >>> m = multiclass_metrics(y[1500:], proba, class_names=["a", "b", "c"], watched=2)
    >>> m.watched_name, [c.support for c in m.per_class] == np.bincount(y[1500:]).tolist()
    ('c', True)
    """
    y, p = _as_multiclass(y_true, proba, class_names)
    if not 0 <= watched < len(class_names):
        raise ValueError(f"watched must be a class code in 0..{len(class_names) - 1}; got {watched}")
    pred = np.argmax(p, axis=1)
    per_class = _per_class(y, p, pred, class_names)
    aps = [c.average_precision for c in per_class if c.average_precision is not None]
    undefined = [c.name for c in per_class if c.average_precision is None]
    k = len(class_names)
    clipped = np.clip(p[np.arange(y.size), y] / p.sum(axis=1), _LOG_EPS, 1.0)  # rows renormalised, as sklearn
    return MulticlassMetrics(
        class_names=list(class_names),
        per_class=per_class,
        macro_average_precision=float(np.mean(aps)) if aps else None,
        macro_f1=float(np.mean([c.f1 for c in per_class])),
        accuracy=float(np.mean(pred == y)),
        log_loss=float(-np.mean(np.log(clipped))),
        confusion=np.bincount(y * k + pred, minlength=k * k).reshape(k, k).tolist(),
        watched=watched,
        watched_name=class_names[watched],
        watched_recall=per_class[watched].recall,
        watched_precision=per_class[watched].precision,
        watched_average_precision=per_class[watched].average_precision,
        notes=[f"average_precision undefined for classes {undefined} (absent or alone in y_true)"] if undefined else [],
    )
