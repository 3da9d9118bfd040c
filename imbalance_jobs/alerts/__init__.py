"""Alerts: rules, deduplication with recovery messages, an outbox, and channel senders (e-mail, Slack, webhook).

Rules are judged into :class:`RuleEvaluation` s (by :mod:`imbalance_jobs.monitoring` for recall, by
:func:`report_run_failure` / :func:`report_run_outcome` for run events). :func:`raise_alerts` moves each rule's
state (one alert per pipeline, rule and day; one recovery when it clears) and queues the resulting
:class:`Alert` s in the outbox per configured channel. :func:`deliver_pending` sends them with the senders the
caller resolved (the CLI from env: :func:`senders_from_env`; Airflow from connections: plugins/imbalance_notifiers).
"""

from imbalance_jobs.alerts._channels import (
    DeliveryError,
    EmailSender,
    Sender,
    SlackSender,
    SmtpSettings,
    WebhookSender,
    send_with_retries,
)
from imbalance_jobs.alerts._env import ENV_VARS, TOKEN_VAR, senders_from_env
from imbalance_jobs.alerts._events import report_run_failure, report_run_outcome, validation_evaluation
from imbalance_jobs.alerts._model import (
    ALERT_FORMAT,
    Alert,
    AlertCI,
    AlertLinks,
    Kind,
    RuleEvaluation,
    Severity,
    Status,
)
from imbalance_jobs.alerts._outbox import (
    DeliveryReport,
    FailedDelivery,
    OutboxEntry,
    deliver_pending,
    enqueue,
    outbox_prefix,
)
from imbalance_jobs.alerts._raise import RuleOutcome, build_alert, console_url, raise_alerts
from imbalance_jobs.alerts._rules import RULES, RuleSpec, rule_spec, severity_for
from imbalance_jobs.alerts._state import RuleState, read_rule_state, step, update_rule_state

__all__ = [
    "ALERT_FORMAT",
    "ENV_VARS",
    "RULES",
    "TOKEN_VAR",
    "Alert",
    "AlertCI",
    "AlertLinks",
    "DeliveryError",
    "DeliveryReport",
    "EmailSender",
    "FailedDelivery",
    "Kind",
    "OutboxEntry",
    "RuleEvaluation",
    "RuleOutcome",
    "RuleSpec",
    "RuleState",
    "Sender",
    "Severity",
    "SlackSender",
    "SmtpSettings",
    "Status",
    "WebhookSender",
    "build_alert",
    "console_url",
    "deliver_pending",
    "enqueue",
    "outbox_prefix",
    "raise_alerts",
    "read_rule_state",
    "report_run_failure",
    "report_run_outcome",
    "rule_spec",
    "send_with_retries",
    "senders_from_env",
    "severity_for",
    "step",
    "update_rule_state",
    "validation_evaluation",
]
