"""The dedup state machine: fire once, stay quiet, recover once; one alert per rule per day; replays and backfills."""

from __future__ import annotations

import datetime as dt

import pytest

from imbalance_jobs.alerts import RuleState, step
from tests.alerts.builders import DAY, evaluation

NEXT = DAY + dt.timedelta(days=1)


def run_days(rule: str, statuses: list[str]) -> list[str | None]:
    state, kinds = RuleState(rule=rule), []
    for k, status in enumerate(statuses):
        state, kind = step(state, evaluation(rule, status), DAY + dt.timedelta(days=k), run_id=f"r{k}")
        kinds.append(kind)
    return kinds


def test_step_fires_an_alarm_when_a_rule_starts_breaching() -> None:
    assert run_days("recall_floor", ["ok", "breach"]) == [None, "alarm"]


def test_step_stays_quiet_while_an_episode_rule_keeps_breaching() -> None:
    assert run_days("recall_floor", ["breach", "breach", "breach"]) == ["alarm", None, None]


def test_step_sends_one_recovery_when_the_rule_clears() -> None:
    assert run_days("recall_floor", ["breach", "ok", "ok"]) == ["alarm", "recovery", None]


def test_step_repeats_a_daily_rule_once_per_day() -> None:
    assert run_days("run_failed", ["breach", "breach", "ok"]) == ["alarm", "alarm", "recovery"]


def test_step_notice_rule_sends_notices_and_no_recovery() -> None:
    assert run_days("insufficient_evidence", ["breach", "breach", "ok"]) == ["notice", "notice", None]


def test_step_keeps_the_state_on_insufficient_evidence() -> None:
    kinds = run_days("recall_floor", ["breach", "insufficient_evidence", "breach", "ok"])
    assert kinds == ["alarm", None, None, "recovery"]


@pytest.mark.parametrize("second", ["breach", "ok"])
def test_step_replaying_a_day_sends_nothing_new(second: str) -> None:
    state, first = step(RuleState(rule="recall_floor"), evaluation(status="breach"), DAY, run_id="a")
    replayed, kind = step(state, evaluation(status=second), DAY, run_id="b")
    assert (first, kind) == ("alarm", None)
    assert replayed.sent == "alarm"
    assert replayed.active is (second == "breach")


def test_step_replay_then_next_day_continues_from_the_replayed_state() -> None:
    state, _ = step(RuleState(rule="recall_floor"), evaluation(status="breach"), DAY, run_id="a")
    state, _ = step(state, evaluation(status="breach"), DAY, run_id="b")
    _, kind = step(state, evaluation(status="ok"), NEXT, run_id="c")
    assert kind == "recovery"


def test_step_ignores_a_day_older_than_the_last_one_seen() -> None:
    state, _ = step(RuleState(rule="recall_floor"), evaluation(status="ok"), NEXT, run_id="a")
    after, kind = step(state, evaluation(status="breach"), DAY, run_id="b")
    assert kind is None
    assert after is state


def test_step_records_when_the_breach_started() -> None:
    state, _ = step(RuleState(rule="recall_floor"), evaluation(status="breach"), DAY, run_id="a")
    state, _ = step(state, evaluation(status="breach"), NEXT, run_id="b")
    assert (state.active, state.since, state.last_day) == (True, DAY, NEXT)
