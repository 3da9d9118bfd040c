"""Config errors of the monitoring and alerts sections, as `imbalance-jobs config validate` prints them."""

from __future__ import annotations

import pytest
import yaml

from imbalance_jobs.config import parse_config
from imbalance_jobs.errors import ConfigError
from tests.conftest import BASE_CONFIG, merge


def parse(**overrides) -> object:
    return parse_config(yaml.safe_dump(merge(BASE_CONFIG, overrides), sort_keys=False), source="p.yaml")


def test_alerts_config_defaults_keep_existing_configs_valid() -> None:
    config = parse(monitoring={"recall_floor": 0.3, "severity": "warning"}, alerts={"email": {"to": ["a@b.io"]}})
    assert config.alerts.channels["email"].conn_id == "smtp_default"
    assert config.alerts.channels["email"].min_severity == "info"
    assert list(config.alerts.channels) == ["email"]


def test_alerts_email_to_must_be_addresses() -> None:
    with pytest.raises(ConfigError, match=r"alerts > email > to \(line \d+\): must be e-mail addresses .*\['ops'\]"):
        parse(alerts={"email": {"to": ["ops@example.com", "ops"]}})


def test_alerts_severities_name_known_rules() -> None:
    with pytest.raises(ConfigError, match=r"alerts > severities > recal_floor > \[key\].*'recall_floor'"):
        parse(alerts={"severities": {"recal_floor": "critical"}})


def test_alerts_severity_values_are_levels() -> None:
    with pytest.raises(ConfigError, match=r"alerts > slack > min_severity .*'info', 'warning' or 'critical'"):
        parse(alerts={"slack": {"min_severity": "urgent"}})


def test_alerts_console_url_placeholders_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"alerts > console_url .*unknown placeholder\(s\) \['path'\]"):
        parse(alerts={"console_url": "http://console/{bucket}/{path}"})


def test_alerts_console_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match=r"alerts > console_url .*must be an http:// or https:// URL template"):
        parse(alerts={"console_url": "console/{bucket}"})


def test_monitoring_history_days_is_bounded() -> None:
    with pytest.raises(ConfigError, match=r"monitoring > history_days .*greater than or equal to 1; got 0"):
        parse(monitoring={"history_days": 0})


def test_alerts_delivery_attempts_is_bounded() -> None:
    with pytest.raises(ConfigError, match=r"alerts > delivery_attempts .*less than or equal to 10; got 50"):
        parse(alerts={"delivery_attempts": 50})
