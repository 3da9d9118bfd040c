"""Event rules from what a run left in the object store: validation failure, run failure, rejection below floor."""

from __future__ import annotations

import datetime as dt

import pytest

from imbalance_jobs.alerts import report_run_failure, report_run_outcome, validation_evaluation

pytestmark = pytest.mark.integration
FAILURES = ["min_rows: 120 rows < 200", "min_minority_count: 4 positives < 20"]


def stage_report(ctx, *, success: bool) -> None:
    report = {"success": success, "rows": 120, "failures": [] if success else FAILURES, "label_counts": {"0": 116}}
    ctx.store.put_json(ctx.staging_uri("validation", "report.json"), report)
    ctx.store.put_bytes(ctx.staging_uri("validation", "report.html"), b"<html></html>")


def stage_monitor_record(ctx, raw_status: str) -> None:
    floor = {
        "rule": "recall_floor",
        "status": raw_status,
        "raw_status": raw_status,
        "message": "m",
        "metric": "recall",
        "observed": 0.1,
        "threshold": 0.3,
        "ci": {"low": 0.05, "high": 0.18, "confidence": 0.95},
    }
    record = {"rules": [{"evaluation": floor, "active": raw_status == "breach", "sent_today": None}]}
    ctx.store.put_json(ctx.layout.monitoring_uri(ctx.run_date), record)


@pytest.fixture
def ctx(make_config, make_context):
    return make_context(make_config(alerts={"webhook": {}}), run_id="nightly-1")


def alerts_of(outcomes) -> dict[str, str]:
    return {o.evaluation.rule: o.alert.kind for o in outcomes if o.alert}


def test_validation_evaluation_is_none_without_a_report(ctx) -> None:
    assert validation_evaluation(ctx) is None


def test_report_run_failure_raises_validation_failed_with_the_failures_and_report(ctx) -> None:
    stage_report(ctx, success=False)
    (outcome,) = report_run_failure(ctx, failed_tasks=["validate"])
    sent = outcome.alert
    assert (sent.rule, sent.kind, sent.severity, sent.observed) == ("validation_failed", "alarm", "warning", 2.0)
    assert sent.details["failures"] == FAILURES
    assert "min_rows: 120 rows < 200" in sent.message
    assert sent.links.validation_report == ctx.staging_uri("validation", "report.html")


def test_report_run_failure_raises_run_failed_naming_the_tasks(ctx) -> None:
    (outcome,) = report_run_failure(ctx, failed_tasks=["train[hgb]", "select"], error="boom")
    sent = outcome.alert
    assert (sent.rule, sent.kind, sent.severity, sent.observed) == ("run_failed", "alarm", "critical", 2.0)
    assert sent.details == {"failed_tasks": ["train[hgb]", "select"], "error": "boom"}
    assert "failed after retries in: train[hgb], select (boom)" in sent.message


def test_report_run_failure_twice_on_one_day_alerts_once(ctx) -> None:
    report_run_failure(ctx, failed_tasks=["train"])
    assert alerts_of(report_run_failure(ctx, failed_tasks=["select"])) == {}


def test_report_run_outcome_sends_a_recovery_after_a_failed_run(ctx, make_context) -> None:
    report_run_failure(ctx, failed_tasks=["train"])
    later = make_context(ctx.config, run_id="nightly-2", run_date=ctx.run_date.replace(day=28))
    assert alerts_of(report_run_outcome(later, decision="promote", promoted=True)) == {"run_failed": "recovery"}


def test_report_run_outcome_alarms_when_rejecting_while_the_champion_is_below_floor(ctx) -> None:
    stage_monitor_record(ctx, "breach")
    outcomes = report_run_outcome(ctx, decision="reject", promoted=False)
    (sent,) = [o.alert for o in outcomes if o.alert]
    assert (sent.rule, sent.observed, sent.threshold, sent.ci.low) == ("rejected_below_floor", 0.1, 0.3, 0.05)
    assert sent.links.monitor_record == ctx.layout.monitoring_uri(ctx.run_date)
    assert "not promoted (reject)" in sent.message


@pytest.mark.parametrize(("raw", "decision", "status"), [("ok", "reject", "ok"), ("breach", "promote", "ok")])
def test_report_run_outcome_is_quiet_when_the_champion_is_fine_or_replaced(ctx, raw, decision, status) -> None:
    stage_monitor_record(ctx, raw)
    outcomes = report_run_outcome(ctx, decision=decision, promoted=decision == "promote")
    assert {o.evaluation.rule: o.evaluation.status for o in outcomes}["rejected_below_floor"] == status
    assert alerts_of(outcomes) == {}


def test_report_run_outcome_without_a_monitor_record_cannot_judge_a_rejection(ctx) -> None:
    outcomes = report_run_outcome(ctx, decision="insufficient_evidence", promoted=False)
    assert {o.evaluation.rule: o.evaluation.status for o in outcomes}["rejected_below_floor"] == "insufficient_evidence"


def stage_candidates(ctx, **statuses: str) -> None:
    for name, status in statuses.items():
        result = {"name": name, "status": status, "error": f"candidate '{name}': boom" if status == "failed" else None}
        ctx.store.put_json(ctx.staging_uri("candidates", name, "result.json"), result)


def test_report_run_outcome_alerts_on_a_dropped_candidate_naming_it_and_its_error(ctx) -> None:
    stage_candidates(ctx, hgb="ok", rf_typo="failed")
    outcomes = report_run_outcome(ctx, decision="promote", promoted=True)
    (dropped,) = [o for o in outcomes if o.evaluation.rule == "candidate_failed"]
    assert (dropped.alert.kind, dropped.alert.severity, dropped.alert.observed) == ("alarm", "warning", 1.0)
    assert "1 of 2 candidate(s) failed" in dropped.alert.message
    assert "rf_typo: candidate 'rf_typo': boom" in dropped.alert.message


def test_report_run_outcome_all_candidates_trained_is_ok_and_recovers_the_alarm(make_config, make_context) -> None:
    config = make_config(alerts={"webhook": {}})
    first = make_context(config, run_id="nightly-1")
    stage_candidates(first, hgb="ok", rf_typo="failed")
    report_run_outcome(first, decision="promote", promoted=True)
    second = make_context(config, run_id="nightly-2", run_date=first.run_date + dt.timedelta(days=1))
    stage_candidates(second, hgb="ok", rf_typo="ok")
    outcomes = report_run_outcome(second, decision="reject", promoted=False)
    (dropped,) = [o for o in outcomes if o.evaluation.rule == "candidate_failed"]
    assert dropped.evaluation.status == "ok"
    assert dropped.alert.kind == "recovery"
