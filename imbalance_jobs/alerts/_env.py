"""Channel settings for the CLI, from environment variables (Airflow uses connections instead).

``IMBALANCE_SMTP_URL``            ``smtp://[user:pass@]host[:port]?from=alerts@example.com[&starttls=true]``
                                  (``smtps://`` for implicit TLS); recipients come from ``alerts.email.to``
``IMBALANCE_SLACK_WEBHOOK_URL``   the Slack incoming-webhook URL
``IMBALANCE_ALERT_WEBHOOK_URL``   the generic JSON webhook URL
``IMBALANCE_ALERT_WEBHOOK_TOKEN`` optional: sent as ``Authorization: Bearer <token>``
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from imbalance_jobs.alerts._channels import EmailSender, Sender, SlackSender, SmtpSettings, WebhookSender
from imbalance_jobs.config import PipelineConfig

__all__ = ["ENV_VARS", "senders_from_env"]

ENV_VARS = {
    "email": "IMBALANCE_SMTP_URL",
    "slack": "IMBALANCE_SLACK_WEBHOOK_URL",
    "webhook": "IMBALANCE_ALERT_WEBHOOK_URL",
}
TOKEN_VAR = "IMBALANCE_ALERT_WEBHOOK_TOKEN"


def senders_from_env(
    config: PipelineConfig, environ: Mapping[str, str] | None = None
) -> tuple[dict[str, Sender], dict[str, str]]:
    """Senders for the pipeline's configured channels whose variable is set, and why the others have none."""
    env = os.environ if environ is None else environ
    timeout = config.alerts.timeout_seconds
    senders: dict[str, Sender] = {}
    missing: dict[str, str] = {}
    for name in config.alerts.channels:
        value = env.get(ENV_VARS[name], "").strip()
        if not value:
            missing[name] = f"{ENV_VARS[name]} is not set"
        elif name == "email":
            to = tuple(config.alerts.email.to)  # type: ignore[union-attr]
            senders[name] = EmailSender(SmtpSettings.from_url(value, timeout=timeout), to=to)
        elif name == "slack":
            senders[name] = SlackSender(value, timeout=timeout)
        else:
            token = env.get(TOKEN_VAR, "").strip()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            senders[name] = WebhookSender(value, headers=headers, timeout=timeout)
    return senders, missing
