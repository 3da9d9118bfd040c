"""Sample weights: a weighted figure equals the figure on rows repeated by their weights; no weights = old path.

These are what make figures on a negative sample (every positive, a share beta of the negatives, each kept
negative weighted 1 / beta) estimate the unsampled population.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from imbalance_jobs.config import ThresholdConfig
from imbalance_jobs.evaluation import (
    Calibrator,
    average_precision,
    binary_metrics,
    bootstrap_ci,
    calibration_report,
    choose_threshold,
    fit_calibrator,
    paired_bootstrap,
    plot_calibration,
    plot_pr_curves,
    precision_at_recall,
    recall_at_precision,
    reliability_curve,
    roc_auc,
)
from imbalance_jobs.negative_sampling import population_weights, prior_corrected

RUN = {"n_resamples": 200, "confidence": 0.95, "seed": 5}


def _weighted_case(rng: np.random.Generator, n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, tied probability scores and small integer weights (so repeating rows is exact)."""
    y = (rng.random(n) < 0.15).astype(np.int64)
    s = np.clip(np.round(rng.normal(0.3 + 0.3 * y, 0.2), 2), 0.0, 1.0)
    w = rng.integers(1, 5, n).astype(np.float64)
    return y, s, w


def _repeat(w: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    index = np.repeat(np.arange(w.size), w.astype(np.int64))
    return [a[index] for a in arrays]


def test_binary_metrics_weighted_equal_repeated_rows(rng) -> None:
    y, s, w = _weighted_case(rng)
    ry, rs = _repeat(w, y, s)
    targets = {"recall_targets": [0.3, 0.8], "precision_targets": [0.4]}
    weighted = binary_metrics(y, s, threshold=0.45, sample_weight=w, **targets).to_json_dict()
    repeated = binary_metrics(ry, rs, threshold=0.45, **targets).to_json_dict()
    for key in ("average_precision", "roc_auc", "brier", "log_loss", "precision", "recall", "f1"):
        assert weighted[key] == pytest.approx(repeated[key], rel=1e-10), key
    assert weighted["confusion"] == pytest.approx(repeated["confusion"], rel=1e-10)
    assert weighted["precision_at_recall"] == pytest.approx(repeated["precision_at_recall"], rel=1e-10)
    assert weighted["recall_at_precision"] == pytest.approx(repeated["recall_at_precision"], rel=1e-10)
    assert (weighted["positives"], weighted["negatives"]) == (int(y.sum()), int(y.size - y.sum()))
    assert any("weighted figures" in note for note in weighted["notes"])


def test_binary_metrics_without_weights_is_the_unweighted_path(rng) -> None:
    y, s, _ = _weighted_case(rng)
    plain = binary_metrics(y, s, threshold=0.45, recall_targets=[0.5])
    assert binary_metrics(y, s, threshold=0.45, recall_targets=[0.5], sample_weight=None) == plain
    ones = binary_metrics(y, s, threshold=0.45, recall_targets=[0.5], sample_weight=np.ones(y.size))
    assert ones.average_precision == pytest.approx(plain.average_precision, rel=1e-12)
    assert ones.brier == pytest.approx(plain.brier, rel=1e-12)
    assert isinstance(plain.confusion.tp, int)
    assert not plain.notes


def test_point_metrics_weighted_match_scikit_learn(rng) -> None:
    y, s, w = _weighted_case(rng)
    assert average_precision(y, s, sample_weight=w) == pytest.approx(
        skm.average_precision_score(y, s, sample_weight=w), rel=1e-10
    )
    assert roc_auc(y, s, sample_weight=w) == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w), rel=1e-10)
    ry, rs = _repeat(w, y, s)
    assert precision_at_recall(y, s, 0.6, sample_weight=w) == pytest.approx(precision_at_recall(ry, rs, 0.6))
    assert recall_at_precision(y, s, 0.5, sample_weight=w) == pytest.approx(recall_at_precision(ry, rs, 0.5))


@pytest.mark.parametrize(
    "config",
    [
        ThresholdConfig(objective="max_f1"),
        ThresholdConfig(objective="max_recall_at_precision", min_precision=0.5),
        ThresholdConfig(objective="max_precision_at_recall", min_recall=0.7),
        ThresholdConfig(objective="min_cost", fp_cost=1.0, fn_cost=8.0),
    ],
    ids=lambda c: c.objective,
)
def test_choose_threshold_weighted_equals_repeated_rows(rng, config) -> None:
    y, s, w = _weighted_case(rng)
    ry, rs = _repeat(w, y, s)
    weighted = choose_threshold(y, s, config, sample_weight=w)
    repeated = choose_threshold(ry, rs, config)
    assert weighted.threshold == repeated.threshold
    assert weighted.precision == pytest.approx(repeated.precision, rel=1e-10)
    assert weighted.expected_cost == pytest.approx(repeated.expected_cost, rel=1e-10)


def test_precision_floor_is_met_on_the_population_not_the_sample(rng) -> None:
    """A cut tuned on a negative sample without weights overstates precision by about 1 / beta."""
    n, beta = 40_000, 0.1
    y = (rng.random(n) < 0.02).astype(np.int64)
    s = 1 / (1 + np.exp(-rng.normal(-3 + 2.5 * y, 1.0)))
    kept = (y == 1) | (rng.random(n) < beta)
    config = ThresholdConfig(objective="max_recall_at_precision", min_precision=0.3)
    naive = choose_threshold(y[kept], s[kept], config)
    weighted = choose_threshold(y[kept], s[kept], config, sample_weight=population_weights(y[kept] == 1, beta))
    truth = binary_metrics(y, s, threshold=weighted.threshold)
    assert naive.threshold < weighted.threshold
    assert binary_metrics(y, s, threshold=naive.threshold).precision < 0.3 - 0.05
    assert truth.precision == pytest.approx(weighted.precision, abs=0.06)


@pytest.mark.parametrize("metric", ["average_precision", "roc_auc", "recall", "precision", "brier"])
def test_bootstrap_weighted_point_equals_repeated_rows_and_lies_in_its_interval(rng, metric) -> None:
    y, s, w = _weighted_case(rng)
    ry, rs = _repeat(w, y, s)
    threshold = 0.45 if metric in ("recall", "precision") else None
    weighted = bootstrap_ci(y, s, metric=metric, threshold=threshold, sample_weight=w, **RUN)
    repeated = bootstrap_ci(ry, rs, metric=metric, threshold=threshold, **RUN)
    assert weighted.point == pytest.approx(repeated.point, rel=1e-10)
    assert weighted.low <= weighted.point <= weighted.high


def test_bootstrap_without_weights_is_the_unweighted_path(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=1.5)
    assert bootstrap_ci(y, s, metric="average_precision", sample_weight=None, **RUN) == bootstrap_ci(
        y, s, metric="average_precision", **RUN
    )
    ones = bootstrap_ci(y, s, metric="average_precision", sample_weight=np.ones(y.size), **RUN)
    plain = bootstrap_ci(y, s, metric="average_precision", **RUN)
    assert (ones.point, ones.low, ones.high) == pytest.approx((plain.point, plain.low, plain.high), rel=1e-12)


def test_paired_bootstrap_weighted_points_equal_repeated_rows(rng) -> None:
    y, a, w = _weighted_case(rng)
    b = np.clip(a + rng.normal(0, 0.05, a.size), 0, 1)
    ry, ra, rb = _repeat(w, y, a, b)
    weighted = paired_bootstrap(y, a, b, sample_weight=w, **RUN)
    repeated = paired_bootstrap(ry, ra, rb, **RUN)
    assert weighted.delta == pytest.approx(repeated.delta, rel=1e-9, abs=1e-12)
    assert weighted.ci_low <= weighted.delta <= weighted.ci_high
    same = paired_bootstrap(y, a, a, sample_weight=w, **RUN)
    assert same.delta == 0.0
    assert same.ci_low == same.ci_high == 0.0


def test_calibration_report_and_reliability_weighted_equal_repeated_rows(rng) -> None:
    y, s, w = _weighted_case(rng)
    ry, rs = _repeat(w, y, s)
    calibrator = fit_calibrator("sigmoid", y, s)
    weighted = calibration_report(calibrator, y, s, sample_weight=w)
    repeated = calibration_report(calibrator, ry, rs)
    assert weighted.brier_after == pytest.approx(repeated.brier_after, rel=1e-10)
    assert weighted.log_loss_before == pytest.approx(repeated.log_loss_before, rel=1e-10)
    curve, plain = reliability_curve(y, s, n_bins=5, sample_weight=w), reliability_curve(ry, rs, n_bins=5)
    assert curve.mean_predicted == pytest.approx(plain.mean_predicted, rel=1e-10)
    assert curve.observed_rate == pytest.approx(plain.observed_rate, rel=1e-10)
    assert curve.weight == pytest.approx(plain.weight)


def test_weighted_plots_are_png(rng) -> None:
    y, s, w = _weighted_case(rng)
    assert plot_pr_curves({"m": (y, s)}, sample_weight=w)[:4] == b"\x89PNG"
    assert plot_calibration({"m": (y, s)}, sample_weight=w)[:4] == b"\x89PNG"


def test_sample_weight_must_match_the_rows(rng) -> None:
    y, s, w = _weighted_case(rng)
    with pytest.raises(ValueError, match="sample_weight must be a 1-D array of 300 values"):
        binary_metrics(y, s, threshold=0.5, sample_weight=w[:-1])
    with pytest.raises(ValueError, match="finite values >= 0"):
        average_precision(y, s, sample_weight=-w)


# -- calibrators that undo negative sampling ------------------------------------------------------------------
@pytest.mark.parametrize("method", ["none", "sigmoid", "isotonic"])
def test_calibrator_with_sample_beta_round_trips_and_composes_prior_correction(rng, method) -> None:
    y, s, _ = _weighted_case(rng)
    plain = fit_calibrator(method, y, s)
    sampled = fit_calibrator(method, y, s, sample_beta=0.2)
    stored = sampled.to_dict()
    assert stored["sample_beta"] == 0.2
    assert "sample_beta" not in plain.to_dict()
    again = Calibrator.from_dict(stored)
    assert again == sampled
    np.testing.assert_array_equal(again.apply(s), sampled.apply(s))
    np.testing.assert_allclose(sampled.apply(s), prior_corrected(plain.apply(s), 0.2), rtol=1e-12)


def test_prior_correction_and_sample_beta_multiply(rng) -> None:
    _, s, _ = _weighted_case(rng)
    both = fit_calibrator("prior_correction", None, s, beta=0.5, sample_beta=0.1)
    single = fit_calibrator("prior_correction", None, s, beta=0.05)
    np.testing.assert_allclose(both.apply(s), single.apply(s), rtol=1e-12)


def test_calibrator_json_without_sample_beta_still_loads() -> None:
    old = {"method": "sigmoid", "coef": 1.2, "intercept": -0.3}
    calibrator = Calibrator.from_dict(old)
    assert calibrator.sample_beta is None
    assert calibrator.to_dict() == old


@pytest.mark.parametrize("beta", [0.0, 1.0, 1.5])
def test_calibrator_refuses_sample_beta_outside_the_open_unit_interval(beta) -> None:
    with pytest.raises(Exception, match="sample_beta must be in"):
        Calibrator.from_dict({"method": "none", "sample_beta": beta})


def test_sigmoid_on_a_negative_sample_with_sample_beta_estimates_population_probabilities(rng) -> None:
    """Fit on the sample, corrected by beta: Brier and mean probability on the population as if fit on it."""
    n, beta = 60_000, 0.1
    y = (rng.random(n) < 0.03).astype(np.int64)
    raw = 1 / (1 + np.exp(-rng.normal(-1 + 2.0 * y, 1.0)))  # ranks well, probabilities far too high
    fit, test = np.arange(n) < n // 2, np.arange(n) >= n // 2
    kept = fit & ((y == 1) | (rng.random(n) < beta))
    sampled = fit_calibrator("sigmoid", y[kept], raw[kept], sample_beta=beta)
    full = fit_calibrator("sigmoid", y[fit], raw[fit])
    naive = fit_calibrator("sigmoid", y[kept], raw[kept])
    brier = {
        name: skm.brier_score_loss(y[test], c.apply(raw[test]))
        for name, c in {"sampled": sampled, "full": full, "naive": naive}.items()
    }
    assert brier["sampled"] == pytest.approx(brier["full"], rel=0.03)
    assert brier["naive"] > 1.5 * brier["full"]
    assert sampled.apply(raw[test]).mean() == pytest.approx(y[test].mean(), rel=0.1)


@pytest.mark.parametrize("weighted", [False, True])
def test_bootstrap_cis_equal_separate_calls(weighted) -> None:
    from imbalance_jobs.evaluation import bootstrap_ci, bootstrap_cis

    rng = np.random.default_rng(5)
    y = (rng.random(3000) < 0.05).astype(int)
    ranking = y * 0.3 + rng.random(3000)
    proba = np.clip(ranking / 1.3, 0, 1)
    weights = np.where(y == 1, 1.0, 10.0) if weighted else None
    requests = [("average_precision", ranking, None), ("recall", proba, 0.5), ("precision", proba, 0.5),
                ("brier", proba, None)]  # fmt: skip
    common = {"n_resamples": 120, "confidence": 0.9, "seed": 3, "sample_weight": weights}
    together = bootstrap_cis(y, requests, **common)
    apart = [bootstrap_ci(y, s, metric=m, threshold=t, **common) for m, s, t in requests]
    assert together == apart


def test_bootstrap_cis_on_one_class_say_so() -> None:
    from imbalance_jobs.evaluation import bootstrap_cis

    (ci,) = bootstrap_cis(np.zeros(50, dtype=int), [("recall", np.random.default_rng(0).random(50), 0.5)],
                          n_resamples=20, confidence=0.9, seed=0)  # fmt: skip
    assert ci.point is None
    assert "one class" in ci.note
