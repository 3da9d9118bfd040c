"""The outbox: alerts wait here, one object per alert and channel, until their channel accepts them.

Alerts are queued before the rule state moves, delivered by whoever runs next with that channel's settings (the
monitor CLI, an Airflow notifier), moved to ``alerts/sent/`` once delivered, and kept with their attempt count
and last error when the channel is down, so the next run re-sends them. A channel never fails a run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping

from imbalance_jobs.alerts._channels import Sender, send_with_retries
from imbalance_jobs.alerts._model import SEVERITY_RANK, Alert
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.storage import ObjectStore, join_uri
from imbalance_jobs.summary import Summary

__all__ = ["DeliveryReport", "FailedDelivery", "OutboxEntry", "deliver_pending", "enqueue", "outbox_prefix"]

log = logging.getLogger(__name__)


class OutboxEntry(Summary):
    channel: str
    alert: Alert
    queued_at: dt.datetime
    attempts: int = 0
    last_error: str | None = None
    delivered_at: dt.datetime | None = None


class FailedDelivery(Summary):
    uri: str
    channel: str
    alert_id: str
    attempts: int
    error: str


class DeliveryReport(Summary):
    """What one delivery pass did: ``sent`` and ``expired`` hold alert ids as ``channel:alert id``;
    ``waiting`` counts alerts left for channels that have no sender here (not configured in this process)."""

    sent: list[str] = []
    failed: list[FailedDelivery] = []
    expired: list[str] = []
    waiting: dict[str, int] = {}

    @property
    def ok(self) -> bool:
        return not self.failed


def outbox_prefix(layout: PipelineLayout) -> str:
    return join_uri(layout.root, "alerts", "outbox") + "/"


def _sent_prefix(layout: PipelineLayout) -> str:
    return join_uri(layout.root, "alerts", "sent") + "/"


def _entry_name(alert: Alert, channel: str) -> str:
    return f"{alert.day.isoformat()}-{alert.rule}-{alert.kind}-{channel}.json"


def enqueue(store: ObjectStore, config: PipelineConfig, alert: Alert) -> list[str]:
    """Queue ``alert`` for every configured channel whose ``min_severity`` it reaches; returns the outbox URIs."""
    layout, now, uris = PipelineLayout(config), dt.datetime.now(dt.UTC), []
    for name, channel in config.alerts.channels.items():
        if SEVERITY_RANK[alert.severity] < SEVERITY_RANK[channel.min_severity]:
            continue
        uri = join_uri(outbox_prefix(layout), _entry_name(alert, name))
        store.put_json(uri, OutboxEntry(channel=name, alert=alert, queued_at=now).to_json_dict())
        uris.append(uri)
    if not config.alerts.channels:
        log.warning("%s: %s has no alert channel configured (alerts.*); recorded only", config.name, alert.id)
    return uris


def deliver_pending(
    store: ObjectStore,
    config: PipelineConfig,
    senders: Mapping[str, Sender],
    *,
    now: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryReport:
    """Send every queued alert of the pipeline whose channel has a sender here, oldest first.

    Delivered entries move to ``alerts/sent/``; failed ones stay with their attempt count and error (retried on
    the next pass); entries older than ``alerts.outbox_max_age_days`` are dropped with a warning. Channel
    failures never raise; an object-store failure does (``StorageError``), leaving the outbox as it was.
    """
    layout, now = PipelineLayout(config), now or dt.datetime.now(dt.UTC)
    report: dict = {"sent": [], "failed": [], "expired": [], "waiting": {}}
    for info in store.list(outbox_prefix(layout)):
        entry = OutboxEntry.model_validate(store.get_json(info.uri))
        key = f"{entry.channel}:{entry.alert.id}"
        if now - entry.queued_at > dt.timedelta(days=config.alerts.outbox_max_age_days):
            log.warning("%s: undelivered for %s; dropped (%s)", key, now - entry.queued_at, entry.last_error)
            store.delete_prefix(info.uri)
            report["expired"].append(key)
        elif entry.channel not in senders:
            report["waiting"][entry.channel] = report["waiting"].get(entry.channel, 0) + 1
        else:
            failure = _deliver_one(store, config, info.uri, entry, senders[entry.channel], sleep)
            report["failed" if failure else "sent"].append(failure or key)
    return DeliveryReport.model_validate(report)


def _deliver_one(
    store: ObjectStore,
    config: PipelineConfig,
    uri: str,
    entry: OutboxEntry,
    sender: Sender,
    sleep: Callable[[float], None],
) -> FailedDelivery | None:
    alerts = config.alerts
    delivered, error, tries = send_with_retries(
        sender, entry.alert, attempts=alerts.delivery_attempts, backoff=alerts.retry_backoff_seconds, sleep=sleep
    )
    attempts = entry.attempts + tries
    if delivered:
        done = entry.model_copy(
            update={"attempts": attempts, "last_error": None, "delivered_at": dt.datetime.now(dt.UTC)}
        )
        store.put_json(join_uri(_sent_prefix(PipelineLayout(config)), uri.rsplit("/", 1)[1]), done.to_json_dict())
        store.delete_prefix(uri)
        log.info("%s: delivered via %s", entry.alert.id, entry.channel)
        return None
    store.put_json(uri, entry.model_copy(update={"attempts": attempts, "last_error": error}).to_json_dict())
    log.warning("%s via %s: kept in the outbox after %d attempt(s): %s", entry.alert.id, entry.channel, attempts, error)
    return FailedDelivery(uri=uri, channel=entry.channel, alert_id=entry.alert.id, attempts=attempts, error=error or "")
