"""What monitoring stores per day (``monitoring/<day>.json``) and what the stage returns."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from imbalance_jobs.alerts import Alert, AlertCI, RuleOutcome
from imbalance_jobs.evaluation import BootstrapCI
from imbalance_jobs.summary import Summary

__all__ = [
    "MONITOR_FORMAT",
    "ChampionFigures",
    "DayTrend",
    "MonitorRecord",
    "MonitorStatus",
    "MonitorSummary",
    "PromotionFigures",
]

MONITOR_FORMAT = "imbalance-jobs/monitor@1"
MonitorStatus = Literal["ok", "breach", "insufficient_evidence", "no_champion", "no_data", "disabled"]


class ChampionFigures(Summary):
    """The champion on the fresh partition, at its own operating threshold (argmax for multi-class)."""

    rows: int
    positives: int
    threshold: float | None
    recall: BootstrapCI
    precision: BootstrapCI
    average_precision: BootstrapCI


class PromotionFigures(Summary):
    """The champion's test figures recorded when it was promoted (its version's ``metrics.json``)."""

    recall: float | None
    precision: float | None
    average_precision: float | None
    test_positives: int | None = None
    recall_ci: AlertCI = AlertCI()
    """The promotion-time recall's bootstrap interval (empty for versions published before it was recorded)."""


class DayTrend(Summary):
    """One earlier day, for the trend shown next to today's figures."""

    day: dt.date
    status: MonitorStatus
    champion_version: str | None
    recall: float | None
    positives: int | None


class MonitorRecord(Summary):
    """One monitored day. Re-running the day overwrites it; rule state lives in ``alerts/<rule>.json``."""

    format: Literal["imbalance-jobs/monitor@1"] = MONITOR_FORMAT
    pipeline: str
    day: dt.date
    run_id: str
    created_at: dt.datetime
    status: MonitorStatus
    champion_version: str | None = None
    data_objects: list[str] = []
    figures: ChampionFigures | None = None
    promotion: PromotionFigures | None = None
    recall_vs_promotion: float | None = None
    recall_vs_previous: float | None = None
    previous: list[DayTrend] = []
    rules: list[RuleOutcome] = []
    note: str = ""

    def raw_status(self, rule: str) -> str | None:
        """The condition of ``rule`` on this day alone (before any consecutive-days rule)."""
        for outcome in self.rules:
            if outcome.evaluation.rule == rule:
                return outcome.evaluation.raw_status or outcome.evaluation.status
        return None


class MonitorSummary(Summary):
    """The stage's small JSON result: headline figures, each rule's status, and the alerts raised and queued."""

    pipeline: str
    day: dt.date
    run_id: str
    status: MonitorStatus
    record_uri: str | None
    champion_version: str | None
    rows: int
    positives: int
    recall: float | None
    recall_ci: AlertCI
    promotion_recall: float | None
    rules: dict[str, str]
    alerts: list[Alert]
    outbox: list[str]
    note: str = ""
