"""Earlier monitor records: read back for the consecutive-days rule and the trend next to today's figures."""

from __future__ import annotations

import datetime as dt
import logging

from pydantic import ValidationError

from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.monitoring._record import DayTrend, MonitorRecord
from imbalance_jobs.storage import ObjectStore

__all__ = ["TREND_DAYS", "previous_records", "trend"]

log = logging.getLogger(__name__)
TREND_DAYS = 7


def previous_records(store: ObjectStore, layout: PipelineLayout, day: dt.date, days: int) -> list[MonitorRecord]:
    """Records of the ``days`` days before ``day``, newest first; unreadable ones are skipped with a warning."""
    oldest = day - dt.timedelta(days=days)
    out = []
    for info in reversed(store.list(layout.monitoring_prefix)):
        name = info.uri.rsplit("/", 1)[1].removesuffix(".json")
        try:
            seen = dt.date.fromisoformat(name)
        except ValueError:
            continue
        if not oldest <= seen < day:
            continue
        try:
            out.append(MonitorRecord.model_validate(store.get_json(info.uri)))
        except ValidationError as exc:
            log.warning("%s: not a monitor record this version can read; skipped (%s)", info.uri, exc.errors()[0])
    return out


def trend(history: list[MonitorRecord]) -> list[DayTrend]:
    """The last :data:`TREND_DAYS` records (newest first) in brief."""
    return [
        DayTrend(
            day=r.day,
            status=r.status,
            champion_version=r.champion_version,
            recall=r.figures.recall.point if r.figures else None,
            positives=r.figures.positives if r.figures else None,
        )
        for r in history[:TREND_DAYS]
    ]
