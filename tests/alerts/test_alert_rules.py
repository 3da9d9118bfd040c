"""The rule registry: names equal the config's, severities resolve override > rule default > monitoring.severity."""

from __future__ import annotations

import pytest

from imbalance_jobs.alerts import RULES, rule_spec, severity_for
from imbalance_jobs.config._schema import ALERT_RULES
from tests.alerts.builders import config_of


def test_rules_registry_equals_the_config_rule_names() -> None:
    assert tuple(RULES) == ALERT_RULES


def test_rule_spec_unknown_name_lists_the_rules() -> None:
    with pytest.raises(KeyError, match=r"unknown alert rule 'recal_floor'; rules are: recall_floor, recall_drop"):
        rule_spec("recal_floor")


def test_severity_for_recall_rules_follows_monitoring_severity() -> None:
    config = config_of(monitoring={"severity": "warning"})
    assert severity_for(config, "recall_floor") == "warning"
    assert severity_for(config, "recall_drop") == "warning"


def test_severity_for_event_rules_uses_their_default() -> None:
    config = config_of()
    assert severity_for(config, "insufficient_evidence") == "info"
    assert severity_for(config, "run_failed") == "critical"


def test_severity_for_prefers_the_alerts_override() -> None:
    config = config_of(monitoring={"severity": "warning"}, alerts={"severities": {"recall_floor": "critical"}})
    assert severity_for(config, "recall_floor") == "critical"
