"""Recall rules and operating scores on hand-made figures (no object store)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from imbalance_jobs.alerts import AlertCI
from imbalance_jobs.evaluation import BootstrapCI
from imbalance_jobs.monitoring import (
    RECALL_RULES,
    ChampionFigures,
    MonitorRecord,
    PromotionFigures,
    evaluate_recall_rules,
    operating_scores,
)
from imbalance_jobs.scoring import DeployedModel
from tests.alerts.builders import config_of

DAY = dt.date(2026, 12, 1)


def figures(recall: float, positives: int = 50) -> ChampionFigures:
    def ci(point: float) -> BootstrapCI:
        return BootstrapCI(
            metric="m",
            point=point,
            low=point - 0.05,
            high=point + 0.05,
            confidence=0.95,
            n_resamples=100,
            n_valid=100,
            seed=0,
        )

    return ChampionFigures(
        rows=1000, positives=positives, threshold=0.4, recall=ci(recall), precision=ci(0.5), average_precision=ci(0.6)
    )


def record(when: dt.date, raw: str, version: str = "v1") -> MonitorRecord:
    from imbalance_jobs.alerts import RuleEvaluation, RuleOutcome

    evaluation = RuleEvaluation(rule="recall_floor", status=raw, raw_status=raw, message="m")
    return MonitorRecord(
        pipeline="p",
        day=when,
        run_id="r",
        created_at=dt.datetime.now(dt.UTC),
        status="ok",
        champion_version=version,
        rules=[RuleOutcome(evaluation=evaluation, active=False, sent_today=None)],
    )


def judge(
    recall: float,
    *,
    history: list[MonitorRecord] = (),
    positives: int = 50,
    promotion_ci: tuple[float, float] | None = None,
    **monitoring: Any,
) -> dict:
    config = config_of(monitoring={"recall_floor": 0.3, "max_recall_drop": 0.2, "min_positives": 20, **monitoring})
    low, high = promotion_ci or (None, None)
    out = evaluate_recall_rules(
        config,
        figures(recall, positives),
        PromotionFigures(
            recall=0.7, precision=None, average_precision=None, recall_ci=AlertCI(low=low, high=high, confidence=0.95)
        ),
        day=DAY,
        champion_version="v1",
        history=list(history),
    )
    return {e.rule: e for e in out}


def test_recall_rules_registry_holds_floor_and_drop() -> None:
    assert tuple(RECALL_RULES) == ("recall_floor", "recall_drop")


def test_recall_floor_breaches_below_the_floor_with_its_figures() -> None:
    floor = judge(0.2)["recall_floor"]
    assert (floor.status, floor.observed, floor.threshold) == ("breach", 0.2, 0.3)
    assert (floor.ci.low, floor.ci.high) == (0.2 - 0.05, 0.2 + 0.05)


def test_recall_floor_at_the_floor_is_ok() -> None:
    assert judge(0.3, decide_on="point")["recall_floor"].status == "ok"
    assert judge(0.35)["recall_floor"].status == "ok"  # interval 0.30-0.40


def test_recall_drop_on_points_threshold_is_promotion_recall_minus_the_allowed_drop() -> None:
    drop = judge(0.45, decide_on="point")["recall_drop"]
    assert drop.status == "breach"
    assert abs(drop.threshold - 0.5) < 1e-12
    assert judge(0.55, decide_on="point")["recall_drop"].status == "ok"


def test_recall_floor_on_ci_point_below_but_interval_reaching_the_floor_is_no_alarm() -> None:
    floor = judge(0.27)["recall_floor"]  # interval 0.22-0.32 reaches the floor 0.3
    assert floor.status == "inconclusive"
    assert "evidence neither of a breach nor of a recovery" in floor.message
    assert judge(0.36)["recall_floor"].status == "ok"  # 0.31-0.41: the whole interval is above
    assert judge(0.27, decide_on="point")["recall_floor"].status == "breach"
    assert judge(0.24)["recall_floor"].status == "breach"  # 0.19-0.29: the whole interval is below


def test_recall_drop_on_ci_needs_the_whole_drop_interval_above_the_max() -> None:
    # promotion 0.7 (0.6-0.8), today 0.4 (0.35-0.45): drop 0.3, MOVER lower bound 0.3 - hypot(0.1, 0.05) < 0.2
    unsure = judge(0.4, promotion_ci=(0.6, 0.8))["recall_drop"]
    assert unsure.status == "inconclusive"
    assert unsure.details["drop_ci"][0] < 0.2 < unsure.details["drop"]
    assert "straddles the max drop 0.200" in unsure.message
    sure = judge(0.3, promotion_ci=(0.6, 0.8))["recall_drop"]  # drop 0.4, lower bound 0.29
    assert sure.status == "breach"
    assert sure.details["drop_ci"][0] > 0.2


def test_recall_drop_message_says_above_when_recall_rose() -> None:
    drop = judge(0.8)["recall_drop"]
    assert drop.status == "ok"
    assert "is 0.100 above its promotion-time recall 0.700" in drop.message
    assert "below" not in drop.message


def test_recall_drop_without_promotion_recall_is_insufficient_evidence() -> None:
    config = config_of()
    out = evaluate_recall_rules(config, figures(0.1), None, day=DAY, champion_version="v1", history=[])
    assert {e.rule: e.status for e in out}["recall_drop"] == "insufficient_evidence"


def test_few_positives_make_every_recall_rule_insufficient_and_raise_a_notice() -> None:
    rules = judge(0.0, positives=5)
    assert {k: v.status for k, v in rules.items()} == {
        "recall_floor": "insufficient_evidence",
        "recall_drop": "insufficient_evidence",
        "insufficient_evidence": "breach",
    }
    assert (rules["insufficient_evidence"].observed, rules["insufficient_evidence"].threshold) == (5.0, 20.0)


def test_consecutive_days_counts_breaching_days_of_the_same_champion() -> None:
    yesterday = DAY - dt.timedelta(days=1)
    assert judge(0.1, consecutive_days=2, history=[record(yesterday, "breach")])["recall_floor"].status == "breach"
    other = [record(yesterday, "breach", version="v0")]
    assert judge(0.1, consecutive_days=2, history=other)["recall_floor"].status == "ok"


def test_consecutive_days_pending_streak_says_how_far_it_is() -> None:
    floor = judge(0.1, consecutive_days=3, history=[record(DAY - dt.timedelta(days=1), "breach")])["recall_floor"]
    assert (floor.status, floor.raw_status, floor.streak) == ("ok", "breach", 2)
    assert floor.message.endswith("(day 2 of 3 needed to alarm)")


class _ArgmaxPipeline:
    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[["p0", "p1", "p2"]].to_numpy()


def test_operating_scores_of_a_multiclass_model_are_its_argmax_decisions() -> None:
    config = config_of(label={"column": "y", "classes": ["ok", "minor", "defect"], "positive": "defect"})
    description = {
        "features": {"numeric": ["p0", "p1", "p2"], "categorical": []},
        "label": {"class_names": ["ok", "minor", "defect"]},
        "threshold": None,
    }
    model = DeployedModel(pipeline=_ArgmaxPipeline(), description=description)
    frame = pd.DataFrame(
        {"p0": [0.6, 0.1, 0.3], "p1": [0.3, 0.2, 0.4], "p2": [0.1, 0.7, 0.3], "y": ["defect", "defect", "ok"]}
    )
    y, decision, threshold, ranking = operating_scores(model, frame, config)
    assert y.tolist() == [1, 1, 0]
    assert decision.tolist() == [0.0, 1.0, 0.0]
    assert threshold == 0.5
    assert ranking.tolist() == [0.1, 0.7, 0.3]
