"""Calibration: method resolution, Brier improvement on an undersampled model, prior correction, JSON round trip."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from imbalance_jobs.errors import DataValidationError, ModelArtifactError
from imbalance_jobs.evaluation import Calibrator, calibration_report, fit_calibrator, resolve_calibration_method


def _brier(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean((p - y) ** 2))


@pytest.mark.parametrize(
    ("method", "imbalance", "binary", "expected"),
    [
        ("auto", "none", True, "none"),
        ("auto", "random_under", True, "prior_correction"),
        ("auto", "smote", True, "sigmoid"),
        ("auto", "class_weight", True, "sigmoid"),
        ("auto", "smote", False, "none"),
        ("isotonic", "smote", True, "isotonic"),
        ("isotonic", "smote", False, "none"),
        ("prior_correction", "random_under", True, "prior_correction"),
        ("prior_correction", "smote", True, "sigmoid"),
        ("prior_correction", "none", True, "none"),
    ],
)
def test_resolve_calibration_method_table(method, imbalance, binary, expected) -> None:
    assert resolve_calibration_method(method, imbalance, binary=binary) == expected


def test_resolve_calibration_method_rejects_unknown_method() -> None:
    with pytest.raises(ValueError, match=r"'auto' or one of \['none', 'sigmoid'.*got 'platt'"):
        resolve_calibration_method("platt", "none", binary=True)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "prior_correction"])
def test_fit_calibrator_reduces_brier_of_undersampled_model(undersampled, method) -> None:
    calibrator = fit_calibrator(method, undersampled.y_val, undersampled.scores_val, beta=undersampled.beta)
    report = calibration_report(calibrator, undersampled.y_val, undersampled.scores_val)
    assert report.brier_after < report.brier_before
    test_before = _brier(undersampled.y_test, undersampled.scores_test)
    assert _brier(undersampled.y_test, calibrator.apply(undersampled.scores_test)) < test_before  # out of sample


def test_prior_correction_restores_the_base_rate(undersampled) -> None:
    calibrator = fit_calibrator("prior_correction", undersampled.y_val, undersampled.scores_val, beta=undersampled.beta)
    prevalence = undersampled.y_test.mean()
    assert undersampled.scores_test.mean() > 3 * prevalence  # the undersampled model overstates risk
    assert calibrator.apply(undersampled.scores_test).mean() == pytest.approx(prevalence, rel=0.35)


def test_prior_correction_keeps_the_ranking(undersampled) -> None:
    calibrator = fit_calibrator("prior_correction", undersampled.y_val, undersampled.scores_val, beta=0.1)
    calibrated = calibrator.apply(undersampled.scores_test)
    assert np.all(np.diff(calibrated[np.argsort(undersampled.scores_test)]) >= 0)
    assert average_precision_score(undersampled.y_test, calibrated) == pytest.approx(
        average_precision_score(undersampled.y_test, undersampled.scores_test)
    )


def test_sigmoid_on_calibrated_scores_is_near_identity(rng) -> None:
    p = rng.uniform(0.01, 0.99, 5000)
    y = (rng.random(p.size) < p).astype(np.int64)
    calibrator = fit_calibrator("sigmoid", y, p)
    assert calibrator.coef == pytest.approx(1.0, abs=0.15)
    assert calibrator.intercept == pytest.approx(0.0, abs=0.15)


def test_sigmoid_stays_finite_on_separable_scores() -> None:
    calibrator = fit_calibrator("sigmoid", [0, 0, 1, 1], [0.0, 0.1, 0.9, 1.0])
    assert np.isfinite([calibrator.coef, calibrator.intercept]).all()
    assert np.all(np.diff(calibrator.apply(np.array([0.0, 0.1, 0.9, 1.0]))) > 0)


@pytest.mark.parametrize("method", ["none", "sigmoid", "isotonic", "prior_correction"])
def test_calibrator_round_trips_through_plain_json(undersampled, method) -> None:
    calibrator = fit_calibrator(method, undersampled.y_val, undersampled.scores_val, beta=undersampled.beta)
    restored = Calibrator.from_dict(json.loads(json.dumps(calibrator.to_dict())))
    assert restored == calibrator
    assert np.array_equal(restored.apply(undersampled.scores_test), calibrator.apply(undersampled.scores_test))


def test_isotonic_apply_clips_beyond_fitted_range() -> None:
    calibrator = fit_calibrator("isotonic", [0, 0, 1, 1], [0.2, 0.3, 0.6, 0.7])
    assert calibrator.apply(np.array([0.0, 1.0])).tolist() == [0.0, 1.0]


@pytest.mark.parametrize(
    ("stored", "problem"),
    [
        ({"method": "sigmoid", "coef": 1.0}, r"takes parameters \['coef', 'intercept'\]; got \['coef'\]"),
        ({"method": "platt"}, "method"),
        ({"method": "prior_correction", "beta": -1.0}, "beta must be > 0"),
        ({"method": "isotonic", "knots_x": [0.1, 0.2], "knots_y": [0.5]}, "equal-length"),
        ({"method": "sigmoid", "coef": float("nan"), "intercept": 0.0}, "finite"),
    ],
)
def test_calibrator_from_dict_rejects_bad_parameters(stored, problem) -> None:
    with pytest.raises(ModelArtifactError, match=problem):
        Calibrator.from_dict(stored)


def test_fit_calibrator_needs_both_classes_for_learned_methods() -> None:
    with pytest.raises(DataValidationError, match="fitting a isotonic calibrator needs both classes"):
        fit_calibrator("isotonic", [0, 0, 0], [0.1, 0.2, 0.3])


def test_fit_calibrator_prior_correction_needs_beta() -> None:
    with pytest.raises(ValueError, match="prior_correction needs beta > 0"):
        fit_calibrator("prior_correction", [0, 1], [0.1, 0.9])


def test_fit_calibrator_refuses_unresolved_auto() -> None:
    with pytest.raises(ValueError, match="resolve 'auto' first"):
        fit_calibrator("auto", [0, 1], [0.1, 0.9])


def test_fit_calibrator_none_ignores_labels() -> None:
    calibrator = fit_calibrator("none", [0, 2, 1], [0.0, 0.0, 0.0])  # multi-class codes: labels are not read
    assert calibrator.apply(np.array([0.2, 0.7])).tolist() == [0.2, 0.7]


def test_calibrator_report_method_matches_function(undersampled) -> None:
    calibrator = fit_calibrator("sigmoid", undersampled.y_val, undersampled.scores_val)
    assert calibrator.report(undersampled.y_val, undersampled.scores_val) == calibration_report(
        calibrator, undersampled.y_val, undersampled.scores_val
    )
