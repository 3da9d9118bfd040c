"""Operating-threshold objectives, checked against a scan of every distinct threshold on small constructed data."""

from __future__ import annotations

import numpy as np
import pytest

from imbalance_jobs.config import ThresholdConfig
from imbalance_jobs.errors import DataValidationError
from imbalance_jobs.evaluation import choose_threshold


def _scan(y: np.ndarray, s: np.ndarray, fp_cost: float = 1.0, fn_cost: float = 1.0) -> list[dict]:
    rows = []
    for t in np.unique(s):
        pred = s >= t
        tp, fp, fn = np.sum(pred & (y == 1)), np.sum(pred & (y == 0)), np.sum(~pred & (y == 1))
        rows.append(
            {
                "t": t,
                "p": tp / (tp + fp),
                "r": tp / y.sum(),
                "f1": 2 * tp / (2 * tp + fp + fn),
                "cost": (fp_cost * fp + fn_cost * fn) / y.size,
            }
        )
    return rows


def test_choose_threshold_max_f1_is_best_f1_of_all_thresholds(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=2.0)
    choice = choose_threshold(y, s, ThresholdConfig(objective="max_f1"))
    assert choice.f1 == pytest.approx(max(row["f1"] for row in _scan(y, s)))
    assert choice.threshold in set(s)
    assert choice.feasible
    assert choice.note == ""


def test_choose_threshold_max_f1_tie_goes_to_highest_threshold() -> None:
    # F1 is 2/3 at both 0.9 (one hit, no false alarm) and 0.6 (both hits, two false alarms).
    choice = choose_threshold([1, 0, 0, 1], [0.9, 0.8, 0.7, 0.6], ThresholdConfig(objective="max_f1"))
    assert choice.threshold == 0.9
    assert (choice.precision, choice.recall) == (1.0, 0.5)


def test_choose_threshold_max_recall_at_precision_respects_floor(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=2.0)
    choice = choose_threshold(y, s, ThresholdConfig(objective="max_recall_at_precision", min_precision=0.6))
    assert choice.feasible
    assert choice.precision >= 0.6
    assert choice.recall == pytest.approx(max(row["r"] for row in _scan(y, s) if row["p"] >= 0.6))


def test_choose_threshold_unreachable_precision_falls_back_to_max_f1(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=0.2)  # barely separable: precision never reaches 0.99
    choice = choose_threshold(y, s, ThresholdConfig(objective="max_recall_at_precision", min_precision=0.99))
    best_f1 = choose_threshold(y, s, ThresholdConfig(objective="max_f1"))
    assert not choice.feasible
    assert "no threshold reaches precision >= 0.99" in choice.note
    assert choice.threshold == best_f1.threshold


def test_choose_threshold_max_precision_at_recall_respects_floor(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=2.0)
    choice = choose_threshold(y, s, ThresholdConfig(objective="max_precision_at_recall", min_recall=0.8))
    assert choice.feasible
    assert choice.recall >= 0.8
    assert choice.precision == pytest.approx(max(row["p"] for row in _scan(y, s) if row["r"] >= 0.8))


def test_choose_threshold_min_cost_is_cheapest_threshold(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=2.0)
    config = ThresholdConfig(objective="min_cost", fp_cost=1.0, fn_cost=20.0)
    choice = choose_threshold(y, s, config)
    assert choice.expected_cost == pytest.approx(min(row["cost"] for row in _scan(y, s, 1.0, 20.0)))


def test_choose_threshold_min_cost_moves_with_the_cost_ratio(make_scores) -> None:
    y, s = make_scores(400, prevalence=0.1, separation=2.0)
    misses_costly = choose_threshold(y, s, ThresholdConfig(objective="min_cost", fp_cost=1.0, fn_cost=50.0))
    alarms_costly = choose_threshold(y, s, ThresholdConfig(objective="min_cost", fp_cost=50.0, fn_cost=1.0))
    assert misses_costly.threshold < alarms_costly.threshold
    assert misses_costly.recall > alarms_costly.recall


def test_choose_threshold_needs_both_classes() -> None:
    with pytest.raises(DataValidationError, match=r"(?s)validation rows.*needs both classes; got 0 positive\(s\)"):
        choose_threshold([0, 0, 0], [0.1, 0.5, 0.9], ThresholdConfig())


def test_choose_threshold_round_trips_through_json(make_scores) -> None:
    y, s = make_scores(200, prevalence=0.2, separation=1.0)
    choice = choose_threshold(y, s, ThresholdConfig())
    assert type(choice).model_validate(choice.to_json_dict()) == choice
