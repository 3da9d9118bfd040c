"""Airflow notifiers: ``notify(context)`` called directly (the base notifier swallows failures in callbacks), with
connections from ``AIRFLOW_CONN_*`` variables, against a real SMTP server, a real HTTP receiver and real S3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from imbalance_jobs.alerts import AlertLinks, RuleEvaluation, build_alert, enqueue, outbox_prefix
from imbalance_jobs.context import PipelineLayout
from tests.alerts import receivers, stores
from tests.alerts.builders import DAY
from tests.dags.airflow_env import connection_env

pytestmark = [pytest.mark.airflow, pytest.mark.integration]
smtp_receiver, http_receiver, dead_port = receivers.smtp_receiver, receivers.http_receiver, receivers.dead_port
shared_buckets, make_config = stores.shared_buckets, stores.make_config  # pipeline-name isolation
CHANNELS = {
    "email": {"to": ["ops@example.com"], "conn_id": "test_smtp"},
    "slack": {"conn_id": "test_slack"},
    "webhook": {"conn_id": "test_hook"},
    "delivery_attempts": 2,
    "retry_backoff_seconds": 0.0,
    "timeout_seconds": 2.0,
}


def connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))


@pytest.fixture
def config(make_config, s3_server, monkeypatch):
    """A pipeline with all three channels, its S3 connection set, and one recall alarm queued."""
    settings = s3_server.settings
    for key, value in connection_env(settings.endpoint_url, settings.access_key_id, settings.secret_access_key).items():
        monkeypatch.setenv(key, value)
    return make_config(alerts=CHANNELS)


@pytest.fixture
def queued(config, store):
    evaluation = RuleEvaluation(rule="recall_floor", status="breach", message="recall 0.1 < 0.3", observed=0.1)
    alert = build_alert(config, evaluation, "alarm", day=DAY, run_id="r", champion_version="v1", links=AlertLinks())
    enqueue(store, config, alert)
    return alert


def pending(store, config) -> list[str]:
    return [o.uri.rsplit("-", 1)[1] for o in store.list(outbox_prefix(PipelineLayout(config)))]


def test_alert_notifiers_builds_one_notifier_per_configured_channel(config) -> None:
    from imbalance_notifiers import EmailAlertNotifier, SlackAlertNotifier, WebhookAlertNotifier, alert_notifiers

    notifiers = alert_notifiers(config)
    assert [type(n) for n in notifiers] == [EmailAlertNotifier, SlackAlertNotifier, WebhookAlertNotifier]
    assert [n.conn_id for n in notifiers] == ["test_smtp", "test_slack", "test_hook"]
    assert notifiers[0].to == ["ops@example.com"]
    assert {n.aws_conn_id for n in notifiers} == {"imbalance_s3"}


def test_notifier_for_an_unconfigured_channel_is_refused(make_config) -> None:
    from imbalance_notifiers import SlackAlertNotifier, alert_notifiers

    config = make_config()
    assert alert_notifiers(config) == []
    with pytest.raises(ValueError, match=rf"{config.name}: alerts\.slack is not configured"):
        SlackAlertNotifier(config=config)


def test_email_notifier_sends_through_the_smtp_connection(config, queued, store, smtp_receiver, monkeypatch) -> None:
    from imbalance_notifiers import EmailAlertNotifier

    extra = {"from_email": "airflow@example.com", "disable_ssl": True, "disable_tls": True}
    connection(monkeypatch, "test_smtp", conn_type="smtp", host="127.0.0.1", port=smtp_receiver.port, extra=extra)
    report = EmailAlertNotifier(config=config).notify({})
    assert report.sent == [f"email:{queued.id}"]
    (msg,) = smtp_receiver.messages
    assert (msg["From"], msg["To"]) == ("airflow@example.com", "ops@example.com")
    assert smtp_receiver.alert(0) == queued.to_json_dict()
    assert sorted(pending(store, config)) == ["slack.json", "webhook.json"]


def test_slack_notifier_builds_the_webhook_url_from_host_and_token(config, queued, http_receiver, monkeypatch) -> None:
    from imbalance_notifiers import SlackAlertNotifier

    host = f"127.0.0.1:{http_receiver.port}/services"
    connection(monkeypatch, "test_slack", conn_type="slackwebhook", host=host, schema="http", password="T0/B0/XYZ")
    SlackAlertNotifier(config=config).notify({})
    (post,) = http_receiver.posts
    assert post["path"] == "/services/T0/B0/XYZ"
    assert "recall_floor alarm" in post["json"]["text"]


def test_slack_notifier_takes_a_whole_url_in_the_password(config, queued, http_receiver, monkeypatch) -> None:
    from imbalance_notifiers import SlackAlertNotifier

    connection(monkeypatch, "test_slack", conn_type="slackwebhook", password=http_receiver.url("/full/url"))
    SlackAlertNotifier(config=config).notify({})
    assert [p["path"] for p in http_receiver.posts] == ["/full/url"]


def test_webhook_notifier_posts_the_payload_with_token_and_headers(config, queued, http_receiver, monkeypatch) -> None:
    from imbalance_notifiers import WebhookAlertNotifier

    extra = {"endpoint": "/alerts", "headers": {"X-Team": "ml"}}
    fields = {"conn_type": "http", "host": "127.0.0.1", "port": http_receiver.port, "schema": "http"}
    connection(monkeypatch, "test_hook", **fields, password="tok", extra=extra)
    WebhookAlertNotifier(config=config).notify({})
    (post,) = http_receiver.posts
    assert (post["path"], post["json"]) == ("/alerts", queued.to_json_dict())
    assert (post["headers"]["Authorization"], post["headers"]["X-Team"]) == ("Bearer tok", "ml")


def test_notifier_with_its_channel_down_keeps_the_alert_and_does_not_raise(
    config, queued, store, dead_port, monkeypatch
) -> None:
    from imbalance_notifiers import WebhookAlertNotifier

    connection(monkeypatch, "test_hook", conn_type="http", host=f"http://127.0.0.1:{dead_port}")
    report = WebhookAlertNotifier(config=config).notify({})
    assert [(f.channel, f.attempts) for f in report.failed] == [("webhook", 2)]
    assert "webhook.json" in pending(store, config)


def test_notifier_called_as_a_task_callback_renders_and_delivers(config, queued, http_receiver, monkeypatch) -> None:
    from imbalance_notifiers import WebhookAlertNotifier

    connection(monkeypatch, "test_hook", conn_type="http", host=http_receiver.url(""))
    WebhookAlertNotifier(config=config, conn_id="{{ params.hook }}")({"params": {"hook": "test_hook"}})
    assert [p["json"]["id"] for p in http_receiver.posts] == [queued.id]
