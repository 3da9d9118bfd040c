"""From rule evaluations to alerts: dedup through the rule state, build the payload, queue it per channel."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from urllib.parse import quote

from imbalance_jobs.alerts._model import Alert, AlertLinks, Kind, RuleEvaluation
from imbalance_jobs.alerts._outbox import enqueue
from imbalance_jobs.alerts._rules import severity_for
from imbalance_jobs.alerts._state import RuleState, update_rule_state
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.storage import ObjectStore
from imbalance_jobs.summary import Summary

__all__ = ["RuleOutcome", "build_alert", "console_url", "raise_alerts"]


class RuleOutcome(Summary):
    """A rule after this evaluation: whether it is active, the alert sent today (by this or an earlier run of
    the same day) and the alert this call raised, with the outbox entries it was queued under."""

    evaluation: RuleEvaluation
    active: bool
    sent_today: Kind | None
    alert: Alert | None = None
    outbox: list[str] = []


def console_url(uri: str, template: str) -> str:
    """A console URL for an ``s3://bucket/key`` URI (placeholders ``{bucket}``, ``{key}``, ``{key_b64}``, ``{uri}``).

    Examples
    --------
    >>> console_url("s3://models/a b.json", "http://console/{bucket}?prefix={key}")
    'http://console/models?prefix=a%20b.json'
    """
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return template.format(
        bucket=quote(bucket, safe=""),
        key=quote(key, safe="/"),
        key_b64=quote(base64.b64encode(key.encode()).decode(), safe=""),
        uri=uri,
    )


def _with_console(links: AlertLinks, template: str | None) -> AlertLinks:
    if not template:
        return links
    uris = links.model_dump(exclude={"console"}, exclude_none=True)
    return links.model_copy(update={"console": {name: console_url(uri, template) for name, uri in uris.items()}})


def build_alert(
    config: PipelineConfig,
    evaluation: RuleEvaluation,
    kind: Kind,
    *,
    day: dt.date,
    run_id: str,
    champion_version: str | None,
    links: AlertLinks,
    breached_by: str | None = None,
) -> Alert:
    """The payload for one rule transition (``kind``), with console links when ``alerts.console_url`` is set.

    A recovery names the champion that breached when another one serves now: the figures are the new one's.
    """
    text = evaluation.message
    if kind == "recovery":
        replaced = breached_by and breached_by != champion_version
        text = (
            f"recovered: champion {breached_by}, which breached, was replaced by {champion_version}; {text}"
            if replaced
            else f"recovered: {text}"
        )
    return Alert(
        id=f"{config.name}:{evaluation.rule}:{day.isoformat()}:{kind}",
        pipeline=config.name,
        rule=evaluation.rule,
        kind=kind,
        severity=severity_for(config, evaluation.rule),  # a recovery reaches the channels its alarm reached
        metric=evaluation.metric,
        observed=evaluation.observed,
        threshold=evaluation.threshold,
        ci=evaluation.ci,
        champion_version=champion_version,
        run_id=run_id,
        day=day,
        links=_with_console(links, config.alerts.console_url),
        message=f"{config.name}: {text}",
        details=evaluation.details,
        created_at=dt.datetime.now(dt.UTC),
    )


def raise_alerts(
    store: ObjectStore,
    config: PipelineConfig,
    evaluations: Sequence[RuleEvaluation],
    *,
    day: dt.date,
    run_id: str,
    champion_version: str | None,
    links: AlertLinks,
) -> list[RuleOutcome]:
    """Move each rule's state for ``day``; queue an alert for every transition that fires (see ``step``)."""
    layout, outcomes = PipelineLayout(config), []
    for evaluation in evaluations:
        raised: dict = {}

        def fire(kind: Kind, new: RuleState, evaluation: RuleEvaluation = evaluation, raised: dict = raised) -> None:
            alert = build_alert(
                config,
                evaluation,
                kind,
                day=day,
                run_id=run_id,
                champion_version=champion_version,
                links=links,
                breached_by=new.base_breached_by,
            )
            raised.update(alert=alert, outbox=enqueue(store, config, alert))

        state, _ = update_rule_state(
            store, layout, evaluation, day, run_id=run_id, on_fire=fire, champion_version=champion_version
        )
        sent_today = state.sent if state.last_day == day else None
        outcomes.append(RuleOutcome(evaluation=evaluation, active=state.active, sent_today=sent_today, **raised))
    return outcomes
