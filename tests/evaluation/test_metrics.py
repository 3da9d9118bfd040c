"""Point metrics: brute-force checks of the target tables, agreement with scikit-learn, degenerate inputs."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from imbalance_jobs.evaluation import (
    BinaryMetrics,
    MulticlassMetrics,
    average_precision,
    binary_metrics,
    multiclass_metrics,
    precision_at_recall,
    recall_at_precision,
    roc_auc,
)


def _brute_points(y: np.ndarray, s: np.ndarray) -> list[tuple[float, float]]:
    """(precision, recall) at every distinct threshold, predicting positive when score >= threshold."""
    if not y.sum():
        return []  # recall is undefined: no point qualifies
    points = []
    for t in np.unique(s):
        pred = s >= t
        tp, fp = np.sum(pred & (y == 1)), np.sum(pred & (y == 0))
        points.append((tp / (tp + fp), tp / y.sum()))
    return points


def _random_curves(rng: np.random.Generator, count: int):
    for _ in range(count):
        n = int(rng.integers(1, 40))
        y = (rng.random(n) < rng.random()).astype(np.int64)
        s = rng.integers(0, int(rng.integers(1, 12)), n) / 10.0  # few distinct values: many ties
        positives = max(int(y.sum()), 1)
        targets = [0.0, 1.0, *rng.random(3), *(k / positives for k in range(positives + 1))]
        yield y, s, targets


def test_precision_at_recall_matches_brute_force(rng) -> None:
    checked = 0
    for y, s, targets in _random_curves(rng, 250):
        points = _brute_points(y, s)
        for target in targets:
            target = min(float(target), 1.0)
            expected = max((p for p, r in points if r >= target), default=0.0)
            assert precision_at_recall(y, s, target) == expected
            checked += 1
    assert checked > 1500


def test_recall_at_precision_matches_brute_force(rng) -> None:
    for y, s, targets in _random_curves(rng, 250):
        points = _brute_points(y, s)
        for target in [*targets, *(p for p, _ in points)]:  # exact precision values hit the >= boundary
            target = min(float(target), 1.0)
            expected = max((r for p, r in points if p >= target), default=0.0)
            assert recall_at_precision(y, s, target) == expected


def test_precision_at_recall_is_zero_without_positives() -> None:
    assert precision_at_recall([0, 0, 0], [0.1, 0.5, 0.9], 0.0) == 0.0
    assert recall_at_precision([0, 0, 0], [0.1, 0.5, 0.9], 0.0) == 0.0


def test_precision_at_recall_rejects_target_outside_unit_interval() -> None:
    with pytest.raises(ValueError, match=r"recall target must be in \[0, 1\]; got 1.5"):
        precision_at_recall([0, 1], [0.2, 0.8], 1.5)


def test_average_precision_and_roc_auc_match_sklearn_with_ties(rng) -> None:
    for y, s, _ in _random_curves(rng, 100):
        if 0 < y.sum() < y.size:
            assert average_precision(y, s) == pytest.approx(skm.average_precision_score(y, s), rel=1e-12)
            assert roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)


def test_binary_metrics_agrees_with_sklearn(make_scores) -> None:
    y, s = make_scores(800, prevalence=0.1, separation=2.0)
    m = binary_metrics(y, s, threshold=0.3)
    pred = (s >= 0.3).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(y, pred).ravel()
    assert (m.confusion.tn, m.confusion.fp, m.confusion.fn, m.confusion.tp) == (tn, fp, fn, tp)
    assert m.average_precision == pytest.approx(skm.average_precision_score(y, s))
    assert m.roc_auc == pytest.approx(skm.roc_auc_score(y, s))
    assert m.brier == pytest.approx(skm.brier_score_loss(y, s))
    assert m.log_loss == pytest.approx(skm.log_loss(y, s))
    assert m.precision == pytest.approx(skm.precision_score(y, pred))
    assert m.recall == pytest.approx(skm.recall_score(y, pred))
    assert m.f1 == pytest.approx(skm.f1_score(y, pred))
    assert (m.positives, m.negatives) == (y.sum(), y.size - y.sum())


def test_binary_metrics_target_tables_use_brute_force_definition(make_scores) -> None:
    y, s = make_scores(300, prevalence=0.15, separation=1.5)
    m = binary_metrics(y, s, threshold=0.5, recall_targets=[0.5, 0.8], precision_targets=[0.6])
    assert m.precision_at_recall == {"0.5": precision_at_recall(y, s, 0.5), "0.8": precision_at_recall(y, s, 0.8)}
    assert m.recall_at_precision == {"0.6": recall_at_precision(y, s, 0.6)}


def test_binary_metrics_one_class_gives_none_with_note() -> None:
    m = binary_metrics([0, 0, 0, 0], [0.1, 0.2, 0.7, 0.9], threshold=0.5, recall_targets=[0.5])
    assert (m.average_precision, m.roc_auc, m.recall, m.f1) == (None, None, None, None)
    assert m.precision == 0.0
    assert m.precision_at_recall == {"0.5": None}
    assert "one class" in m.notes[0]


def test_binary_metrics_rejects_scores_outside_probabilities() -> None:
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        binary_metrics([0, 1], [-0.5, 2.0], threshold=0.5)


def test_binary_metrics_rejects_non_binary_labels() -> None:
    with pytest.raises(ValueError, match="binary codes 0/1"):
        binary_metrics([0, 2], [0.1, 0.9], threshold=0.5)


def test_binary_metrics_round_trips_through_json(make_scores) -> None:
    y, s = make_scores(200, prevalence=0.2, separation=2.0)
    m = binary_metrics(y, s, threshold=0.4, recall_targets=[0.5], precision_targets=[0.5])
    assert BinaryMetrics.model_validate(m.to_json_dict()) == m


def _multiclass(rng: np.random.Generator, n: int = 900) -> tuple[np.ndarray, np.ndarray]:
    y = rng.choice(3, size=n, p=[0.8, 0.15, 0.05])
    logits = rng.normal(size=(n, 3)) + 2.0 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_multiclass_metrics_agrees_with_sklearn(rng) -> None:
    y, proba = _multiclass(rng)
    m = multiclass_metrics(y, proba, class_names=["ok", "warn", "fail"], watched=2)
    pred = proba.argmax(axis=1)
    precision, recall, f1, support = skm.precision_recall_fscore_support(y, pred, labels=[0, 1, 2], zero_division=0)
    assert [c.precision for c in m.per_class] == pytest.approx(precision)
    assert [c.recall for c in m.per_class] == pytest.approx(recall)
    assert [c.f1 for c in m.per_class] == pytest.approx(f1)
    assert [c.support for c in m.per_class] == support.tolist()
    assert m.macro_f1 == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert m.confusion == skm.confusion_matrix(y, pred, labels=[0, 1, 2]).tolist()
    assert m.log_loss == pytest.approx(skm.log_loss(y, proba, labels=[0, 1, 2]))
    aps = [skm.average_precision_score(y == k, proba[:, k]) for k in range(3)]
    assert [c.average_precision for c in m.per_class] == pytest.approx(aps)
    assert m.macro_average_precision == pytest.approx(np.mean(aps))


def test_multiclass_metrics_watched_recall_is_that_class_recall(rng) -> None:
    y, proba = _multiclass(rng)
    m = multiclass_metrics(y, proba, class_names=["ok", "warn", "fail"], watched=2)
    assert m.watched_name == "fail"
    assert m.watched_recall == pytest.approx(np.mean(proba[y == 2].argmax(axis=1) == 2))


def test_multiclass_metrics_absent_class_has_no_average_precision(rng) -> None:
    y, proba = _multiclass(rng)
    keep = y != 1
    m = multiclass_metrics(y[keep], proba[keep], class_names=["ok", "warn", "fail"], watched=2)
    assert m.per_class[1].average_precision is None
    assert m.per_class[1].recall is None
    assert "['warn']" in m.notes[0]
    assert MulticlassMetrics.model_validate(m.to_json_dict()) == m


def test_multiclass_metrics_rejects_wrong_shape(rng) -> None:
    y, proba = _multiclass(rng, 30)
    with pytest.raises(ValueError, match=r"proba must be an \(n, 2\) array"):
        multiclass_metrics(y, proba, class_names=["a", "b"], watched=1)
