"""The alert rules: how each one behaves once evaluated (what it raises, how often, whether it recovers).

Metric rules (recall) are evaluated by :mod:`imbalance_jobs.monitoring` on each day's record; event rules by
:mod:`imbalance_jobs.alerts._events` when a run fails, validation fails, or a candidate is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from imbalance_jobs.alerts._model import Severity
from imbalance_jobs.config import PipelineConfig

__all__ = ["RULES", "RuleSpec", "rule_spec", "severity_for"]


@dataclass(frozen=True)
class RuleSpec:
    """``raises``: what a breach sends; ``repeat``: ``episode`` = once when the breach starts, ``daily`` = once
    per day while it lasts; ``recovery``: send a recovery message when it clears; ``severity``: the default
    (``None``: ``monitoring.severity``)."""

    name: str
    raises: Literal["alarm", "notice"]
    repeat: Literal["episode", "daily"]
    recovery: bool
    severity: Severity | None
    description: str


RULES: dict[str, RuleSpec] = {
    spec.name: spec
    for spec in (
        RuleSpec(
            "recall_floor", "alarm", "episode", True, None, "champion recall at its threshold < monitoring.recall_floor"
        ),
        RuleSpec(
            "recall_drop",
            "alarm",
            "episode",
            True,
            None,
            "champion recall fell more than monitoring.max_recall_drop below its promotion-time recall",
        ),
        RuleSpec(
            "insufficient_evidence",
            "notice",
            "daily",
            False,
            "info",
            "fewer than monitoring.min_positives positives on the day: recall cannot be judged",
        ),
        RuleSpec("validation_failed", "alarm", "daily", True, "warning", "the fresh data failed validation"),
        RuleSpec("run_failed", "alarm", "daily", True, "critical", "a task of the nightly run failed after retries"),
        RuleSpec(
            "rejected_below_floor",
            "alarm",
            "daily",
            True,
            "critical",
            "the candidate was not promoted while the champion's recall is below monitoring.recall_floor",
        ),
        RuleSpec(
            "candidate_failed",
            "alarm",
            "daily",
            True,
            "warning",
            "a configured candidate failed to train and was left out of the choice",
        ),
    )
}


def rule_spec(name: str) -> RuleSpec:
    """The spec of a rule; the error lists the registry's names."""
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown alert rule {name!r}; rules are: {', '.join(RULES)}") from None


def severity_for(config: PipelineConfig, rule: str) -> Severity:
    """``alerts.severities[rule]``, else the rule's default, else ``monitoring.severity`` (recall rules)."""
    override = config.alerts.severities.get(rule)
    if override:
        return override
    return rule_spec(rule).severity or config.monitoring.severity
