"""The selection rule on hand-made fold scores (pure, no storage): paired gaps, one standard error, preference."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.errors import CandidateError
from imbalance_jobs.model_choice import choose
from imbalance_jobs.selection import _choose
from imbalance_jobs.training import CandidateResult
from tests.conftest import BASE_CONFIG


def cand(name: str, scores: list[float], model: str = "hist_gradient_boosting", imbalance: str = "none"):
    return SimpleNamespace(name=name, model=model, imbalance=imbalance, cv_scores=scores)


def test_choose_best_mean_takes_the_highest_mean_first_in_order_on_ties() -> None:
    a, b, c = cand("a", [0.4, 0.4]), cand("b", [0.6, 0.6]), cand("c", [0.6, 0.6])
    assert choose([a, b, c], rule="best_mean").name == "b"


def test_choose_one_se_prefers_fewer_moving_parts_within_noise() -> None:
    weighted = cand("hgb_balanced", [0.72, 0.76, 0.73], imbalance="class_weight")
    plain = cand("hgb", [0.70, 0.77, 0.73])  # paired gap -0.0033, SE 0.0088: within one SE
    choice = choose([weighted, plain])
    assert (choice.name, choice.best) == ("hgb", "hgb_balanced")
    gap, se, within = choice.gaps["hgb"]
    assert gap == pytest.approx(-0.01 / 3)
    assert se == pytest.approx(0.0088, abs=1e-4)
    assert within
    assert "within one standard error of the best CV mean (hgb_balanced" in choice.reason


def test_choose_one_se_keeps_the_best_when_the_gap_is_beyond_noise() -> None:
    resampled = cand("rf_smote", [0.80, 0.82, 0.81], model="random_forest", imbalance="smote")
    plain = cand("hgb", [0.70, 0.71, 0.72])
    choice = choose([plain, resampled])
    assert choice.name == "rf_smote"
    assert choice.gaps["hgb"][2] is False
    assert choice.reason.startswith("highest CV mean")


def test_choose_one_se_breaks_equal_parts_by_model_cost_then_config_order() -> None:
    forest = cand("rf", [0.70, 0.72, 0.71], model="random_forest")
    logreg = cand("lr", [0.69, 0.72, 0.71], model="logistic_regression")
    hgb = cand("hgb", [0.69, 0.72, 0.71])
    assert choose([forest, hgb, logreg]).name == "lr"
    twin = cand("lr2", [0.69, 0.72, 0.71], model="logistic_regression")
    assert choose([forest, twin, logreg]).name == "lr2"


def _result(name: str, cv_mean: float | None, status: str = "ok", error: str | None = None) -> CandidateResult:
    scores = [cv_mean, cv_mean] if cv_mean is not None else []
    return CandidateResult(
        name=name, model="m", imbalance="none", status=status, error=error, cv_mean=cv_mean, cv_scores=scores
    )


def test_select_choose_skips_failed_candidates() -> None:
    config = PipelineConfig.model_validate(BASE_CONFIG)
    results = [_result("a", None, "failed", "candidate 'a': boom"), _result("b", 0.1)]
    assert _choose(results, config).name == "b"


def test_select_choose_all_failed_lists_every_error() -> None:
    config = PipelineConfig.model_validate(BASE_CONFIG)
    results = [_result("a", None, "failed", "boom a"), _result("b", None, "failed", "boom b")]
    with pytest.raises(
        CandidateError, match=r"no candidate trained successfully \(2 tried\):\n  - a: boom a\n  - b: boom b"
    ):
        _choose(results, config)
