"""Event rules: data validation failed, a run failed after retries, a candidate rejected while the champion is
below its recall floor, a candidate dropped because it failed to train. Each is judged from what the run left in the object store and goes through the same
dedup and outbox as the recall rules (one alert per rule per day, a recovery when it clears)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from imbalance_jobs.alerts._model import AlertCI, AlertLinks, RuleEvaluation
from imbalance_jobs.alerts._raise import RuleOutcome, raise_alerts
from imbalance_jobs.context import RunContext
from imbalance_jobs.publishing import read_champion

__all__ = ["candidate_evaluation", "report_run_failure", "report_run_outcome", "validation_evaluation"]

_NOT_PROMOTED = ("reject", "insufficient_evidence")


def validation_evaluation(ctx: RunContext) -> RuleEvaluation | None:
    """``validation_failed`` judged from this run's stored validation report; ``None`` when it has none."""
    uri = ctx.staging_uri("validation", "report.json")
    if not ctx.store.exists(uri):
        return None
    report = ctx.store.get_json(uri)
    failures = list(report.get("failures", []))
    if report.get("success"):
        message = f"the data of {ctx.run_date} passed validation ({report.get('rows')} rows)"
        return RuleEvaluation(rule="validation_failed", status="ok", message=message, observed=0.0)
    shown = "; ".join(failures[:5]) + (f"; and {len(failures) - 5} more" if len(failures) > 5 else "")
    return RuleEvaluation(
        rule="validation_failed",
        status="breach",
        message=f"the data of {ctx.run_date} failed {len(failures)} critical expectation(s): {shown}",
        metric="failed_expectations",
        observed=float(len(failures)),
        threshold=0.0,
        details={"failures": failures, "rows": report.get("rows"), "label_counts": report.get("label_counts")},
    )


def _links(ctx: RunContext, **extra: str | None) -> AlertLinks:
    validation = ctx.staging_uri("validation", "report.html")
    record = ctx.layout.monitoring_uri(ctx.run_date)
    return AlertLinks(
        validation_report=validation if ctx.store.exists(validation) else None,
        monitor_record=record if ctx.store.exists(record) else None,
        **extra,
    )


def _raise(ctx: RunContext, evaluations: list[RuleEvaluation], links: AlertLinks) -> list[RuleOutcome]:
    champion = read_champion(ctx.store, ctx.layout)
    return raise_alerts(
        ctx.store,
        ctx.config,
        evaluations,
        day=ctx.run_date,
        run_id=ctx.run_id,
        champion_version=champion.version if champion else None,
        links=links,
    )


def report_run_failure(ctx: RunContext, *, failed_tasks: Sequence[str], error: str | None = None) -> list[RuleOutcome]:
    """A run failed after its retries: ``validation_failed`` when its data failed validation, else ``run_failed``.

    Call it once the failure is final (the DAG's failure watcher, the CLI after a failed run).
    """
    validation = validation_evaluation(ctx)
    if validation is not None and validation.status == "breach":
        return _raise(ctx, [validation], _links(ctx))
    tasks = ", ".join(failed_tasks) or "(unknown)"
    evaluation = RuleEvaluation(
        rule="run_failed",
        status="breach",
        message=f"run {ctx.run_id} for {ctx.run_date} failed after retries in: {tasks}"
        + (f" ({error})" if error else ""),
        metric="failed_tasks",
        observed=float(len(failed_tasks)),
        details={"failed_tasks": list(failed_tasks), "error": error},
    )
    return _raise(ctx, [evaluation], _links(ctx))


def report_run_outcome(ctx: RunContext, *, decision: str, promoted: bool) -> list[RuleOutcome]:
    """A run finished: ``run_failed`` (and ``validation_failed``) clear; ``rejected_below_floor`` is judged from
    the verdict's decision and this day's monitor record (the champion's raw recall-floor condition)."""
    evaluations = [
        RuleEvaluation(rule="run_failed", status="ok", message=f"run {ctx.run_id} for {ctx.run_date} completed")
    ]
    validation = validation_evaluation(ctx)
    if validation is not None:
        evaluations.append(validation)
    rejected = _rejected_below_floor(ctx, decision, promoted)
    if rejected is not None:
        evaluations.append(rejected)
    dropped = candidate_evaluation(ctx)
    if dropped is not None:
        evaluations.append(dropped)
    return _raise(ctx, evaluations, _links(ctx, verdict=_verdict_uri(ctx)))


def candidate_evaluation(ctx: RunContext) -> RuleEvaluation | None:
    """``candidate_failed`` from this run's stored candidate results; ``None`` when no candidate was trained.

    A dropped candidate never fails the run (the others go on), so without this nobody hears that, say, a
    ``model_params`` typo has kept a candidate out of every choice since it was added.
    """
    results = [
        ctx.store.get_json(o.uri)
        for o in ctx.store.list(ctx.staging_uri("candidates") + "/")
        if o.uri.endswith("/result.json")
    ]
    if not results:
        return None
    failed = [r for r in results if r.get("status") == "failed"]
    base: dict[str, Any] = {"rule": "candidate_failed", "metric": "failed_candidates", "observed": float(len(failed))}
    if not failed:
        return RuleEvaluation(status="ok", message=f"all {len(results)} candidate(s) trained", **base)
    errors = "; ".join(f"{r['name']}: {r.get('error')}" for r in failed)
    message = f"{len(failed)} of {len(results)} candidate(s) failed and were left out of the choice: {errors}"
    return RuleEvaluation(status="breach", message=message, details={"failed": [r["name"] for r in failed]}, **base)


def _verdict_uri(ctx: RunContext) -> str | None:
    uri = ctx.staging_uri("verdict.json")
    return uri if ctx.store.exists(uri) else None


def _rejected_below_floor(ctx: RunContext, decision: str, promoted: bool) -> RuleEvaluation | None:
    if ctx.options.dry_run:
        return None
    floor = _floor_condition(ctx)
    base: dict[str, Any] = {"rule": "rejected_below_floor", "details": {"decision": decision}}
    if promoted or decision not in _NOT_PROMOTED:
        return RuleEvaluation(status="ok", message=f"a new champion was promoted ({decision})", **base)
    if floor is None or floor.get("raw_status") not in ("ok", "breach"):
        return RuleEvaluation(
            status="insufficient_evidence", message="no judged monitor record for the champion today", **base
        )
    figures = {k: floor.get(k) for k in ("metric", "observed", "threshold")}
    ci = AlertCI.model_validate(floor.get("ci") or {})
    if floor["raw_status"] == "ok":
        return RuleEvaluation(status="ok", message="the champion is above its recall floor", ci=ci, **figures, **base)
    message = (
        f"the candidate was not promoted ({decision}) while the champion's recall {figures['observed']:.3f} is "
        f"below its floor {figures['threshold']:.3f}; the failing champion stays in place"
    )
    return RuleEvaluation(status="breach", message=message, ci=ci, **figures, **base)


def _floor_condition(ctx: RunContext) -> dict[str, Any] | None:
    uri = ctx.layout.monitoring_uri(ctx.run_date)
    if not ctx.store.exists(uri):
        return None
    rules = ctx.store.get_json(uri).get("rules", [])
    return next((r["evaluation"] for r in rules if r.get("evaluation", {}).get("rule") == "recall_floor"), None)
