"""Bootstrap intervals: pairing (same rows for both models), exactness of the weighted metrics, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from imbalance_jobs.evaluation import PairedBootstrap, bootstrap_ci, paired_bootstrap
from imbalance_jobs.evaluation._bootstrap import _ap, _prepare, _roc_auc

RUN = {"n_resamples": 300, "confidence": 0.95, "seed": 11}


def test_weighted_metrics_equal_the_materialised_resample(rng) -> None:
    for _ in range(100):
        n = int(rng.integers(2, 60))
        y = (rng.random(n) < rng.random()).astype(np.int64)
        s = rng.integers(0, int(rng.integers(1, 8)), n) / 4.0  # ties
        rows = rng.integers(0, n, n)
        if not 0 < y[rows].sum() < n:
            continue
        counts = np.bincount(rows, minlength=n)[None, :]
        scored = _prepare(y, s, None)
        assert _ap(counts, scored)[0] == pytest.approx(skm.average_precision_score(y[rows], s[rows]), rel=1e-12)
        assert _roc_auc(counts, scored)[0] == pytest.approx(skm.roc_auc_score(y[rows], s[rows]), rel=1e-12)


def test_paired_bootstrap_identical_models_have_exactly_zero_delta(make_scores) -> None:
    y, s = make_scores(500, prevalence=0.08, separation=1.5)
    result = paired_bootstrap(y, s, s.copy(), **RUN)
    assert (result.delta, result.ci_low, result.ci_high) == (0.0, 0.0, 0.0)


def test_paired_bootstrap_resamples_the_same_rows_for_both_models(make_scores) -> None:
    # A monotone transform keeps every ranking, so AP is equal on any resample drawn for both models alike.
    y, s = make_scores(500, prevalence=0.08, separation=1.5)
    result = paired_bootstrap(y, s, s**3, **RUN)
    assert result.ci_low == pytest.approx(0.0, abs=1e-12)
    assert result.ci_high == pytest.approx(0.0, abs=1e-12)
    assert result.a_ci.high - result.a_ci.low > 0.05  # each model's own AP does vary across resamples


def test_paired_bootstrap_clearly_better_model_has_interval_above_zero(rng) -> None:
    y = (rng.random(2000) < 0.05).astype(np.int64)
    weak = rng.normal(0.3 * y, 1.0)
    strong = rng.normal(2.5 * y, 1.0)
    result = paired_bootstrap(y, weak, strong, **RUN)
    assert result.ci_low > 0
    assert result.ci_low <= result.delta <= result.ci_high
    assert result.delta == pytest.approx(result.point_b - result.point_a)


def test_paired_bootstrap_same_seed_gives_same_result(make_scores) -> None:
    y, a = make_scores(400, prevalence=0.1, separation=1.0)
    b = a + np.random.default_rng(3).normal(0, 0.1, a.size)
    first, again = paired_bootstrap(y, a, b, **RUN), paired_bootstrap(y, a, b, **RUN)
    other = paired_bootstrap(y, a, b, **{**RUN, "seed": 12})
    assert first == again
    assert (other.ci_low, other.ci_high) != (first.ci_low, first.ci_high)


def test_paired_bootstrap_model_intervals_equal_single_model_intervals(make_scores) -> None:
    y, a = make_scores(400, prevalence=0.1, separation=1.0)
    b = a + np.random.default_rng(4).normal(0, 0.1, a.size)
    paired = paired_bootstrap(y, a, b, **RUN)
    alone = bootstrap_ci(y, b, metric="average_precision", **RUN)
    assert (paired.b_ci.low, paired.b_ci.high) == (alone.low, alone.high)


def test_paired_bootstrap_recall_at_each_models_threshold(make_scores) -> None:
    y, a = make_scores(600, prevalence=0.1, separation=2.0)
    result = paired_bootstrap(y, a, a, metric="recall_at_threshold", threshold_a=0.5, threshold_b=0.2, **RUN)
    assert result.metric == "recall"
    assert result.point_a == pytest.approx(skm.recall_score(y, a >= 0.5))
    assert result.point_b == pytest.approx(skm.recall_score(y, a >= 0.2))
    assert result.ci_low >= 0  # a lower threshold never loses recall, on any resample


def test_paired_bootstrap_round_trips_through_json(make_scores) -> None:
    y, a = make_scores(300, prevalence=0.1, separation=1.0)
    result = paired_bootstrap(y, a, a**2, **RUN)
    assert PairedBootstrap.model_validate(result.to_json_dict()) == result


@pytest.mark.parametrize("metric", ["recall", "precision"])
def test_bootstrap_ci_threshold_metric_interval_contains_point(make_scores, metric) -> None:
    y, s = make_scores(800, prevalence=0.1, separation=2.0)
    ci = bootstrap_ci(y, s, metric=metric, threshold=0.3, **RUN)
    expected = {"recall": skm.recall_score, "precision": skm.precision_score}[metric](y, s >= 0.3)
    assert ci.point == pytest.approx(expected)
    assert ci.low <= ci.point <= ci.high
    assert ci.n_valid == RUN["n_resamples"]


def test_bootstrap_ci_threshold_metric_requires_threshold(make_scores) -> None:
    y, s = make_scores(100, prevalence=0.2, separation=1.0)
    with pytest.raises(ValueError, match="'recall' is measured at an operating threshold"):
        bootstrap_ci(y, s, metric="recall", **RUN)


def test_bootstrap_ci_unknown_metric_lists_choices(make_scores) -> None:
    y, s = make_scores(100, prevalence=0.2, separation=1.0)
    with pytest.raises(ValueError, match=r"metric must be one of \['average_precision', 'roc_auc'.*got 'f2'"):
        bootstrap_ci(y, s, metric="f2", **RUN)


def test_bootstrap_ci_skips_resamples_with_one_class() -> None:
    y = np.array([1] + [0] * 9)
    ci = bootstrap_ci(y, np.linspace(1, 0, 10), metric="average_precision", **RUN)
    assert 0 < ci.n_valid < ci.n_resamples  # a resample misses the only positive with probability 0.9**10
    assert ci.low == ci.high == ci.point == 1.0
    assert "resamples drew a single class and were skipped" in ci.note


def test_bootstrap_ci_one_class_is_undefined_with_note() -> None:
    ci = bootstrap_ci([0, 0, 0], [0.1, 0.2, 0.3], metric="average_precision", **RUN)
    assert (ci.point, ci.low, ci.high, ci.n_valid) == (None, None, None, 0)
    assert "one class" in ci.note


def test_bootstrap_ci_rejects_bad_confidence(make_scores) -> None:
    y, s = make_scores(100, prevalence=0.2, separation=1.0)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\); got 95"):
        bootstrap_ci(y, s, metric="average_precision", n_resamples=100, confidence=95, seed=0)
