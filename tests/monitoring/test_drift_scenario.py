"""The issue's acceptance scenario with a real SMTP server and a real HTTP receiver (Slack and webhook paths).

A champion trained on healthy data meets fresh partitions whose signal drifts: one alarm per channel with the
record's figures, silence while recall stays low, one recovery, a notice (not an alarm) on a thin day, validation
and task failures, and a channel that is down losing nothing.
"""

from __future__ import annotations

import pytest

from imbalance_jobs.alerts import deliver_pending, outbox_prefix, report_run_failure, senders_from_env
from imbalance_jobs.context import PipelineLayout, RunContext, RunOptions
from imbalance_jobs.errors import CandidateError, DataValidationError
from imbalance_jobs.monitoring import MonitorRecord
from imbalance_jobs.pipeline import run_pipeline
from imbalance_jobs.publishing import read_champion
from tests.monitoring.helpers import DRIFT, day, monitor_day, write_day

pytestmark = pytest.mark.integration
CHANNELS = {"email": {"to": ["ops@example.com"]}, "slack": {}, "webhook": {}}


@pytest.fixture
def env(smtp_receiver, http_receiver) -> dict[str, str]:
    return {
        "IMBALANCE_SMTP_URL": smtp_receiver.url,
        "IMBALANCE_SLACK_WEBHOOK_URL": http_receiver.url("/slack"),
        "IMBALANCE_ALERT_WEBHOOK_URL": http_receiver.url("/hook"),
    }


class Inbox:
    """Everything each channel received so far, as (rule, kind) pairs."""

    def __init__(self, smtp, http):
        self.smtp, self.http = smtp, http

    def counts(self) -> tuple[int, int, int]:
        return len(self.smtp.messages), len(self.http.bodies("/slack")), len(self.http.bodies("/hook"))

    def webhook(self) -> list[tuple[str, str]]:
        return [(b["rule"], b["kind"]) for b in self.http.bodies("/hook")]

    def email(self) -> list[tuple[str, str]]:
        return [(self.smtp.alert(k)["rule"], self.smtp.alert(k)["kind"]) for k in range(len(self.smtp.messages))]


def night(store, config, env, offset: int, **spec):
    """One nightly monitor: a fresh partition, the monitor stage, then delivery with the CLI's env settings."""
    write_day(store, config, day(offset), **spec)
    summary = monitor_day(store, config, day(offset))
    return summary, deliver_pending(store, config, senders_from_env(config, env)[0])


def test_drift_fires_once_per_channel_stays_quiet_recovers_and_notices(
    store, pipeline, env, smtp_receiver, http_receiver
) -> None:
    config = pipeline(alerts=CHANNELS)
    inbox = Inbox(smtp_receiver, http_receiver)
    night(store, config, env, 1)
    assert inbox.counts() == (0, 0, 0)

    summary, report = night(store, config, env, 2, drift=DRIFT)
    assert inbox.counts() == (1, 1, 1)
    assert (summary.status, report.failed) == ("breach", [])
    record = MonitorRecord.model_validate(store.get_json(PipelineLayout(config).monitoring_uri(day(2))))
    (payload,) = http_receiver.bodies("/hook")
    assert (payload["rule"], payload["kind"], payload["severity"]) == ("recall_floor", "alarm", "critical")
    assert payload["observed"] == record.figures.recall.point < payload["threshold"] == 0.25
    assert (payload["ci"]["low"], payload["ci"]["high"]) == (record.figures.recall.low, record.figures.recall.high)
    assert payload["champion_version"] == read_champion(store, PipelineLayout(config)).version
    assert (payload["day"], payload["run_id"]) == (day(2).isoformat(), f"monitor-{day(2)}")
    assert payload["links"]["monitor_record"] == PipelineLayout(config).monitoring_uri(day(2))
    assert smtp_receiver.alert(0) == payload
    assert f"{record.figures.recall.point:.4g}" in http_receiver.bodies("/slack")[0]["text"]

    night(store, config, env, 3, drift=DRIFT)
    assert inbox.counts() == (1, 1, 1)

    night(store, config, env, 4)
    assert inbox.counts() == (2, 2, 2)
    assert inbox.webhook()[-1] == inbox.email()[-1] == ("recall_floor", "recovery")

    summary, _ = night(store, config, env, 5, rows=200, positive_rate=0.05, drift=DRIFT)
    assert summary.status == "insufficient_evidence"
    assert inbox.counts() == (3, 3, 3)
    assert inbox.webhook()[-1] == inbox.email()[-1] == ("insufficient_evidence", "notice")
    assert [kind for _, kind in inbox.webhook()] == ["alarm", "recovery", "notice"]


def failed_run(store, config, run_id: str, expected: type[Exception], **options) -> tuple[RunContext, str]:
    ctx = RunContext(config=config, run_id=run_id, run_date=day(6), store=store, options=RunOptions(**options))
    with pytest.raises(expected) as info:
        run_pipeline(ctx)
    return ctx, str(info.value)


def test_validation_failure_alert_arrives_on_every_channel(store, pipeline, env, smtp_receiver, http_receiver) -> None:
    config = pipeline(alerts=CHANNELS)
    write_day(store, config, day(6), rows=120)  # below validation.min_rows
    ctx, _ = failed_run(store, config, "nightly-6", DataValidationError, lookback_days=1)
    report_run_failure(ctx, failed_tasks=["validate"])
    deliver_pending(store, config, senders_from_env(config, env)[0])
    (payload,) = http_receiver.bodies("/hook")
    assert (payload["rule"], payload["kind"], payload["severity"]) == ("validation_failed", "alarm", "warning")
    assert payload["links"]["validation_report"] == ctx.staging_uri("validation", "report.html")
    assert any("120 row(s); fewer than 200 required" in f for f in payload["details"]["failures"])
    assert smtp_receiver.alert(0)["id"] == payload["id"]
    assert "validation_failed alarm" in http_receiver.bodies("/slack")[0]["text"]


def test_task_failure_alert_arrives_on_every_channel(store, pipeline, env, smtp_receiver, http_receiver) -> None:
    config = pipeline(alerts=CHANNELS)
    write_day(store, config, day(6))
    ctx, error = failed_run(store, config, "nightly-7", CandidateError, lookback_days=1, candidates=("missing",))
    report_run_failure(ctx, failed_tasks=["train"], error=error)
    deliver_pending(store, config, senders_from_env(config, env)[0])
    (payload,) = http_receiver.bodies("/hook")
    assert (payload["rule"], payload["kind"], payload["severity"]) == ("run_failed", "alarm", "critical")
    assert payload["details"]["failed_tasks"] == ["train"]
    assert "missing" in payload["message"]
    assert smtp_receiver.alert(0)["id"] == payload["id"]
    assert "run_failed alarm" in http_receiver.bodies("/slack")[0]["text"]


def test_a_channel_that_is_down_loses_nothing_and_is_retried_next_run(
    store, pipeline, env, dead_port, smtp_receiver, http_receiver
) -> None:
    config = pipeline(alerts=CHANNELS)
    down = {**env, "IMBALANCE_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{dead_port}/hook"}
    summary, report = night(store, config, down, 2, drift=DRIFT)
    assert summary.record_uri is not None
    assert store.exists(summary.record_uri)
    assert [(f.channel, f.attempts) for f in report.failed] == [("webhook", 2)]
    assert len(report.sent) == 2
    (kept,) = store.list(outbox_prefix(PipelineLayout(config)))
    assert kept.uri.endswith(f"{day(2)}-recall_floor-alarm-webhook.json")

    summary, report = night(store, config, env, 3, drift=DRIFT)
    assert summary.alerts == []
    assert report.sent == [f"webhook:{config.name}:recall_floor:{day(2)}:alarm"]
    assert [(b["rule"], b["day"]) for b in http_receiver.bodies("/hook")] == [("recall_floor", day(2).isoformat())]
    assert (len(smtp_receiver.messages), len(http_receiver.bodies("/slack"))) == (1, 1)
    assert store.list(outbox_prefix(PipelineLayout(config))) == []
