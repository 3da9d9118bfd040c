"""The alert payload every channel carries, and the outcome of evaluating one rule.

The payload is documented in docs/ARCHITECTURE.md ("Monitoring and alerts") and is what the generic JSON webhook
receives verbatim; e-mail and Slack render the same fields as text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from imbalance_jobs.summary import Summary

__all__ = ["ALERT_FORMAT", "Alert", "AlertCI", "AlertLinks", "Kind", "RuleEvaluation", "Severity", "Status"]

ALERT_FORMAT = "imbalance-jobs/alert@1"
Kind = Literal["alarm", "recovery", "notice"]
Severity = Literal["info", "warning", "critical"]
Status = Literal["ok", "breach", "insufficient_evidence", "inconclusive"]
"""``inconclusive``: the interval straddles the limit; like insufficient evidence, it neither alarms nor recovers."""
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


class AlertCI(Summary):
    """Bootstrap interval of the observed figure (``None`` where the figure has none)."""

    low: float | None = None
    high: float | None = None
    confidence: float | None = None


class AlertLinks(Summary):
    """Object-store URIs of what the alert is about; ``console`` maps the same names to console URLs."""

    monitor_record: str | None = None
    verdict: str | None = None
    validation_report: str | None = None
    console: dict[str, str] = {}


class RuleEvaluation(Summary):
    """One rule judged on one day.

    ``status`` is the rule's verdict; ``raw_status`` is the condition on this day alone (they differ only for
    rules that need several consecutive breaching days, counted in ``streak``).
    """

    rule: str
    status: Status
    message: str
    metric: str | None = None
    observed: float | None = None
    threshold: float | None = None
    ci: AlertCI = AlertCI()
    raw_status: Status | None = None
    streak: int | None = None
    details: dict[str, Any] = {}


class Alert(Summary):
    """One message to send: an alarm when a rule starts breaching, a recovery when it clears, or a notice.

    ``id`` (``pipeline:rule:day:kind``) is stable, so receivers can deduplicate redeliveries.
    """

    format: Literal["imbalance-jobs/alert@1"] = ALERT_FORMAT
    id: str
    pipeline: str
    rule: str
    kind: Kind
    severity: Severity
    metric: str | None
    observed: float | None
    threshold: float | None
    ci: AlertCI
    champion_version: str | None
    run_id: str
    day: dt.date
    links: AlertLinks
    message: str
    details: dict[str, Any] = {}
    created_at: dt.datetime

    @property
    def subject(self) -> str:
        """One line for an e-mail subject or a chat headline."""
        return f"[{self.severity.upper()}] {self.pipeline}: {self.rule} {self.kind} ({self.day.isoformat()})"

    def text(self) -> str:
        """The human-readable body: message, figures, version, run and links."""
        lines = [self.message, ""]
        if self.observed is not None:
            ci = f" (CI {_num(self.ci.low)}-{_num(self.ci.high)})" if self.ci.low is not None else ""
            limit = f"; threshold {_num(self.threshold)}" if self.threshold is not None else ""
            lines.append(f"{self.metric or 'observed'}: {_num(self.observed)}{ci}{limit}")
        lines.append(f"champion: {self.champion_version or '(none)'}; run: {self.run_id}; day: {self.day}")
        for name in ("monitor_record", "verdict", "validation_report"):
            uri = getattr(self.links, name)
            if uri:
                console = self.links.console.get(name)
                lines.append(f"{name.replace('_', ' ')}: {uri}" + (f" ({console})" if console else ""))
        return "\n".join(lines)


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
