"""The outbox on the real S3 server: queued per channel, moved to sent/ once delivered, kept and re-sent when a
channel is down, left waiting for channels with no sender here, dropped after the maximum age."""

from __future__ import annotations

import datetime as dt

import pytest

from imbalance_jobs.alerts import OutboxEntry, SlackSender, WebhookSender, deliver_pending, enqueue, outbox_prefix
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.storage import join_uri
from tests.alerts.builders import alert

pytestmark = pytest.mark.integration
CHANNELS = {"webhook": {}, "slack": {"min_severity": "critical"}}
FAST = {"delivery_attempts": 2, "retry_backoff_seconds": 0.0, "timeout_seconds": 2.0}


def names(store, prefix: str) -> list[str]:
    return [o.uri.rsplit("/", 1)[1] for o in store.list(prefix)]


def test_enqueue_queues_one_entry_per_channel_at_or_above_its_min_severity(store, make_config) -> None:
    config = make_config(alerts=CHANNELS)
    enqueue(store, config, alert(config, rule="recall_floor"))
    enqueue(store, config, alert(config, rule="insufficient_evidence", kind="notice"))
    assert names(store, outbox_prefix(PipelineLayout(config))) == [
        "2026-11-28-insufficient_evidence-notice-webhook.json",
        "2026-11-28-recall_floor-alarm-slack.json",
        "2026-11-28-recall_floor-alarm-webhook.json",
    ]


def test_enqueue_without_channels_records_nothing_to_send(store, make_config, caplog) -> None:
    config = make_config()
    assert enqueue(store, config, alert(config)) == []
    assert "no alert channel configured" in caplog.text


def test_deliver_pending_sends_and_moves_entries_to_sent(store, make_config, http_receiver) -> None:
    config = make_config(alerts=CHANNELS)
    sent = alert(config)
    enqueue(store, config, sent)
    senders = {"webhook": WebhookSender(http_receiver.url("/hook")), "slack": SlackSender(http_receiver.url("/slack"))}
    report = deliver_pending(store, config, senders)
    layout = PipelineLayout(config)
    assert sorted(report.sent) == [f"slack:{sent.id}", f"webhook:{sent.id}"]
    assert http_receiver.bodies("/hook") == [sent.to_json_dict()]
    assert names(store, outbox_prefix(layout)) == []
    receipt = OutboxEntry.model_validate(
        store.get_json(join_uri(layout.root, "alerts", "sent", "2026-11-28-recall_floor-alarm-webhook.json"))
    )
    assert (receipt.attempts, receipt.delivered_at is not None) == (1, True)


def test_deliver_pending_keeps_an_undelivered_alert_and_resends_it_next_pass(
    store, make_config, http_receiver, dead_port
) -> None:
    config = make_config(alerts={"webhook": {}, **FAST})
    queued = alert(config)
    enqueue(store, config, queued)
    down = deliver_pending(store, config, {"webhook": WebhookSender(f"http://127.0.0.1:{dead_port}/x", timeout=2)})
    (failed,) = down.failed
    entry = OutboxEntry.model_validate(store.get_json(failed.uri))
    assert (entry.attempts, failed.attempts, "not reachable" in entry.last_error) == (2, 2, True)
    up = deliver_pending(store, config, {"webhook": WebhookSender(http_receiver.url())})
    assert up.sent == [f"webhook:{queued.id}"]
    assert http_receiver.bodies() == [queued.to_json_dict()]


def test_deliver_pending_leaves_channels_without_a_sender_waiting(store, make_config, http_receiver) -> None:
    config = make_config(alerts=CHANNELS)
    enqueue(store, config, alert(config))
    report = deliver_pending(store, config, {"webhook": WebhookSender(http_receiver.url())})
    assert report.waiting == {"slack": 1}
    assert names(store, outbox_prefix(PipelineLayout(config))) == ["2026-11-28-recall_floor-alarm-slack.json"]


def test_deliver_pending_drops_entries_older_than_the_maximum_age(store, make_config, http_receiver) -> None:
    config = make_config(alerts={"webhook": {}, "outbox_max_age_days": 2})
    old = alert(config)
    enqueue(store, config, old)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    report = deliver_pending(store, config, {"webhook": WebhookSender(http_receiver.url())}, now=later)
    assert report.expired == [f"webhook:{old.id}"]
    assert http_receiver.posts == []
    assert names(store, outbox_prefix(PipelineLayout(config))) == []
