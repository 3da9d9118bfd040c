"""The recall rules, judged on one day's figures plus the earlier days' records.

Each rule in :data:`RECALL_RULES` gives the day's raw condition; :func:`evaluate_recall_rules` then requires
``monitoring.consecutive_days`` consecutive breaching days of the same champion before the rule breaches, and
turns every recall rule into ``insufficient_evidence`` (plus an ``insufficient_evidence`` notice) when the day has
fewer than ``monitoring.min_positives`` positives.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from imbalance_jobs.alerts import AlertCI, RuleEvaluation
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.monitoring._record import ChampionFigures, MonitorRecord, PromotionFigures

__all__ = ["RECALL_RULES", "evaluate_recall_rules"]


def _ci(figures: ChampionFigures) -> AlertCI:
    r = figures.recall
    return AlertCI(low=r.low, high=r.high, confidence=r.confidence)


def _recall_text(figures: ChampionFigures) -> str:
    r = figures.recall
    ci = f" ({r.confidence:.0%} CI {r.low:.3f}-{r.high:.3f})" if r.low is not None and r.high is not None else ""
    return f"champion recall {r.point:.3f}{ci} on {figures.positives} positives"


def _floor(config: PipelineConfig, figures: ChampionFigures, promotion: PromotionFigures | None) -> RuleEvaluation:
    floor, recall = config.monitoring.recall_floor, figures.recall.point
    below = recall < floor
    relation = "is below" if below else "is at or above"
    return RuleEvaluation(
        rule="recall_floor",
        status="breach" if below else "ok",
        message=f"{_recall_text(figures)} {relation} the floor {floor:.3f}",
        metric="recall",
        observed=recall,
        threshold=floor,
        ci=_ci(figures),
    )


def _drop(config: PipelineConfig, figures: ChampionFigures, promotion: PromotionFigures | None) -> RuleEvaluation:
    max_drop, recall = config.monitoring.max_recall_drop, figures.recall.point
    if promotion is None or promotion.recall is None:
        return RuleEvaluation(
            rule="recall_drop",
            status="insufficient_evidence",
            message="the champion has no promotion-time recall to compare with",
            metric="recall",
            observed=recall,
            ci=_ci(figures),
        )
    limit = max(promotion.recall - max_drop, 0.0)
    dropped = recall < limit
    return RuleEvaluation(
        rule="recall_drop",
        status="breach" if dropped else "ok",
        message=(
            f"{_recall_text(figures)} is {promotion.recall - recall:.3f} below its promotion-time recall "
            f"{promotion.recall:.3f} (max drop {max_drop:.3f})"
        ),
        metric="recall",
        observed=recall,
        threshold=limit,
        ci=_ci(figures),
        details={"promotion_recall": promotion.recall, "max_recall_drop": max_drop},
    )


_Rule = Callable[[PipelineConfig, ChampionFigures, PromotionFigures | None], RuleEvaluation]
RECALL_RULES: dict[str, _Rule] = {"recall_floor": _floor, "recall_drop": _drop}


def _streak(rule: str, day: dt.date, version: str | None, history: Sequence[MonitorRecord]) -> int:
    """Consecutive days before ``day`` on which ``rule`` breached for the same champion (history newest first)."""
    by_day = {r.day: r for r in history}
    count, expected = 0, day - dt.timedelta(days=1)
    while expected in by_day:
        record = by_day[expected]
        if record.champion_version != version or record.raw_status(rule) != "breach":
            break
        count, expected = count + 1, expected - dt.timedelta(days=1)
    return count


def _with_streak(raw: RuleEvaluation, streak: int, needed: int) -> RuleEvaluation:
    if raw.status != "breach" or needed == 1:
        return raw.model_copy(update={"raw_status": raw.status, "streak": streak if raw.status == "breach" else 0})
    held = streak >= needed
    note = f" for {streak} consecutive days" if held else f" (day {streak} of {needed} needed to alarm)"
    return raw.model_copy(
        update={
            "status": "breach" if held else "ok",
            "raw_status": "breach",
            "streak": streak,
            "message": raw.message + note,
        }
    )


def _insufficient(config: PipelineConfig, figures: ChampionFigures | None, day: dt.date) -> list[RuleEvaluation]:
    rows, positives = (figures.rows, figures.positives) if figures else (0, 0)
    needed = config.monitoring.min_positives
    message = f"only {positives} positive(s) among {rows} rows on {day}; at least {needed} are needed to judge recall"
    common = {"status": "insufficient_evidence", "raw_status": "insufficient_evidence", "message": message}
    judged = [RuleEvaluation(rule=name, metric="recall", **common) for name in RECALL_RULES]
    notice = RuleEvaluation(
        rule="insufficient_evidence",
        status="breach",
        message=message,
        metric="positives",
        observed=float(positives),
        threshold=float(needed),
        details={"rows": rows},
    )
    return [*judged, notice]


def evaluate_recall_rules(
    config: PipelineConfig,
    figures: ChampionFigures | None,
    promotion: PromotionFigures | None,
    *,
    day: dt.date,
    champion_version: str | None,
    history: Sequence[MonitorRecord],
) -> list[RuleEvaluation]:
    """Every recall rule for ``day`` plus the ``insufficient_evidence`` notice rule (``ok`` when judged)."""
    if figures is None or figures.positives < config.monitoring.min_positives:
        return _insufficient(config, figures, day)
    needed = config.monitoring.consecutive_days
    out = []
    for name, rule in RECALL_RULES.items():
        raw = rule(config, figures, promotion)
        out.append(_with_streak(raw, 1 + _streak(name, day, champion_version, history), needed))
    ok = f"{figures.positives} positives on {day} (at least {config.monitoring.min_positives} needed)"
    out.append(RuleEvaluation(rule="insufficient_evidence", status="ok", message=ok, metric="positives"))
    return out
