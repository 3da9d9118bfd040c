"""raise_alerts on the real S3 server: state per rule, queued alerts, and conditional writes under a race."""

from __future__ import annotations

import datetime as dt

import pytest

from imbalance_jobs.alerts import AlertLinks, outbox_prefix, raise_alerts, read_rule_state, update_rule_state
from imbalance_jobs.context import PipelineLayout
from tests.alerts.builders import DAY, evaluation

pytestmark = pytest.mark.integration
LINKS = AlertLinks(monitor_record="s3://models/x/monitoring/2026-11-28.json")


def raise_on(store, config, day: dt.date, *evaluations, champion: str = "v1"):
    return raise_alerts(store, config, list(evaluations), day=day, run_id="r", champion_version=champion, links=LINKS)


def test_raise_alerts_queues_an_alarm_and_stores_the_rule_state(store, make_config) -> None:
    config = make_config(alerts={"webhook": {}})
    (outcome,) = raise_on(store, config, DAY, evaluation(status="breach"))
    state, etag = read_rule_state(store, PipelineLayout(config), "recall_floor")
    assert (outcome.alert.kind, outcome.sent_today, outcome.active) == ("alarm", "alarm", True)
    assert len(outcome.outbox) == 1
    assert outcome.outbox[0].startswith(outbox_prefix(PipelineLayout(config)))
    assert (state.active, state.since, etag is not None) == (True, DAY, True)


def test_raise_alerts_a_second_run_of_the_day_raises_nothing_but_reports_what_was_sent(store, make_config) -> None:
    config = make_config(alerts={"webhook": {}})
    raise_on(store, config, DAY, evaluation(status="breach"))
    (again,) = raise_on(store, config, DAY, evaluation(status="breach"))
    assert (again.alert, again.sent_today) == (None, "alarm")


def test_raise_alerts_recovers_on_a_later_ok_day(store, make_config) -> None:
    config = make_config(alerts={"webhook": {}})
    raise_on(store, config, DAY, evaluation(status="breach"))
    raise_on(store, config, DAY + dt.timedelta(days=1), evaluation(status="breach"))
    (outcome,) = raise_on(store, config, DAY + dt.timedelta(days=2), evaluation(status="ok"))
    assert outcome.alert.kind == "recovery"
    assert "replaced" not in outcome.alert.message


def test_raise_alerts_recovery_under_a_new_champion_names_the_one_that_breached(store, make_config) -> None:
    config = make_config(alerts={"webhook": {}})
    raise_on(store, config, DAY, evaluation(status="breach"), champion="v1")
    raise_on(store, config, DAY + dt.timedelta(days=1), evaluation(status="breach"), champion="v1")
    (outcome,) = raise_on(store, config, DAY + dt.timedelta(days=2), evaluation(status="ok"), champion="v2")
    assert outcome.alert.kind == "recovery"
    assert "recovered: champion v1, which breached, was replaced by v2;" in outcome.alert.message
    assert outcome.alert.champion_version == "v2"


def test_raise_alerts_inconclusive_day_neither_alarms_nor_recovers(store, make_config) -> None:
    config = make_config(alerts={"webhook": {}})
    raise_on(store, config, DAY, evaluation(status="breach"))
    (outcome,) = raise_on(store, config, DAY + dt.timedelta(days=1), evaluation(status="inconclusive"))
    assert (outcome.alert, outcome.active) == (None, True)


def test_update_rule_state_retries_when_another_run_wrote_the_state_first(store, make_config) -> None:
    config = make_config()
    layout = PipelineLayout(config)
    raise_on(store, config, DAY - dt.timedelta(days=1), evaluation(status="ok"))
    fired = []

    def fire(kind: str, new) -> None:
        fired.append(kind)
        if len(fired) == 1:  # another run moves the state between our read and our write
            store.put_json(layout.alert_state_uri("recall_floor"), {"rule": "recall_floor", "active": False})

    state, kind = update_rule_state(store, layout, evaluation(status="breach"), DAY, run_id="r", on_fire=fire)
    assert fired == ["alarm", "alarm"]
    assert (kind, state.active) == ("alarm", True)
    assert read_rule_state(store, layout, "recall_floor")[0].last_day == DAY
