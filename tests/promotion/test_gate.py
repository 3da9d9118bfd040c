"""The promotion gate's decision table: each path gives its expected verdict and names the rule that decided."""

from __future__ import annotations

import pytest

from imbalance_jobs.config import GateConfig
from imbalance_jobs.promotion import GateInputs, ModelFigures, decide

GATE = GateConfig(
    min_average_precision=0.3, min_ap_gain=0.0, min_recall=0.4, max_recall_drop=0.05, min_test_positives=20
)


def _inputs(*, cand_ap=0.6, cand_recall=0.7, champ=(0.5, 0.7), positives=50, ci=(0.02, 0.15)) -> GateInputs:
    champion = ModelFigures(*champ) if champ else None
    delta = None if champion is None else cand_ap - champion.average_precision
    return GateInputs(
        candidate=ModelFigures(cand_ap, cand_recall),
        champion=champion,
        test_positives=positives,
        ap_delta=delta,
        ap_delta_ci=ci if champion else None,
    )


def _rule(verdict, name):
    return next(r for r in verdict.rules if r.name == name)


def test_decide_first_run_uses_absolute_rules_only() -> None:
    verdict = decide(GATE, _inputs(champ=None))
    assert verdict.decision == "promote"
    assert _rule(verdict, "ap_gain").passed is None
    assert _rule(verdict, "max_recall_drop").passed is None


def test_decide_first_run_below_floor_rejects() -> None:
    verdict = decide(GATE, _inputs(champ=None, cand_ap=0.2))
    assert verdict.decision == "reject"
    assert any(r.startswith("min_average_precision") for r in verdict.reasons)


def test_decide_clear_gain_promotes() -> None:
    verdict = decide(GATE, _inputs())
    assert verdict.decision == "promote"
    assert all(r.passed for r in verdict.rules)


def test_decide_margin_judged_on_ci_not_point() -> None:
    # the point gain is +0.1 but the interval reaches below zero: not enough evidence of a gain
    verdict = decide(GATE, _inputs(ci=(-0.01, 0.2)))
    assert verdict.decision == "reject"
    assert _rule(verdict, "ap_gain").observed == -0.01
    assert verdict.reasons[0].startswith("ap_gain")


def test_decide_non_inferiority_margin_accepts_small_loss() -> None:
    gate = GATE.model_copy(update={"min_ap_gain": -0.02})
    verdict = decide(gate, _inputs(cand_ap=0.5 + 0.001, ci=(-0.015, 0.02)))
    assert verdict.decision == "promote"


def test_decide_tie_keeps_champion() -> None:
    gate = GATE.model_copy(update={"min_ap_gain": -0.05})
    verdict = decide(gate, _inputs(cand_ap=0.5, ci=(0.0, 0.0)))
    assert verdict.decision == "reject"
    assert verdict.reasons[0].startswith("tie")


def test_decide_recall_floor_fails() -> None:
    verdict = decide(GATE, _inputs(cand_recall=0.3))
    assert verdict.decision == "reject"
    assert _rule(verdict, "min_recall").passed is False


def test_decide_recall_drop_vs_champion_fails() -> None:
    verdict = decide(GATE, _inputs(cand_recall=0.6, champ=(0.5, 0.7)))
    rule = _rule(verdict, "max_recall_drop")
    assert verdict.decision == "reject"
    assert rule.passed is False
    assert rule.threshold == pytest.approx(0.65)


def test_decide_too_few_positives_is_insufficient_evidence() -> None:
    verdict = decide(GATE, _inputs(positives=5))
    assert verdict.decision == "insufficient_evidence"
    assert verdict.reasons == ["min_test_positives: positives in the test rows >= minimum; observed 5, needed 20"]


def test_decide_force_promote_overrides_and_records_reason() -> None:
    verdict = decide(GATE, _inputs(cand_recall=0.1), force="promote", force_reason="hotfix for incident 42")
    assert verdict.decision == "promote"
    assert verdict.forced
    assert verdict.force_reason == "hotfix for incident 42"
    assert verdict.reasons[0] == "forced promote by operator: hotfix for incident 42"
    assert any(r.startswith("(overridden) min_recall") for r in verdict.reasons)


def test_decide_force_reject_overrides_a_pass() -> None:
    verdict = decide(GATE, _inputs(), force="reject", force_reason="freeze week")
    assert verdict.decision == "reject"
    assert verdict.forced
    assert "(forced)" in verdict.summary


def test_decide_summary_is_readable() -> None:
    verdict = decide(GATE, _inputs())
    assert verdict.summary.startswith("PROMOTE: candidate AP 0.6000")
    assert "50 test positives" in verdict.summary


@pytest.mark.parametrize("margin", [0.0, -0.01, 0.02])
def test_decide_gain_equal_to_the_margin_does_not_promote(margin) -> None:
    gate = GATE.model_copy(update={"min_ap_gain": margin})
    verdict = decide(gate, _inputs(ci=(margin, 0.1)))
    assert verdict.decision == "reject"
    assert _rule(verdict, "ap_gain").passed is False


def test_decide_unverifiable_champion_is_insufficient_evidence_with_the_reason() -> None:
    inputs = GateInputs(
        candidate=ModelFigures(0.9, 0.9),
        champion=None,
        test_positives=0,
        champion_version="v7",
        evidence="champion v7 has no split contract",
    )
    verdict = decide(GATE, inputs)
    assert verdict.decision == "insufficient_evidence"
    assert "the test rows the champion never saw" in verdict.reasons[0]
    assert verdict.reasons[0].endswith("(champion v7 has no split contract)")
    assert _rule(verdict, "ap_gain").description == "champion v7 not scored"
    assert "champion v7 not scored" in verdict.summary
