"""The documented alert payload (docs/ARCHITECTURE.md): its fields, and what build_alert puts in them."""

from __future__ import annotations

from imbalance_jobs.alerts import ALERT_FORMAT, AlertLinks, build_alert
from tests.alerts.builders import DAY, alert, config_of, evaluation

DOCUMENTED = {
    "format",
    "id",
    "pipeline",
    "rule",
    "kind",
    "severity",
    "metric",
    "observed",
    "threshold",
    "ci",
    "champion_version",
    "run_id",
    "day",
    "links",
    "message",
    "details",
    "created_at",
}


def test_alert_payload_has_the_documented_fields() -> None:
    body = alert(config_of()).to_json_dict()
    assert set(body) == DOCUMENTED
    assert set(body["ci"]) == {"low", "high", "confidence"}
    assert set(body["links"]) == {"monitor_record", "verdict", "validation_report", "console"}
    assert body["format"] == ALERT_FORMAT
    assert body["day"] == DAY.isoformat()


def test_build_alert_takes_figures_from_the_evaluation() -> None:
    built = alert(config_of(), observed=0.2, threshold=0.35)
    assert (built.observed, built.threshold, built.ci.low, built.ci.high) == (0.2, 0.35, 0.05, 0.2)
    assert built.id == f"fraud_test:recall_floor:{DAY}:alarm"
    assert built.message == "fraud_test: recall_floor is breach"


def test_build_alert_recovery_keeps_the_severity_of_its_alarm() -> None:
    config = config_of(alerts={"severities": {"recall_floor": "warning"}})
    built = alert(config, kind="recovery", status="ok")
    assert (built.kind, built.severity) == ("recovery", "warning")
    assert built.message.startswith("fraud_test: recovered: ")


def test_build_alert_adds_console_links_when_a_console_url_is_configured() -> None:
    config = config_of(alerts={"console_url": "http://console:9001/browser/{bucket}/{key_b64}"})
    links = AlertLinks(monitor_record="s3://models/p/monitoring/2026-11-28.json", verdict=None)
    built = build_alert(config, evaluation(), "alarm", day=DAY, run_id="r", champion_version="v", links=links)
    assert built.links.console == {
        "monitor_record": "http://console:9001/browser/models/cC9tb25pdG9yaW5nLzIwMjYtMTEtMjguanNvbg%3D%3D"
    }


def test_build_alert_has_no_console_links_without_a_console_url() -> None:
    assert alert(config_of()).links.console == {}


def test_alert_text_lists_figures_version_run_and_links() -> None:
    text = alert(config_of()).text()
    assert "recall: 0.12 (CI 0.05-0.2); threshold 0.3" in text
    assert "champion: v1; run: run-1; day: 2026-11-28" in text
    assert "monitor record: s3://models/fraud_test/monitoring/2026-11-28.json" in text
