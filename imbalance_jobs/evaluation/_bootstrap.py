"""Bootstrap confidence intervals over test rows: one model, or two models paired on the same resamples.

A promotion decision on point values alone is a coin toss when the minority class has a few dozen test rows. The
paired bootstrap resamples test rows with replacement and scores *both* models on each resample, so the spread of
the AP difference reflects model differences and not which rare rows happened to be drawn.

Speed: a resample is a vector of row counts (a multinomial draw), so a batch of resamples is a count matrix and
every metric is a weighted cumulative sum over rows sorted once by score. Ties keep their groups, so a weighted
resample gives exactly the metric of the materialised resample. Intervals are percentile intervals.

Sample weights (rows that stand for several population rows, e.g. negatives kept at rate beta weighted
``1 / beta``) multiply the count matrix row-wise: every metric here is a ratio of weighted sums, so a weighted
resample is the resample of the weighted population estimate. Validity (both classes drawn) still counts rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from imbalance_jobs.evaluation._curves import as_binary, as_weights, tie_groups
from imbalance_jobs.summary import Summary

__all__ = [
    "BOOTSTRAP_METRICS",
    "BootstrapCI",
    "Interval",
    "PairedBootstrap",
    "bootstrap_ci",
    "bootstrap_cis",
    "difference_ci",
    "paired_bootstrap",
]

_BATCH_CELLS = 2_000_000  # resamples x rows per batch: bounds memory at ~16 MB per work array


class Interval(Summary):
    low: float | None
    high: float | None


class BootstrapCI(Summary):
    """Point value and percentile interval of one model's metric; ``None`` when undefined on these rows."""

    metric: str
    point: float | None
    low: float | None
    high: float | None
    confidence: float
    n_resamples: int
    n_valid: int
    seed: int
    threshold: float | None = None
    note: str = ""


class PairedBootstrap(Summary):
    """Metric of model a and b on the same rows; ``delta`` = b - a and its interval from paired resamples."""

    metric: str
    point_a: float | None
    point_b: float | None
    delta: float | None
    ci_low: float | None
    ci_high: float | None
    a_ci: Interval
    b_ci: Interval
    confidence: float
    n_resamples: int
    n_valid: int
    seed: int
    threshold_a: float | None = None
    threshold_b: float | None = None
    note: str = ""


@dataclass(frozen=True)
class _Scored:
    """One model's rows prepared once, so a batch of resamples costs a gather, a segment sum and small cumsums.

    Only tie groups holding a positive move AP or ROC AUC, so counts are needed at their ends (and at the end of
    the group just above each, for ROC ties) only: ``marks`` are those sorted positions, plus the last one.
    """

    order: np.ndarray  # rows by descending score
    positive_rows: np.ndarray  # positive rows by descending score
    upto: np.ndarray  # per positive group: positives ranked at or above its end
    marks: np.ndarray  # sorted positions where cumulative counts are taken (ends with n - 1)
    end_mark: np.ndarray  # per positive group: index into marks of its end
    before_mark: np.ndarray  # per positive group: index into marks of the previous group's end; -1 if none
    hit_rows: np.ndarray  # positive rows at or above the threshold (empty without one)
    flagged_rows: np.ndarray  # rows at or above the threshold (empty without one)
    squared_error: np.ndarray  # (score - label)^2 per row: the Brier score's terms


def _prepare(y: np.ndarray, scores: np.ndarray, threshold: float | None) -> _Scored:
    order, ends = tie_groups(scores)
    ranked_y = y[order]
    upto_all = np.cumsum(ranked_y)[ends]
    groups = np.flatnonzero(np.diff(upto_all, prepend=0) > 0)
    end = ends[groups]
    before = np.where(groups > 0, ends[np.maximum(groups - 1, 0)], -1)
    marks = np.unique(np.r_[end, before[before >= 0], y.size - 1])
    flagged = np.flatnonzero(scores >= threshold) if threshold is not None else np.empty(0, dtype=np.int64)
    return _Scored(
        order=order,
        positive_rows=order[ranked_y == 1],
        upto=upto_all[groups],
        marks=marks,
        end_mark=np.searchsorted(marks, end),
        before_mark=np.where(before >= 0, np.searchsorted(marks, before), -1),
        hit_rows=flagged[y[flagged] == 1],
        flagged_rows=flagged,
        squared_error=(scores - y) ** 2,
    )


def _positive_groups(w: np.ndarray, m: _Scored) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per resample and positive group: (tp, tp step, rows flagged at its end, rows flagged above it)."""
    tp = np.cumsum(w[:, m.positive_rows], axis=1)[:, m.upto - 1].astype(np.float64)
    starts = np.r_[0, m.marks[:-1] + 1]
    segments = np.add.reduceat(np.take(w, m.order, axis=1), starts, axis=1)
    at_marks = np.cumsum(segments, axis=1, dtype=np.float64)
    at_marks = np.concatenate([at_marks, np.zeros((w.shape[0], 1))], axis=1)  # index -1 reads 0
    return tp, np.diff(tp, axis=1, prepend=0.0), at_marks[:, m.end_mark], at_marks[:, m.before_mark]


def _ap(w: np.ndarray, m: _Scored) -> np.ndarray:
    tp, step, flagged, _ = _positive_groups(w, m)
    # A group whose positives were not drawn adds no step; max(., 1) only avoids 0/0 there.
    return np.sum(step * tp / np.maximum(flagged, 1.0), axis=1) / tp[:, -1]


def _roc_auc(w: np.ndarray, m: _Scored) -> np.ndarray:
    tp, step, flagged, flagged_before = _positive_groups(w, m)
    positives = tp[:, -1]
    negatives = w.sum(axis=1) - positives
    fp_end, fp_before = flagged - tp, flagged_before - (tp - step)
    # Each drawn positive beats the negatives ranked below its group and ties half of those inside it.
    wins = np.sum(step * (negatives[:, None] - (fp_end + fp_before) / 2), axis=1)
    return wins / (positives * negatives)


def _recall(w: np.ndarray, m: _Scored) -> np.ndarray:
    return w[:, m.hit_rows].sum(axis=1) / w[:, m.positive_rows].sum(axis=1)


def _precision(w: np.ndarray, m: _Scored) -> np.ndarray:
    hits, flagged = w[:, m.hit_rows].sum(axis=1), w[:, m.flagged_rows].sum(axis=1)
    return np.divide(hits, flagged, out=np.zeros(hits.shape), where=flagged > 0)


def _brier(w: np.ndarray, m: _Scored) -> np.ndarray:
    return (w @ m.squared_error) / w.sum(axis=1)


_Metric = Callable[[np.ndarray, _Scored], np.ndarray]
_METRICS: dict[str, tuple[_Metric, bool]] = {  # name -> (batched metric, needs a threshold)
    "average_precision": (_ap, False),
    "roc_auc": (_roc_auc, False),
    "recall": (_recall, True),
    "precision": (_precision, True),
    "brier": (_brier, False),
}
_ALIASES = {"recall_at_threshold": "recall", "precision_at_threshold": "precision"}
BOOTSTRAP_METRICS = (*_METRICS, *_ALIASES)


def _metric(name: str, thresholds: tuple[float | None, ...]) -> tuple[str, _Metric]:
    canonical = _ALIASES.get(name, name)
    if canonical not in _METRICS:
        raise ValueError(f"metric must be one of {list(BOOTSTRAP_METRICS)}; got {name!r}")
    fn, needs_threshold = _METRICS[canonical]
    if needs_threshold and any(t is None for t in thresholds):
        raise ValueError(f"metric {name!r} is measured at an operating threshold; pass the threshold(s)")
    return canonical, fn


def _check_run(n_resamples: int, confidence: float) -> None:
    if int(n_resamples) < 1:
        raise ValueError(f"n_resamples must be an int >= 1; got {n_resamples}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")


def _replicates(
    models: list[_Scored],
    fn: _Metric | list[_Metric],
    n_resamples: int,
    seed: int,
    weights: np.ndarray | None = None,
) -> tuple[list[np.ndarray], int]:
    """Metric values on the valid resamples (both classes drawn), the same resampled rows for every model;
    ``fn`` is one metric for all, or one per model (the resamples depend on the seed and the rows only)."""
    fns = fn if isinstance(fn, list) else [fn] * len(models)
    n = models[0].order.size
    batch = max(1, min(n_resamples, _BATCH_CELLS // n))
    rng = np.random.default_rng(seed)
    values: list[list[np.ndarray]] = [[] for _ in models]
    for start in range(0, n_resamples, batch):
        size = min(batch, n_resamples - start)
        rows = rng.integers(0, n, size=(size, n)) + (np.arange(size) * n)[:, None]
        w = np.bincount(rows.ravel(), minlength=size * n).reshape(size, n)  # row counts of each resample
        positives = w[:, models[0].positive_rows].sum(axis=1)
        valid = (positives > 0) & (positives < n)  # every resample holds exactly n rows
        if weights is not None:
            w = w * weights  # each drawn row counts for the population rows it stands for
        with np.errstate(divide="ignore", invalid="ignore"):  # invalid resamples are dropped below
            for out, m, metric in zip(values, models, fns, strict=True):
                out.append(metric(w, m)[valid])
    merged = [np.concatenate(v) for v in values]
    return merged, int(merged[0].size)


def _interval(values: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    if values.size == 0:
        return None, None
    low, high = np.quantile(values, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _one_class_note(y: np.ndarray) -> str:
    positives = int(y.sum())
    if 0 < positives < y.size:
        return ""
    return f"y_true holds one class ({positives} positives, {y.size - positives} negatives): metric undefined"


def _skipped_note(n_valid: int, n_resamples: int) -> str:
    skipped = n_resamples - n_valid
    return f"{skipped} of {n_resamples} resamples drew a single class and were skipped" if skipped else ""


def _point_weights(n: int, weights: np.ndarray | None) -> np.ndarray:
    """The original rows as one 'resample': each row once, or with its weight."""
    return np.ones((1, n), dtype=np.int64) if weights is None else weights[None, :]


def bootstrap_ci(
    y_true: ArrayLike,
    scores: ArrayLike,
    *,
    metric: str,
    threshold: float | None = None,
    n_resamples: int,
    confidence: float,
    seed: int,
    sample_weight: ArrayLike | None = None,
) -> BootstrapCI:
    """Percentile bootstrap interval of one model's metric on these rows (resampling rows with replacement).

    ``metric`` is one of :data:`BOOTSTRAP_METRICS`; ``recall`` and ``precision`` are at ``threshold`` (positive
    when ``score >= threshold``; precision is 0.0 on a resample with no predicted positive). Resamples that drew a
    single class are skipped; ``n_valid`` counts the rest. With one class in ``y_true`` everything is ``None``.
    ``brier`` needs probabilities as scores. ``sample_weight`` (one per row) makes the point and every resample
    weighted: with negatives sampled at rate beta and weighted ``1 / beta``, the interval is the population's.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=2000, weights=[0.95, 0.05], random_state=0)
    >>> scores = LogisticRegression().fit(X[:1000], y[:1000]).predict_proba(X[1000:])[:, 1]
    >>> ci = bootstrap_ci(y[1000:], scores, metric="recall", threshold=0.3, n_resamples=200, confidence=0.9, seed=0)
    >>> ci.low <= ci.point <= ci.high, ci.n_valid
    (True, 200)
    """
    (ci,) = bootstrap_cis(
        y_true,
        [(metric, scores, threshold)],
        n_resamples=n_resamples,
        confidence=confidence,
        seed=seed,
        sample_weight=sample_weight,
    )
    return ci


def bootstrap_cis(
    y_true: ArrayLike,
    requests: list[tuple[str, ArrayLike, float | None]],
    *,
    n_resamples: int,
    confidence: float,
    seed: int,
    sample_weight: ArrayLike | None = None,
) -> list[BootstrapCI]:
    """:func:`bootstrap_ci` for several ``(metric, scores, threshold)`` on the same rows, drawing each batch of
    resamples once for all of them: the same intervals as separate calls with this seed, at a fraction of the
    cost on large test sets (drawing and counting the resampled rows dominates there).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y, s = (rng.random(500) < 0.1).astype(int), rng.random(500)
    >>> both = bootstrap_cis(y, [("average_precision", s, None), ("recall", s, 0.5)],
    ...                      n_resamples=50, confidence=0.9, seed=1)
    >>> one = bootstrap_ci(y, s, metric="recall", threshold=0.5, n_resamples=50, confidence=0.9, seed=1)
    >>> both[1] == one
    True
    """
    if not requests:
        return []
    y = as_binary(y_true, requests[0][1])[0]
    weights = as_weights(sample_weight, y.size)
    _check_run(n_resamples, confidence)
    prepared = []
    for metric, scores, threshold in requests:
        canonical, fn = _metric(metric, (threshold,))
        prepared.append((canonical, fn, threshold, _prepare(y, as_binary(y_true, scores)[1], threshold)))
    note = _one_class_note(y)
    values: list[np.ndarray | None] = [None] * len(prepared)
    n_valid = 0
    if not note:
        values, n_valid = _replicates(
            [m for *_, m in prepared], [fn for _, fn, _, _ in prepared], int(n_resamples), seed, weights
        )
    out = []
    for (canonical, fn, threshold, m), replicates in zip(prepared, values, strict=True):
        point, (low, high) = None, (None, None)
        if replicates is not None:
            point = float(fn(_point_weights(y.size, weights), m)[0])
            low, high = _interval(replicates, confidence)
        out.append(
            BootstrapCI(
                metric=canonical,
                point=point,
                low=low,
                high=high,
                confidence=confidence,
                n_resamples=int(n_resamples),
                n_valid=n_valid,
                seed=seed,
                threshold=threshold,
                note=note or _skipped_note(n_valid, int(n_resamples)),
            )
        )
    return out


def paired_bootstrap(
    y_true: ArrayLike,
    scores_a: ArrayLike,
    scores_b: ArrayLike,
    *,
    metric: str = "average_precision",
    n_resamples: int,
    confidence: float,
    seed: int,
    threshold_a: float | None = None,
    threshold_b: float | None = None,
    sample_weight: ArrayLike | None = None,
) -> PairedBootstrap:
    """Paired bootstrap of ``metric(b) - metric(a)``: every resample scores both models on the same rows.

    Use ``a`` for the champion and ``b`` for the candidate; a gate on "AP gain" reads ``ci_low``. ``a_ci`` and
    ``b_ci`` are each model's own interval from the same resamples. Threshold metrics (``recall``, ``precision``)
    take each model's own operating threshold. Identical scores give a delta of exactly 0 on every resample.
    ``sample_weight`` (one per row) weights both models' figures on every resample (see :func:`bootstrap_ci`).

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=3000, weights=[0.95, 0.05], random_state=0)
    >>> Xt, yt = X[2000:], y[2000:]
    >>> champion = LogisticRegression().fit(X[:2000, :2], y[:2000]).predict_proba(Xt[:, :2])[:, 1]
    >>> candidate = LogisticRegression().fit(X[:2000], y[:2000]).predict_proba(Xt)[:, 1]
    >>> pb = paired_bootstrap(yt, champion, candidate, n_resamples=300, confidence=0.95, seed=0)
    >>> pb.ci_low <= pb.delta <= pb.ci_high, pb.n_valid
    (True, 300)
    """
    y, a = as_binary(y_true, scores_a)
    _, b = as_binary(y_true, scores_b)
    weights = as_weights(sample_weight, y.size)
    _check_run(n_resamples, confidence)
    canonical, fn = _metric(metric, (threshold_a, threshold_b))
    models = [_prepare(y, a, threshold_a), _prepare(y, b, threshold_b)]
    note = _one_class_note(y)
    points: list[float | None] = [None, None]
    delta_ci: tuple[float | None, float | None] = (None, None)
    cis, n_valid = [delta_ci, delta_ci], 0
    if not note:
        points = [float(fn(_point_weights(y.size, weights), m)[0]) for m in models]
        (va, vb), n_valid = _replicates(models, fn, int(n_resamples), seed, weights)
        delta_ci, cis = _interval(vb - va, confidence), [_interval(va, confidence), _interval(vb, confidence)]
        note = _skipped_note(n_valid, int(n_resamples))
    return PairedBootstrap(
        metric=canonical,
        point_a=points[0],
        point_b=points[1],
        delta=None if points[0] is None else points[1] - points[0],
        ci_low=delta_ci[0],
        ci_high=delta_ci[1],
        a_ci=Interval(low=cis[0][0], high=cis[0][1]),
        b_ci=Interval(low=cis[1][0], high=cis[1][1]),
        confidence=confidence,
        n_resamples=int(n_resamples),
        n_valid=n_valid,
        seed=seed,
        threshold_a=threshold_a,
        threshold_b=threshold_b,
        note=note,
    )


def difference_ci(
    a: float, a_ci: tuple[float | None, float | None], b: float, b_ci: tuple[float | None, float | None]
) -> tuple[float, float]:
    """Interval of ``a - b`` for two *independent* estimates from their own intervals (MOVER, Zou & Donner 2008).

    Used where no paired resample exists: the promotion-time recall (yesterday's test rows) against today's
    recall (today's partition). A missing interval counts as a point known exactly.

    Examples
    --------
    >>> low, high = difference_ci(0.8, (0.7, 0.9), 0.5, (0.4, 0.6))
    >>> round(low, 4), round(high, 4)
    (0.1586, 0.4414)
    """
    a_low, a_high = (a if v is None else v for v in a_ci)
    b_low, b_high = (b if v is None else v for v in b_ci)
    d = a - b
    return (
        float(d - np.hypot(a - a_low, b_high - b)),
        float(d + np.hypot(a_high - a, b - b_low)),
    )
