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
    """Below the floor: the whole CI below it (``decide_on: ci``; back to ok once the whole CI is at or above
    it, ``inconclusive`` while it straddles), or the point value (``point``)."""
    floor, r = config.monitoring.recall_floor, figures.recall
    on_ci = config.monitoring.decide_on == "ci" and r.low is not None and r.high is not None
    low, high = (r.low, r.high) if on_ci else (r.point, r.point)
    if high < floor:
        status = "breach"
        how = f"with {r.confidence:.0%} confidence (CI upper bound {high:.3f})" if on_ci else "(point value)"
        message = f"{_recall_text(figures)} is below the floor {floor:.3f} {how}"
    elif low >= floor:
        status, message = "ok", f"{_recall_text(figures)} is at or above the floor {floor:.3f}"
    else:
        status = "inconclusive"
        message = (
            f"{_recall_text(figures)}: the interval straddles the floor {floor:.3f}, so it is evidence neither of a "
            f"breach nor of a recovery (monitoring.decide_on: ci)"
        )
    return RuleEvaluation(
        rule="recall_floor",
        status=status,
        message=message,
        metric="recall",
        observed=r.point,
        threshold=floor,
        ci=_ci(figures),
        details={"decide_on": config.monitoring.decide_on},
    )


def _drop(config: PipelineConfig, figures: ChampionFigures, promotion: PromotionFigures | None) -> RuleEvaluation:
    """Drop since promotion: its MOVER interval (both recalls have CIs) above ``max_recall_drop``, or the point."""
    from imbalance_jobs.evaluation import difference_ci

    max_drop, r = config.monitoring.max_recall_drop, figures.recall
    if promotion is None or promotion.recall is None:
        return RuleEvaluation(
            rule="recall_drop",
            status="insufficient_evidence",
            message="the champion has no promotion-time recall to compare with",
            metric="recall",
            observed=r.point,
            ci=_ci(figures),
        )
    p, pci = promotion.recall, promotion.recall_ci
    drop = p - r.point
    low, high = difference_ci(p, (pci.low, pci.high), r.point, (r.low, r.high))
    on_ci = config.monitoring.decide_on == "ci"
    if on_ci:
        status = "breach" if low > max_drop else "ok" if high <= max_drop else "inconclusive"
    else:
        status = "breach" if r.point < max(p - max_drop, 0.0) else "ok"
    side = "below" if drop >= 0 else "above"
    if not on_ci:
        evidence = f"max drop {max_drop:.3f}, judged on point values"
    elif drop < 0:
        evidence = f"no drop (the rise's {r.confidence:.0%} CI is [{-high:.3f}, {-low:.3f}])"
    else:
        where = {"breach": "lies above", "ok": "lies at or below", "inconclusive": "straddles"}[status]
        evidence = f"the drop's {r.confidence:.0%} CI [{low:.3f}, {high:.3f}] {where} the max drop {max_drop:.3f}"
    return RuleEvaluation(
        rule="recall_drop",
        status=status,
        message=(
            f"{_recall_text(figures)} is {abs(drop):.3f} {side} its promotion-time recall {p:.3f}{_ci_text(pci)}; "
            f"{evidence}"
        ),
        metric="recall",
        observed=r.point,
        threshold=max(p - max_drop, 0.0),
        ci=_ci(figures),
        details={
            "promotion_recall": p,
            "promotion_recall_ci": pci.model_dump(mode="json"),
            "max_recall_drop": max_drop,
            "drop": drop,
            "drop_ci": [low, high],
            "decide_on": config.monitoring.decide_on,
        },
    )


def _ci_text(ci: AlertCI) -> str:
    if ci.low is None or ci.high is None:
        return ""
    return f" (CI {ci.low:.3f}-{ci.high:.3f})"


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
