"""``imbalance-jobs monitor``: a readable report, JSON for machines, exit 0 on an alarm, env-configured delivery."""

from __future__ import annotations

import json

import pytest
import yaml

from imbalance_jobs.alerts import outbox_prefix
from imbalance_jobs.cli import main
from imbalance_jobs.context import PipelineLayout
from tests.monitoring.helpers import DRIFT, day, write_day

pytestmark = pytest.mark.integration
CHANNELS = {"webhook": {}, "slack": {}}


@pytest.fixture
def cli_env(s3_server, monkeypatch, http_receiver):
    settings = s3_server.settings
    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", settings.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", settings.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", settings.secret_access_key)
    monkeypatch.setenv("IMBALANCE_ALERT_WEBHOOK_URL", http_receiver.url("/hook"))
    monkeypatch.delenv("IMBALANCE_SLACK_WEBHOOK_URL", raising=False)
    return http_receiver


@pytest.fixture
def drifted(store, pipeline, tmp_path):
    config = pipeline(alerts=CHANNELS)
    write_day(store, config, day(1), drift=DRIFT)
    path = tmp_path / f"{config.name}.yaml"
    path.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
    return config, str(path)


def test_monitor_cli_reports_an_alarm_and_exits_zero(cli_env, drifted, capsys) -> None:
    config, path = drifted
    assert main(["monitor", path, "--date", str(day(1)), "--run-id", "cli-1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{config.name} · monitor {day(1)} · champion ")
    assert "· BREACH" in out.splitlines()[0]
    assert "recall_floor           BREACH" in out
    assert "(alarm sent today)" in out
    assert "at promotion" in out
    assert "alerts      recall_floor alarm (critical)" in out
    assert f"delivery    1 sent: webhook:{config.name}:recall_floor:{day(1)}:alarm" in out
    assert "slack: 1 alert(s) waiting (IMBALANCE_SLACK_WEBHOOK_URL is not set)" in out
    assert f"record      {PipelineLayout(config).monitoring_uri(day(1))}" in out
    assert [b["rule"] for b in cli_env.bodies("/hook")] == ["recall_floor"]


def test_monitor_cli_json_holds_the_summary_and_the_delivery(cli_env, drifted, capsys) -> None:
    _, path = drifted
    assert main(["monitor", path, "--date", str(day(1)), "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["monitor"]["status"] == "breach"
    assert body["monitor"]["alerts"][0]["observed"] == body["monitor"]["recall"]
    assert len(body["delivery"]["sent"]) == 1
    assert body["channels_without_settings"] == {"slack": "IMBALANCE_SLACK_WEBHOOK_URL is not set"}


def test_monitor_cli_no_send_keeps_alerts_queued(cli_env, drifted, store, capsys) -> None:
    config, path = drifted
    assert main(["monitor", path, "--date", str(day(1)), "--no-send"]) == 0
    assert "not sent (--no-send)" in capsys.readouterr().out
    assert cli_env.posts == []
    assert len(store.list(outbox_prefix(PipelineLayout(config)))) == 2


def test_monitor_cli_bad_config_is_a_config_error(cli_env, tmp_path, capsys) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\n")
    assert main(["monitor", str(path), "--date", str(day(1))]) == 4
    assert "config problem" in capsys.readouterr().err
