"""Airflow notifiers that deliver a pipeline's queued alerts to one channel: e-mail, Slack, a JSON webhook.

The tasks raise alerts through ``imbalance_jobs`` (which queues them in the pipeline's outbox in the object
store); these notifiers, attached to tasks as ``on_success_callback`` (see :func:`alert_notifiers`), send
whatever is queued for their channel with the senders of ``imbalance_jobs.alerts``. Everything secret comes from
Airflow connections, resolved at notify time, never at parse time and never from the pipeline config:

- e-mail: an ``smtp`` connection (``alerts.email.conn_id``, default ``smtp_default``) as the SMTP provider defines
  it: host, port, login, password; extra ``from_email``, ``disable_ssl`` / ``disable_tls`` (both default false:
  implicit TLS, as the provider), ``timeout``. Recipients are ``alerts.email.to``.
- Slack: a ``slackwebhook`` connection (``alerts.slack.conn_id``): password = the webhook token
  (``T000/B000/XXX``) with host ``hooks.slack.com/services``, or the whole webhook URL in password.
- webhook: an ``http`` connection (``alerts.webhook.conn_id``): schema/host/port (host may be a full URL), extra
  ``endpoint`` (path) and ``headers``; a password is sent as ``Authorization: Bearer <password>`` (with a login:
  basic auth).
- the object store: the pipeline's ``airflow.aws_conn_id`` connection (as the DAG tasks use it).

A channel that is down is retried with backoff and logged; its alerts stay queued for the next run. A notifier
never fails a task (Airflow also catches callback errors).
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

from airflow.sdk import BaseHook, BaseNotifier

from imbalance_jobs.alerts import (
    DeliveryReport,
    EmailSender,
    Sender,
    SlackSender,
    SmtpSettings,
    WebhookSender,
    deliver_pending,
)
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.storage import ObjectStore, StorageSettings

__all__ = ["EmailAlertNotifier", "SlackAlertNotifier", "WebhookAlertNotifier", "alert_notifiers"]

_TRUE = (True, "true", "True", "1", 1, "yes")


class _OutboxNotifier(BaseNotifier):
    """Deliver the pipeline's queued alerts for :attr:`channel`; subclasses only build the sender."""

    channel: ClassVar[str] = ""
    template_fields = ("conn_id", "aws_conn_id")

    def __init__(self, *, config: PipelineConfig, conn_id: str | None = None, aws_conn_id: str | None = None):
        super().__init__()
        configured = config.alerts.channels.get(self.channel)
        if configured is None and conn_id is None:
            raise ValueError(f"{config.name}: alerts.{self.channel} is not configured; configure it or pass conn_id")
        self.config = config
        self.conn_id = conn_id or configured.conn_id  # type: ignore[union-attr]
        self.aws_conn_id = aws_conn_id or config.airflow.aws_conn_id

    def sender(self) -> Sender:
        raise NotImplementedError

    def store(self) -> ObjectStore:
        conn = BaseHook.get_connection(self.aws_conn_id)
        extra: dict[str, Any] = conn.extra_dejson or {}
        endpoint = extra.get("endpoint_url") or extra.get("service_config", {}).get("s3", {}).get("endpoint_url")
        return ObjectStore(
            StorageSettings(
                endpoint_url=endpoint or None,
                access_key_id=conn.login or None,
                secret_access_key=conn.password or None,
                region_name=extra.get("region_name") or "us-east-1",
            )
        )

    def notify(self, context: Any) -> DeliveryReport:
        report = deliver_pending(self.store(), self.config, {self.channel: self.sender()})
        self.log.info("%s %s alerts: %d sent %s", self.config.name, self.channel, len(report.sent), report.sent)
        for failed in report.failed:
            self.log.warning("%s: not delivered, kept for the next run: %s", failed.alert_id, failed.error)
        return report


class EmailAlertNotifier(_OutboxNotifier):
    """E-mail through the SMTP connection ``conn_id`` to ``to`` (default ``alerts.email.to``)."""

    channel = "email"
    template_fields = ("conn_id", "aws_conn_id", "to")

    def __init__(
        self,
        *,
        config: PipelineConfig,
        to: list[str] | None = None,
        conn_id: str | None = None,
        aws_conn_id: str | None = None,
    ):
        super().__init__(config=config, conn_id=conn_id, aws_conn_id=aws_conn_id)
        self.to = list(to or (config.alerts.email.to if config.alerts.email else []))

    def sender(self) -> Sender:
        conn = BaseHook.get_connection(self.conn_id)
        extra: dict[str, Any] = conn.extra_dejson or {}
        use_ssl = extra.get("disable_ssl", False) not in _TRUE
        settings = SmtpSettings(
            host=conn.host or "localhost",
            port=int(conn.port or (465 if use_ssl else 25)),
            sender=extra.get("from_email") or SmtpSettings.sender,
            username=conn.login or None,
            password=conn.password or None,
            use_ssl=use_ssl,
            starttls=not use_ssl and extra.get("disable_tls", False) not in _TRUE,
            timeout=float(extra.get("timeout") or self.config.alerts.timeout_seconds),
        )
        return EmailSender(settings, to=tuple(self.to))


class SlackAlertNotifier(_OutboxNotifier):
    """A Slack incoming webhook from the ``slackwebhook`` connection ``conn_id``."""

    channel = "slack"

    def sender(self) -> Sender:
        conn = BaseHook.get_connection(self.conn_id)
        token = (conn.password or "").strip()
        if not token:
            raise ValueError(f"Airflow connection '{self.conn_id}' has no webhook token or URL in its password")
        if "://" in token:
            url = token
        else:
            host = conn.host or "hooks.slack.com/services"
            base = host if "://" in host else f"{conn.schema or 'https'}://{host}"
            url = base.rstrip("/") + "/" + token.lstrip("/")
        return SlackSender(url, timeout=self.config.alerts.timeout_seconds)


class WebhookAlertNotifier(_OutboxNotifier):
    """The alert payload as JSON to the ``http`` connection ``conn_id``."""

    channel = "webhook"

    def sender(self) -> Sender:
        conn = BaseHook.get_connection(self.conn_id)
        extra: dict[str, Any] = conn.extra_dejson or {}
        host = conn.host or ""
        if not host:
            raise ValueError(f"Airflow connection '{self.conn_id}' has no host")
        base = host if "://" in host else f"{conn.schema or 'https'}://{host}" + (f":{conn.port}" if conn.port else "")
        endpoint = str(extra.get("endpoint", "")).lstrip("/")
        headers = {str(k): str(v) for k, v in (extra.get("headers") or {}).items()}
        if conn.password and conn.login:
            pair = base64.b64encode(f"{conn.login}:{conn.password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        elif conn.password:
            headers["Authorization"] = f"Bearer {conn.password}"
        url = base.rstrip("/") + ("/" + endpoint if endpoint else "")
        return WebhookSender(url, headers=headers, timeout=self.config.alerts.timeout_seconds)


_NOTIFIERS: dict[str, type[_OutboxNotifier]] = {
    "email": EmailAlertNotifier,
    "slack": SlackAlertNotifier,
    "webhook": WebhookAlertNotifier,
}


def alert_notifiers(config: PipelineConfig) -> list[_OutboxNotifier]:
    """One notifier per channel the pipeline configures (none when it configures none), for task callbacks."""
    return [_NOTIFIERS[name](config=config) for name in config.alerts.channels]
