"""Senders against real local receivers: what arrives, and how a channel that is down is retried and reported."""

from __future__ import annotations

import pytest

from imbalance_jobs.alerts import (
    DeliveryError,
    EmailSender,
    SlackSender,
    SmtpSettings,
    WebhookSender,
    send_with_retries,
    senders_from_env,
)
from tests.alerts.builders import alert, config_of


@pytest.fixture
def an_alert():
    return alert(config_of())


def test_email_sender_delivers_subject_text_and_json_payload(smtp_receiver, an_alert) -> None:
    settings = SmtpSettings.from_url(smtp_receiver.url)
    EmailSender(settings, to=("ops@example.com", "ml@example.com")).send(an_alert)
    (msg,) = smtp_receiver.messages
    assert msg["Subject"] == "[CRITICAL] fraud_test: recall_floor alarm (2026-11-28)"
    assert msg["From"] == "alerts@example.com"
    assert msg["To"] == "ops@example.com, ml@example.com"
    assert msg["X-Imbalance-Alert-Id"] == an_alert.id
    body = msg.get_body(preferencelist=("plain",)).get_content()
    assert "recall: 0.12 (CI 0.05-0.2); threshold 0.3" in body
    assert an_alert.links.monitor_record in body
    assert smtp_receiver.alert(0) == an_alert.to_json_dict()


def test_slack_sender_posts_the_headline_and_figures(http_receiver, an_alert) -> None:
    SlackSender(http_receiver.url("/slack")).send(an_alert)
    (body,) = http_receiver.bodies("/slack")
    assert set(body) == {"text"}
    assert ":rotating_light: *[CRITICAL] fraud_test: recall_floor alarm (2026-11-28)*" in body["text"]
    assert "champion: v1; run: run-1" in body["text"]


def test_webhook_sender_posts_the_payload_with_its_headers(http_receiver, an_alert) -> None:
    WebhookSender(http_receiver.url("/hook"), headers={"Authorization": "Bearer s3cret"}).send(an_alert)
    (post,) = http_receiver.posts
    assert post["json"] == an_alert.to_json_dict()
    assert post["headers"]["Authorization"] == "Bearer s3cret"
    assert post["headers"]["Content-Type"] == "application/json"


def test_webhook_sender_treats_an_error_status_as_not_delivered(http_receiver, an_alert) -> None:
    http_receiver.status = 503
    with pytest.raises(DeliveryError, match=r"webhook http://127\.0\.0\.1:\d+/\.\.\.: answered HTTP 503"):
        WebhookSender(http_receiver.url("/secret-path")).send(an_alert)


def test_email_sender_reports_a_server_that_is_down(dead_port, an_alert) -> None:
    settings = SmtpSettings(host="127.0.0.1", port=dead_port, timeout=2)
    with pytest.raises(DeliveryError, match=rf"smtp 127\.0\.0\.1:{dead_port}: e-mail for fraud_test:recall_floor"):
        EmailSender(settings, to=("ops@example.com",)).send(an_alert)


def test_send_with_retries_backs_off_then_gives_up_without_raising(dead_port, an_alert, caplog) -> None:
    waits: list[float] = []
    sender = WebhookSender(f"http://127.0.0.1:{dead_port}/hook", timeout=2)
    delivered, error, attempts = send_with_retries(sender, an_alert, attempts=3, backoff=0.5, sleep=waits.append)
    assert (delivered, attempts) == (False, 3)
    assert "not reachable" in error
    assert waits == [0.5, 1.0]
    assert sum("attempt" in r.message and "failed" in r.message for r in caplog.records) == 3


def test_send_with_retries_stops_at_the_first_success(http_receiver, an_alert) -> None:
    delivered, error, attempts = send_with_retries(
        WebhookSender(http_receiver.url()), an_alert, attempts=3, backoff=0, sleep=lambda _: None
    )
    assert (delivered, error, attempts) == (True, None, 1)
    assert len(http_receiver.posts) == 1


def test_smtp_settings_from_url_reads_account_sender_and_tls() -> None:
    settings = SmtpSettings.from_url("smtps://bot%40corp:p%3Ass@mail.corp:2465?from=ml@corp.io")
    assert (settings.host, settings.port, settings.use_ssl, settings.starttls) == ("mail.corp", 2465, True, False)
    assert (settings.username, settings.password, settings.sender) == ("bot@corp", "p:ss", "ml@corp.io")
    assert "p:ss" not in repr(settings)


def test_smtp_settings_from_url_refuses_another_scheme_without_echoing_secrets() -> None:
    with pytest.raises(DeliveryError, match=r"SMTP URL 'http://mail/\.\.\.': must be smtp://") as info:
        SmtpSettings.from_url("http://user:hunter2@mail/x")
    assert "hunter2" not in str(info.value)


def test_senders_from_env_builds_the_configured_channels_that_have_settings() -> None:
    config = config_of(alerts={"email": {"to": ["ops@example.com"]}, "webhook": {}, "slack": {}})
    env = {
        "IMBALANCE_SMTP_URL": "smtp://localhost:2525?starttls=true",
        "IMBALANCE_ALERT_WEBHOOK_URL": "http://hooks.local/x",
        "IMBALANCE_ALERT_WEBHOOK_TOKEN": "tok",
    }
    senders, missing = senders_from_env(config, env)
    assert sorted(senders) == ["email", "webhook"]
    assert missing == {"slack": "IMBALANCE_SLACK_WEBHOOK_URL is not set"}
    assert senders["email"].settings.starttls is True
    assert senders["email"].to == ("ops@example.com",)
    assert senders["webhook"].headers == {"Authorization": "Bearer tok"}


def test_senders_from_env_ignores_channels_the_pipeline_does_not_configure() -> None:
    senders, missing = senders_from_env(config_of(), {"IMBALANCE_SLACK_WEBHOOK_URL": "http://x/y"})
    assert (senders, missing) == ({}, {})
