"""Deduplication and recovery: one small state object per pipeline and rule, updated by conditional writes.

A rule fires when it starts breaching (``episode`` rules stay quiet while the breach lasts; ``daily`` rules fire
once per day), and sends one recovery when it clears. At most one alert per rule per day: re-running a day
replays the transition from the state *before* that day, so a re-run sends nothing new, and a day older than
the last one seen never changes the state (a backfill writes its record but alerts nobody).
"""

from __future__ import annotations

import datetime as dt
import json
import logging

from imbalance_jobs.alerts._model import Kind, RuleEvaluation
from imbalance_jobs.alerts._rules import RuleSpec, rule_spec
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import StorageError
from imbalance_jobs.storage import ConditionalWriteFailed, ObjectStore
from imbalance_jobs.summary import Summary

__all__ = ["RuleState", "read_rule_state", "step", "update_rule_state"]

log = logging.getLogger(__name__)
_WRITE_TRIES = 4


class RuleState(Summary):
    """``active``: the rule is breaching and its alarm went out. ``base_*``: the state before ``last_day`` was
    applied, so that day can be replayed; ``sent``: the alert kind sent for ``last_day``, if any."""

    rule: str
    active: bool = False
    since: dt.date | None = None
    last_day: dt.date | None = None
    last_status: str | None = None
    base_active: bool = False
    base_since: dt.date | None = None
    sent: Kind | None = None
    run_id: str | None = None
    updated_at: dt.datetime | None = None
    breached_by: str | None = None
    """The champion that was serving when the breach began (kept while active), for the recovery message."""
    base_breached_by: str | None = None


def step(
    state: RuleState, evaluation: RuleEvaluation, day: dt.date, *, run_id: str, champion_version: str | None = None
) -> tuple[RuleState, Kind | None]:
    """The next state of a rule and the alert to send (``None``: stay quiet). Pure; see the module docstring."""
    spec = rule_spec(evaluation.rule)
    if state.last_day is not None and day < state.last_day:
        return state, None
    replay = state.last_day == day
    active, since, breached_by = (
        (state.base_active, state.base_since, state.base_breached_by)
        if replay
        else (state.active, state.since, state.breached_by)
    )
    sent_before = state.sent if replay else None
    new_active, new_since, kind = _transition(spec, evaluation.status, active, since, day)
    if sent_before is not None:
        kind = None  # one alert per rule per day
    return (
        RuleState(
            rule=spec.name,
            active=new_active,
            since=new_since,
            last_day=day,
            last_status=evaluation.status,
            base_active=active,
            base_since=since,
            sent=sent_before or kind,
            run_id=run_id,
            updated_at=dt.datetime.now(dt.UTC),
            breached_by=(breached_by if active else champion_version) if new_active else None,
            base_breached_by=breached_by,
        ),
        kind,
    )


def _transition(
    spec: RuleSpec, status: str, active: bool, since: dt.date | None, day: dt.date
) -> tuple[bool, dt.date | None, Kind | None]:
    if status == "breach":
        fire = not active or spec.repeat == "daily"
        return True, since if active else day, spec.raises if fire else None
    if status == "ok":
        return False, None, ("recovery" if active and spec.recovery else None)
    return active, since, None  # insufficient evidence: nothing learned, nothing changes


def read_rule_state(store: ObjectStore, layout: PipelineLayout, rule: str) -> tuple[RuleState, str | None]:
    """The stored state of a rule and its ETag (a fresh state and ``None`` before the first evaluation)."""
    uri = layout.alert_state_uri(rule)
    found = store.get_with_etag(uri)
    if found is None:
        return RuleState(rule=rule), None
    raw, etag = found
    try:
        return RuleState.model_validate(json.loads(raw)), etag
    except ValueError as exc:
        raise StorageError(f"{uri}: alert state is unreadable ({exc}); delete it to start the rule afresh") from exc


def update_rule_state(
    store: ObjectStore,
    layout: PipelineLayout,
    evaluation: RuleEvaluation,
    day: dt.date,
    *,
    run_id: str,
    on_fire,
    champion_version: str | None = None,
) -> tuple[RuleState, Kind | None]:
    """Apply :func:`step` with a conditional write, retried when another run changed the state meanwhile.

    ``on_fire(kind, state)`` (``state``: the new state) is called before the state is written (it queues the alert), so a crash in between can
    only repeat a queued alert under the same outbox key, never lose one.
    """
    uri = layout.alert_state_uri(evaluation.rule)
    for _ in range(_WRITE_TRIES):
        state, etag = read_rule_state(store, layout, evaluation.rule)
        new, kind = step(state, evaluation, day, run_id=run_id, champion_version=champion_version)
        if new is state:
            log.info("%s: %s is older than the last day seen (%s); state unchanged", uri, day, state.last_day)
            return state, None
        if kind is not None:
            on_fire(kind, new)
        try:
            if etag is None:
                store.put_json(uri, new.to_json_dict(), if_none_match=True)
            else:
                store.put_json(uri, new.to_json_dict(), if_match=etag)
        except ConditionalWriteFailed:
            continue
        return new, kind
    raise StorageError(f"{uri}: alert state kept changing under {_WRITE_TRIES} attempts to update it")
