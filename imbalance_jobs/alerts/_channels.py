"""Channel senders on the standard library: SMTP e-mail, a Slack incoming webhook, a generic JSON webhook.

Senders take resolved settings (the CLI reads them from env, the Airflow notifiers from connections) and raise
:class:`DeliveryError` when a message does not go out; :func:`send_with_retries` retries with a short, bounded
backoff and logs every failed attempt.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from imbalance_jobs.alerts._model import Alert
from imbalance_jobs.errors import ImbalanceJobsError

__all__ = [
    "DeliveryError",
    "EmailSender",
    "Sender",
    "SlackSender",
    "SmtpSettings",
    "WebhookSender",
    "send_with_retries",
]

log = logging.getLogger(__name__)
_MAX_BACKOFF = 30.0
_TRUE = {"1", "true", "yes", "on"}


class DeliveryError(ImbalanceJobsError):
    """A channel did not accept an alert (server down, refused, non-2xx answer)."""


class Sender(Protocol):
    """Anything that can deliver an alert to one channel."""

    channel: str

    def send(self, alert: Alert) -> None: ...


@dataclass(frozen=True)
class SmtpSettings:
    """SMTP server and account; ``use_ssl`` = implicit TLS (port 465), ``starttls`` = upgrade a plain session."""

    host: str
    port: int = 25
    sender: str = "imbalance-jobs@localhost"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_ssl: bool = False
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 10.0) -> SmtpSettings:
        """``smtp://user:pass@host:587?from=alerts@example.com&starttls=true`` (``smtps://`` for implicit TLS)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise DeliveryError(f"SMTP URL {_redact(url)!r}: must be smtp://[user:pass@]host[:port][?from=...]")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ssl_on = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if ssl_on else 25),
            sender=query.get("from", cls.sender),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_ssl=ssl_on,
            starttls=query.get("starttls", "").lower() in _TRUE,
            timeout=timeout,
        )


@dataclass(frozen=True)
class EmailSender:
    """Plain-text e-mail with the alert's JSON attached, to the configured recipients."""

    settings: SmtpSettings
    to: tuple[str, ...]
    channel: str = "email"

    def message(self, alert: Alert) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = alert.subject
        msg["From"] = self.settings.sender
        msg["To"] = ", ".join(self.to)
        msg["X-Imbalance-Alert-Id"] = alert.id
        msg.set_content(alert.text())
        body = json.dumps(alert.to_json_dict(), indent=2, sort_keys=True).encode()
        msg.add_attachment(body, maintype="application", subtype="json", filename="alert.json")
        return msg

    def send(self, alert: Alert) -> None:
        s = self.settings
        where = f"smtp {s.host}:{s.port}"
        try:
            factory = smtplib.SMTP_SSL if s.use_ssl else smtplib.SMTP
            with factory(s.host, s.port, timeout=s.timeout) as smtp:
                if s.starttls and not s.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if s.username:
                    smtp.login(s.username, s.password or "")
                smtp.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where}: e-mail for {alert.id} not accepted ({exc})") from exc


def _post_json(url: str, body: dict, *, headers: dict[str, str], timeout: float, what: str) -> None:
    data = json.dumps(body, sort_keys=True).encode()
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"{what} {_redact(url)}: answered HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"{what} {_redact(url)}: not reachable ({getattr(exc, 'reason', exc)})") from exc


@dataclass(frozen=True)
class SlackSender:
    """A Slack incoming webhook: one message with the headline, the figures and the links."""

    webhook_url: str = field(repr=False)
    timeout: float = 10.0
    channel: str = "slack"

    def payload(self, alert: Alert) -> dict:
        icon = {"alarm": ":rotating_light:", "recovery": ":white_check_mark:", "notice": ":information_source:"}
        return {"text": f"{icon[alert.kind]} *{alert.subject}*\n{alert.text()}"}

    def send(self, alert: Alert) -> None:
        _post_json(self.webhook_url, self.payload(alert), headers={}, timeout=self.timeout, what="slack webhook")


@dataclass(frozen=True)
class WebhookSender:
    """A generic JSON webhook: the alert payload itself (see docs/ARCHITECTURE.md), POSTed as JSON."""

    url: str = field(repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float = 10.0
    channel: str = "webhook"

    def send(self, alert: Alert) -> None:
        _post_json(self.url, alert.to_json_dict(), headers=self.headers, timeout=self.timeout, what="webhook")


def send_with_retries(
    sender: Sender,
    alert: Alert,
    *,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, str | None, int]:
    """Try up to ``attempts`` times, waiting ``backoff * 2**k`` (at most 30 s) between tries; never raises.

    Returns ``(delivered, last error, attempts made)``.
    """
    error = None
    for attempt in range(1, attempts + 1):
        try:
            sender.send(alert)
            return True, None, attempt
        except DeliveryError as exc:
            error = str(exc)
            log.warning(
                "alert %s via %s: attempt %d of %d failed: %s", alert.id, sender.channel, attempt, attempts, exc
            )
        if attempt < attempts:
            sleep(min(backoff * 2 ** (attempt - 1), _MAX_BACKOFF))
    return False, error, attempts


def _redact(url: str) -> str:
    """A URL without credentials or secret paths: Slack webhook paths are the secret, so only the host shows."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{':' + str(parts.port) if parts.port else ''}/..."
