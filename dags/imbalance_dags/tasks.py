"""Task bodies: each one rebuilds the run's context and makes one call into ``imbalance_jobs``.

They take and return small JSON only (URIs, counts, metrics). Stage modules are imported inside the bodies so
that parsing a DAG file never loads pandas, scikit-learn, torch or Great Expectations. The stages that fit or
score models run within the task's share of the cores (:func:`imbalance_dags.runtime.stage_threads`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk.exceptions import AirflowSkipException

from imbalance_dags.params import RunConfError, run_spec
from imbalance_dags.runtime import run_context, stage_threads
from imbalance_jobs.config import PipelineConfig

__all__ = [
    "REPORT_URI_KEY",
    "VERSION_URI_KEY",
    "alert_on_failure",
    "choose_branch",
    "evaluate",
    "failure_callback",
    "ingest",
    "monitor",
    "prepare",
    "publish",
    "report",
    "select",
    "split",
    "train",
    "validate",
]

REPORT_URI_KEY = "validation_report_uri"
VERSION_URI_KEY = "published_version_uri"
PUBLISH_TASK = "publish"
REJECT_TASK = "record_rejection"
MONITOR_TASK = "monitor"
REPORT_TASK = "report"
CONF_ERROR_KEY = "conf_error"


def prepare(config: PipelineConfig, context: Any) -> dict[str, Any]:
    """Reject unknown or inconsistent conf; fix the run's data date and options for every later task."""
    dag_run = context["dag_run"]
    when = context.get("logical_date") or dag_run.run_after
    user = getattr(dag_run, "triggering_user_name", None)
    kind = getattr(dag_run.run_type, "value", dag_run.run_type)  # "scheduled", not "DagRunType.SCHEDULED"
    try:
        return run_spec(
            config,
            conf=dag_run.conf or {},
            run_id=context["run_id"],
            default_date=when.astimezone(dt.UTC).date(),
            triggered_by=f"airflow:{user or kind}",
        )
    except RunConfError as exc:  # kept for the run's note; the failure callback does not page for it
        context["ti"].xcom_push(key=CONF_ERROR_KEY, value=str(exc))
        raise


def ingest(config: PipelineConfig, spec: dict[str, Any]) -> dict[str, Any]:
    from imbalance_jobs.ingest import ingest as stage

    return stage(run_context(config, spec)).to_json_dict()


def validate(config: PipelineConfig, spec: dict[str, Any], ingested: dict[str, Any], ti: Any) -> dict[str, Any]:
    """Publishes the report location first, so the extra link works when validation fails too."""
    from imbalance_jobs.validation import validate as stage

    ctx = run_context(config, spec)
    ti.xcom_push(key=REPORT_URI_KEY, value=ctx.staging_uri("validation", "report.html"))
    return stage(ctx, ingested["data_uri"]).to_json_dict()


def split(config: PipelineConfig, spec: dict[str, Any], ingested: dict[str, Any]) -> dict[str, Any]:
    from imbalance_jobs.split import split as stage

    return stage(run_context(config, spec), ingested["data_uri"]).to_json_dict()


def train(config: PipelineConfig, spec: dict[str, Any], splits: dict[str, Any], candidate: str) -> dict[str, Any]:
    """One candidate; skipped (not failed) when the run's conf picked other candidates."""
    chosen = spec["options"]["candidates"]
    if chosen is not None and candidate not in chosen:
        raise AirflowSkipException(f"candidate '{candidate}' was not picked for this run (picked: {chosen})")
    from imbalance_jobs.training import train_candidate

    ctx = run_context(config, spec)
    with stage_threads("train"):
        result = train_candidate(ctx, candidate, splits["train_uri"], validation_uri=splits["validation_uri"])
    return result.to_json_dict()


def select(
    config: PipelineConfig, spec: dict[str, Any], splits: dict[str, Any], results: list[dict[str, Any]]
) -> dict[str, Any]:
    from imbalance_jobs.selection import select as stage
    from imbalance_jobs.training import CandidateResult

    trained = [CandidateResult.model_validate(r) for r in results if r is not None]
    with stage_threads("select"):
        return stage(run_context(config, spec), trained, splits["validation_uri"]).to_json_dict()


def evaluate(
    config: PipelineConfig, spec: dict[str, Any], selection: dict[str, Any], splits: dict[str, Any]
) -> dict[str, Any]:
    from imbalance_jobs.scorecard import evaluate as stage
    from imbalance_jobs.selection import SelectionSummary

    chosen = SelectionSummary.model_validate(selection)
    with stage_threads("evaluate"):
        summary = stage(run_context(config, spec), chosen, splits["test_uri"])
    import logging

    logging.getLogger(__name__).info("verdict: %s", summary.summary)  # the log's last line says what was decided
    return summary.to_json_dict()


def choose_branch(spec: dict[str, Any], evaluation: dict[str, Any]) -> str:
    """Publish only a promote verdict outside a dry run; anything else is recorded as a rejection."""
    promote = evaluation["decision"] == "promote" and not spec["options"]["dry_run"]
    return PUBLISH_TASK if promote else REJECT_TASK


def publish(config: PipelineConfig, spec: dict[str, Any], evaluation: dict[str, Any], ti: Any) -> dict[str, Any]:
    """Publish + move the champion (promote branch), or write ``rejection.json`` (the other branch)."""
    from imbalance_jobs.publishing import publish as stage

    summary = stage(run_context(config, spec), evaluation["verdict_uri"])
    if summary.version_uri:
        ti.xcom_push(key=VERSION_URI_KEY, value=summary.version_uri)
    return summary.to_json_dict()


def monitor(config: PipelineConfig, spec: dict[str, Any]) -> dict[str, Any]:
    """The champion on the run date's fresh partition; alerts are queued for the notifiers on this task."""
    from imbalance_jobs.monitoring import monitor as stage

    with stage_threads("monitor"):
        return stage(run_context(config, spec)).to_json_dict()


def report(config: PipelineConfig, spec: dict[str, Any], ti: Any) -> dict[str, Any]:
    """The run's outcome in one record; clears ``run_failed`` and judges ``rejected_below_floor``."""
    from imbalance_jobs.alerts import report_run_outcome

    outcome = ti.xcom_pull(task_ids=PUBLISH_TASK) or ti.xcom_pull(task_ids=REJECT_TASK) or {}
    outcomes = report_run_outcome(
        run_context(config, spec), decision=outcome.get("decision") or "", promoted=bool(outcome.get("promoted"))
    )
    return {
        "pipeline": spec["pipeline"],
        "run_id": spec["run_id"],
        "decision": outcome.get("decision"),
        "promoted": bool(outcome.get("promoted")),
        "version": outcome.get("version"),
        "note": outcome.get("note"),
        "alerts": [o.alert.id for o in outcomes if o.alert],
    }


def alert_on_failure(config: PipelineConfig, context: Any) -> dict[str, Any]:
    """A task of the run failed after its retries: raises ``validation_failed`` or ``run_failed``.

    Called from that task's ``on_failure_callback`` (see :func:`failure_callback`), so the failing task counts
    even before its own state is stored.
    """
    from imbalance_jobs.alerts import report_run_failure

    ti, dag_run = context["ti"], context["dag_run"]
    states = ti.get_task_states(dag_id=dag_run.dag_id, run_ids=[dag_run.run_id]).get(dag_run.run_id, {})
    failed = sorted({ti.task_id, *(task for task, state in states.items() if state == "failed")})
    spec = ti.xcom_pull(task_ids="prepare") or _fallback_spec(config, context)
    outcomes = report_run_failure(run_context(config, spec), failed_tasks=failed)
    return {
        "dag_id": dag_run.dag_id,
        "run_id": dag_run.run_id,
        "failed_tasks": failed,
        "alerts": [o.alert.id for o in outcomes if o.alert],
    }


def failure_callback(config: PipelineConfig, notifiers: list[Any]) -> Any:
    """The ``on_failure_callback`` of every task: queue the failure alert, then deliver it on each channel.

    A callback instead of a watcher task downstream of every task: the graph keeps its shape (no fan-in of a
    dozen edges) and only the task that really failed reports, not the ones skipped as upstream-failed.
    """
    import logging

    def on_failure(context: Any) -> None:
        if isinstance(context.get("exception"), RunConfError):
            logging.getLogger(__name__).warning("trigger conf refused, nobody paged: %s", context["exception"])
            return  # a mistake in the trigger form, for the person who triggered: not a run_failed page
        outcome = alert_on_failure(config, context)
        logging.getLogger(__name__).warning("run failed at %s; alerts %s", outcome["failed_tasks"], outcome["alerts"])
        for notifier in notifiers:
            notifier(context)  # a notifier logs its own delivery problems and never raises

    return on_failure


def _fallback_spec(config: PipelineConfig, context: Any) -> dict[str, Any]:
    """When ``prepare`` itself failed: the run's id and date, default options."""
    dag_run = context["dag_run"]
    when = context.get("logical_date") or dag_run.run_after
    return run_spec(
        config, conf={}, run_id=context["run_id"], default_date=when.astimezone(dt.UTC).date(), triggered_by="airflow"
    )
