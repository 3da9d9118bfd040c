"""The promotion gate: pure rules over metrics computed on the same test rows in the same run.

Decisions: ``promote``, ``reject`` or ``insufficient_evidence`` (too few positives to judge at all, counted on
the test rows the champion never saw). The AP rule is judged on the lower bound of the paired-bootstrap
confidence interval of the AP gain, never on point values, and must clear the margin strictly.
Ties keep the champion. A manual override needs a reason and is recorded next to the rules it overrode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from imbalance_jobs.config import GateConfig
from imbalance_jobs.summary import Summary

__all__ = ["Decision", "ModelFigures", "RuleResult", "Verdict", "decide"]

Decision = Literal["promote", "reject", "insufficient_evidence"]
TIE_TOLERANCE = 1e-12


class RuleResult(Summary):
    name: str
    description: str
    threshold: int | float | None
    observed: int | float | None
    passed: bool | None  # None: not applicable (e.g. no champion yet)


class Verdict(Summary):
    decision: Decision
    forced: bool
    force_reason: str | None
    reasons: list[str]
    rules: list[RuleResult]
    summary: str


@dataclass(frozen=True)
class ModelFigures:
    """The figures the gate reads for one model (binary: AP and minority recall at its own threshold)."""

    average_precision: float | None
    recall: float
    name: str = ""


@dataclass(frozen=True)
class GateInputs:
    """Figures on the compared rows. ``champion`` is ``None`` when there is none *or* it could not be scored on
    rows it never saw (``champion_version`` set); ``evidence`` says which rows were compared and why."""

    candidate: ModelFigures
    champion: ModelFigures | None
    test_positives: int
    ap_delta: float | None = None
    ap_delta_ci: tuple[float, float] | None = None
    champion_version: str | None = None
    evidence: str = ""


def decide(
    gate: GateConfig,
    inputs: GateInputs,
    *,
    force: Literal["promote", "reject"] | None = None,
    force_reason: str | None = None,
) -> Verdict:
    """Apply every rule and return the verdict with each rule's threshold, observed value and outcome.

    Examples
    --------
    >>> from imbalance_jobs.config import GateConfig
    >>> v = decide(GateConfig(min_average_precision=0.3), GateInputs(ModelFigures(0.5, 0.7), None, 40))
    >>> v.decision, [r.passed for r in v.rules if r.name == "ap_gain"]
    ('promote', [None])
    """
    rules = _rules(gate, inputs)
    failed = [r for r in rules if r.passed is False]
    tie = inputs.champion is not None and inputs.ap_delta is not None and abs(inputs.ap_delta) <= TIE_TOLERANCE
    decision, reasons = _decision(failed, tie, inputs.evidence)
    if force:
        reasons = [f"forced {force} by operator: {force_reason}", *[f"(overridden) {r}" for r in reasons]]
        decision = force
    return Verdict(
        decision=decision,
        forced=force is not None,
        force_reason=force_reason if force else None,
        reasons=reasons,
        rules=rules,
        summary=_summary(decision, inputs, force is not None),
    )


def _decision(failed: list[RuleResult], tie: bool, evidence_note: str) -> tuple[Decision, list[str]]:
    evidence = [r for r in failed if r.name == "min_test_positives"]
    if evidence:
        return "insufficient_evidence", [_why(evidence[0]) + (f" ({evidence_note})" if evidence_note else "")]
    if failed:
        return "reject", [_why(r) for r in failed]
    if tie:
        return "reject", ["tie: candidate and champion have the same AP on the test rows; the champion stays"]
    return "promote", ["every rule passed"]


def _why(rule: RuleResult) -> str:
    return f"{rule.name}: {rule.description}; observed {_fmt(rule.observed)}, needed {_fmt(rule.threshold)}"


def _rules(gate: GateConfig, inp: GateInputs) -> list[RuleResult]:
    cand, champ = inp.candidate, inp.champion
    ci_low = inp.ap_delta_ci[0] if inp.ap_delta_ci else None
    compared = "the test rows the champion never saw" if inp.champion_version else "the test rows"
    out = [
        _rule("min_test_positives", f"positives in {compared} >= minimum", gate.min_test_positives, inp.test_positives),
        _rule("min_average_precision", "candidate AP >= floor", gate.min_average_precision, cand.average_precision),
        _rule("min_recall", "candidate minority recall at its threshold >= floor", gate.min_recall, cand.recall),
    ]
    if champ is None:
        why = "no champion yet" if inp.champion_version is None else f"champion {inp.champion_version} not scored"
        out += [
            RuleResult(name="ap_gain", description=why, threshold=gate.min_ap_gain, observed=None, passed=None),
            RuleResult(
                name="max_recall_drop", description=why, threshold=gate.max_recall_drop, observed=None, passed=None
            ),
        ]
        return out
    floor = champ.recall - gate.max_recall_drop
    out += [
        RuleResult(
            name="ap_gain",
            description="lower CI bound of the paired AP gain (candidate - champion) > margin",
            threshold=gate.min_ap_gain,
            observed=ci_low,
            passed=ci_low is not None and ci_low > gate.min_ap_gain,  # a gain equal to the margin is no gain
        ),
        _rule(
            "max_recall_drop",
            f"candidate recall >= champion recall {champ.recall:.4f} - {gate.max_recall_drop}",
            floor,
            cand.recall,
        ),
    ]
    return out


def _rule(name: str, description: str, threshold: float, observed: int | float | None) -> RuleResult:
    passed = observed is not None and observed >= threshold
    return RuleResult(name=name, description=description, threshold=threshold, observed=observed, passed=passed)


def _summary(decision: Decision, inp: GateInputs, forced: bool) -> str:
    cand = f"candidate AP {_fmt(inp.candidate.average_precision)}, recall {_fmt(inp.candidate.recall)}"
    if inp.champion is None:
        against = "no champion yet" if inp.champion_version is None else f"champion {inp.champion_version} not scored"
    else:
        ci = inp.ap_delta_ci or (None, None)
        against = (
            f"champion AP {_fmt(inp.champion.average_precision)}, recall {_fmt(inp.champion.recall)}; "
            f"AP gain {_fmt(inp.ap_delta)} (CI {_fmt(ci[0])} .. {_fmt(ci[1])})"
        )
    verb = {"promote": "PROMOTE", "reject": "KEEP CHAMPION", "insufficient_evidence": "INSUFFICIENT EVIDENCE"}[decision]
    return f"{verb}{' (forced)' if forced else ''}: {cand}; {against}; {inp.test_positives} test positives"


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)
