"""Champion monitoring: minority recall, precision and AP on the newest labeled partition, at the champion's own
threshold, with bootstrap intervals; compared with the figures it was promoted with and with earlier days; one
record per day in ``monitoring/<day>.json``; recall rules raising alerts through :mod:`imbalance_jobs.alerts`."""

from imbalance_jobs.monitoring._figures import champion_figures, operating_scores, promotion_figures
from imbalance_jobs.monitoring._record import (
    MONITOR_FORMAT,
    ChampionFigures,
    DayTrend,
    MonitorRecord,
    MonitorStatus,
    MonitorSummary,
    PromotionFigures,
)
from imbalance_jobs.monitoring._rules import RECALL_RULES, evaluate_recall_rules
from imbalance_jobs.monitoring._stage import monitor, read_fresh_partition
from imbalance_jobs.monitoring._trend import previous_records, trend

__all__ = [
    "MONITOR_FORMAT",
    "RECALL_RULES",
    "ChampionFigures",
    "DayTrend",
    "MonitorRecord",
    "MonitorStatus",
    "MonitorSummary",
    "PromotionFigures",
    "champion_figures",
    "evaluate_recall_rules",
    "monitor",
    "operating_scores",
    "previous_records",
    "promotion_figures",
    "read_fresh_partition",
    "trend",
]
