"""The monitor stage: the champion on the newest labeled partition, compared with its promotion and the past."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING

from imbalance_jobs.alerts import AlertCI, AlertLinks, RuleOutcome, raise_alerts, validation_evaluation
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import IngestError
from imbalance_jobs.monitoring._figures import champion_figures, promotion_figures
from imbalance_jobs.monitoring._record import MonitorRecord, MonitorSummary
from imbalance_jobs.monitoring._rules import evaluate_recall_rules
from imbalance_jobs.monitoring._trend import previous_records, trend
from imbalance_jobs.publishing import read_champion

if TYPE_CHECKING:
    import pandas as pd

    from imbalance_jobs.scoring import DeployedModel

__all__ = ["monitor", "read_fresh_partition"]

log = logging.getLogger(__name__)


def read_fresh_partition(ctx: RunContext) -> tuple[pd.DataFrame, list[str]] | None:
    """The run date's partition alone (lookback 1), read exactly as ingest reads it; ``None`` when it has no file."""
    from imbalance_jobs.ingest import list_partitions, read_snapshot

    try:
        list_partitions(ctx.store, ctx.config, ctx.run_date, 1)
    except IngestError:  # raised only when the partition holds no data file
        return None
    newest = dataclasses.replace(ctx, options=dataclasses.replace(ctx.options, lookback_days=1))
    frame, objects = read_snapshot(newest)
    return frame, [o.uri for o in objects]


def monitor(ctx: RunContext) -> MonitorSummary:
    """Stage: judge the champion on the run date's partition, write ``monitoring/<day>.json``, raise alerts.

    Runs before any training, so it sees the champion that served the day. No champion: a ``no_champion``
    record, no alarm. Re-running a day overwrites its record and sends nothing already sent that day. Alerts are
    queued in the outbox; delivering them is the caller's step (``imbalance_jobs.alerts.deliver_pending``).
    """
    config, day = ctx.config, ctx.run_date
    if not config.monitoring.enabled:
        return _summary(ctx, MonitorRecord(**_head(ctx), status="disabled", note="monitoring.enabled is false"), None)
    champion = read_champion(ctx.store, ctx.layout)
    history = previous_records(ctx.store, ctx.layout, day, config.monitoring.history_days)
    record = MonitorRecord(**_head(ctx), status="no_champion", previous=trend(history), note="no champion yet")
    if champion is not None:
        record = _judge(ctx, champion.version, history, record)
    record = record.model_copy(update={"rules": _raise(ctx, record)})
    uri = ctx.layout.monitoring_uri(day)
    ctx.store.put_json(uri, record.to_json_dict())
    return _summary(ctx, record, uri)


def _head(ctx: RunContext) -> dict:
    return {
        "pipeline": ctx.config.name,
        "day": ctx.run_date,
        "run_id": ctx.run_id,
        "created_at": dt.datetime.now(dt.UTC),
    }


def _judge(ctx: RunContext, version: str, history: list[MonitorRecord], record: MonitorRecord) -> MonitorRecord:
    from imbalance_jobs.scoring import DeployedModel

    fresh = read_fresh_partition(ctx)
    promotion = promotion_figures(ctx.store, ctx.layout, version)
    figures, seen_note = None, ""
    if fresh is not None and len(fresh[0]):
        model = DeployedModel.load(ctx.store, ctx.layout.version_prefix(version))
        rows, seen_note = _rows_the_champion_never_saw(ctx, version, model, fresh[0])
        figures = champion_figures(model, rows, ctx.config) if len(rows) else None
    evaluations = evaluate_recall_rules(
        ctx.config, figures, promotion, day=ctx.run_date, champion_version=version, history=history
    )
    # an inconclusive rule is no alarm: the day is ok unless a rule breached or could not be judged
    statuses = {
        "ok" if e.status == "inconclusive" else e.status for e in evaluations if e.rule != "insufficient_evidence"
    }
    status = "no_data" if fresh is None else next(s for s in ("breach", "insufficient_evidence", "ok") if s in statuses)
    recall = figures.recall.point if figures else None
    same = [p for p in record.previous if p.champion_version == version and p.recall is not None]
    return record.model_copy(
        update={
            "status": status,
            "champion_version": version,
            "data_objects": fresh[1] if fresh else [],
            "figures": figures,
            "promotion": promotion,
            "recall_vs_promotion": _delta(recall, promotion.recall if promotion else None),
            "recall_vs_previous": _delta(recall, same[0].recall if same else None),
            "rules": [RuleOutcome(evaluation=e, active=False, sent_today=None) for e in evaluations],
            "note": seen_note if fresh else f"no data files in the partition of {ctx.run_date}",
        }
    )


def _rows_the_champion_never_saw(
    ctx: RunContext, version: str, model: DeployedModel, frame: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """The fresh rows to judge the champion on: all of them, unless its training window reached this day.

    A champion promoted by a run whose window held today's partition (a re-run, a backfill) fit or calibrated on
    some of these rows; only those its split contract kept out of its reach are judged, and the record says so.
    """
    from imbalance_jobs.split_contract import SplitSpec, rows_unseen_by

    snapshot = model.description.get("snapshot") or {}
    if "run_date" not in snapshot:
        return frame, ""
    end = dt.date.fromisoformat(snapshot["run_date"])
    if not end - dt.timedelta(days=int(snapshot.get("lookback_days", 1)) - 1) <= ctx.run_date <= end:
        return frame, ""
    uri = ctx.layout.version_uri(version, "split_spec.json")
    spec = SplitSpec.model_validate(ctx.store.get_json(uri)) if ctx.store.exists(uri) else None
    unseen = rows_unseen_by(spec, frame, version=version)
    if unseen.mask is None:
        return frame.iloc[:0], f"{ctx.run_date} was in champion {version}'s training window: {unseen.reason}"
    note = (
        f"{ctx.run_date} was in champion {version}'s training window; judged on the rows it never saw: {unseen.reason}"
    )
    return frame[unseen.mask].reset_index(drop=True), note


def _delta(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def _raise(ctx: RunContext, record: MonitorRecord) -> list[RuleOutcome]:
    """Alerts for the recall rules, plus ``validation_failed`` when this run has a validation report."""
    evaluations = [o.evaluation for o in record.rules]
    validation = validation_evaluation(ctx)
    if validation is not None:
        evaluations.append(validation)
    links = AlertLinks(
        monitor_record=ctx.layout.monitoring_uri(ctx.run_date),
        validation_report=ctx.staging_uri("validation", "report.html") if validation is not None else None,
    )
    return raise_alerts(
        ctx.store,
        ctx.config,
        evaluations,
        day=ctx.run_date,
        run_id=ctx.run_id,
        champion_version=record.champion_version,
        links=links,
    )


def _summary(ctx: RunContext, record: MonitorRecord, uri: str | None) -> MonitorSummary:
    figures = record.figures
    alerts = [o.alert for o in record.rules if o.alert is not None]
    return MonitorSummary(
        pipeline=record.pipeline,
        day=record.day,
        run_id=record.run_id,
        status=record.status,
        record_uri=uri,
        champion_version=record.champion_version,
        rows=figures.rows if figures else 0,
        positives=figures.positives if figures else 0,
        recall=figures.recall.point if figures else None,
        recall_ci=AlertCI(low=figures.recall.low, high=figures.recall.high, confidence=figures.recall.confidence)
        if figures
        else AlertCI(),
        promotion_recall=record.promotion.recall if record.promotion else None,
        rules={o.evaluation.rule: o.evaluation.status for o in record.rules},
        alerts=alerts,
        outbox=[uri for o in record.rules for uri in o.outbox],
        note=record.note,
    )
