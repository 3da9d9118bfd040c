"""Build the retraining DAG of one pipeline config.

Shape (each arrow passes a small JSON summary, never data)::

    prepare -> ingest -> validate -> monitor
                                 -> split -> train[candidate] (+ train_gpu[candidate]) -> select -> evaluate
      -> decide -> publish | record_rejection -> report (after monitor too)
    every task but report -> alert_on_failure (trigger rule one_failed; report stays a leaf for the run state)

monitor, report and alert_on_failure carry the pipeline's alert notifiers (on_success_callback): each delivers
whatever those tasks queued in the pipeline's outbox, plus anything an earlier run could not deliver.

Training is mapped, one task instance per candidate, labelled with the candidate's name; torch candidates run
in ``train_gpu`` on the config's GPU queue and pool. Branching happens after the map is reduced by ``select``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Label, get_current_context, task
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule
from imbalance_links import PublishedVersionLink, ValidationReportLink, VerdictLink
from imbalance_notifiers import alert_notifiers

from imbalance_dags import tasks
from imbalance_dags.assets import champion_asset, champion_event_extra
from imbalance_dags.discovery import dag_id_for
from imbalance_dags.docs import render_doc
from imbalance_dags.params import trigger_params
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.errors import ImbalanceJobsError, StorageError

__all__ = ["START_DATE", "build_dag"]

START_DATE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
# Object-store hiccups are worth a retry; bad data, bad config or a lost promotion race are not.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception=StorageError, action=RetryAction.RETRY, reason="object store unavailable; backing off"),
        RetryRule(exception=ImbalanceJobsError, action=RetryAction.FAIL, reason="not transient: retrying cannot help"),
    ]
)


def build_dag(config: PipelineConfig, *, source: Path) -> DAG:
    """One DAG per config: its schedule, catchup off, one active run, a run timeout, the trigger form."""
    first_line = (config.description.strip().splitlines() or [f"Retrain the {config.name} classifier"])[0]
    with DAG(
        dag_id=dag_id_for(config),
        description=first_line[:200],
        doc_md=render_doc(config, source),
        schedule=config.schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=dt.timedelta(minutes=config.airflow.run_timeout_minutes),
        tags=sorted({*config.airflow.tags, "imbalance-jobs"}),
        params=trigger_params(config),
        default_args={"owner": config.airflow.owner, "retries": 0},
    ) as dag:
        _wire(config)
        _watch(config, [t for t in dag.tasks if t.task_id != tasks.REPORT_TASK])
    return dag


def io_arguments(config: PipelineConfig) -> dict[str, Any]:
    """Retries with exponential backoff for tasks that talk to the object store."""
    delay = dt.timedelta(minutes=config.airflow.retry_delay_minutes)
    return {
        "retries": config.airflow.retries,
        "retry_delay": delay,
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": max(delay, dt.timedelta(minutes=30)),
        "retry_policy": RETRY_POLICY,
    }


def _wire(config: PipelineConfig) -> None:
    io = io_arguments(config)

    @task(task_id="prepare")
    def prepare() -> dict[str, Any]:
        return tasks.prepare(config, get_current_context())

    @task(task_id="ingest", **io)
    def ingest(spec: dict[str, Any]) -> dict[str, Any]:
        return tasks.ingest(config, spec)

    @task(task_id="validate", **io)
    def validate(spec: dict[str, Any], ingested: dict[str, Any]) -> dict[str, Any]:
        return tasks.validate(config, spec, ingested, get_current_context()["ti"])

    @task(task_id="split", **io)
    def split(spec: dict[str, Any], ingested: dict[str, Any]) -> dict[str, Any]:
        return tasks.split(config, spec, ingested)

    @task(task_id=tasks.MONITOR_TASK, on_success_callback=alert_notifiers(config), **io)
    def monitor(spec: dict[str, Any]) -> dict[str, Any]:
        return tasks.monitor(config, spec)

    spec = prepare()
    ingested = ingest(spec)
    validated = validate(spec, ingested)
    validated.operator.operator_extra_links = (ValidationReportLink(),)
    watched = monitor(spec)
    splits = split(spec, ingested)
    validated >> [watched, splits]
    results = _train(config, spec, splits, io)
    _decide(config, spec, splits, results, io, watched)


def _train(config: PipelineConfig, spec: Any, splits: Any, io: dict[str, Any]) -> Any:
    """Map over candidate names (literal lists: the UI shows every candidate, unpicked ones as skipped)."""

    @task(task_id="train", map_index_template="{{ task.op_kwargs['candidate'] }}", **io)
    def train(spec: dict[str, Any], splits: dict[str, Any], candidate: str) -> dict[str, Any]:
        return tasks.train(config, spec, splits, candidate)

    cpu = [c.name for c in config.training.candidates if not c.is_torch]
    gpu = [c.name for c in config.training.candidates if c.is_torch]
    mapped = []
    if cpu:
        mapped.append(train.partial(spec=spec, splits=splits).expand(candidate=cpu))
    if gpu:
        on_gpu = train.override(task_id="train_gpu", queue=config.airflow.gpu_queue, pool=config.airflow.gpu_pool)
        mapped.append(on_gpu.partial(spec=spec, splits=splits).expand(candidate=gpu))
    return mapped[0].concat(*mapped[1:]) if len(mapped) > 1 else mapped[0]


def _decide(config: PipelineConfig, spec: Any, splits: Any, results: Any, io: dict[str, Any], watched: Any) -> None:
    @task(task_id="select", trigger_rule="none_failed_min_one_success", **io)
    def select(spec: dict[str, Any], splits: dict[str, Any], results: list[dict[str, Any]]) -> dict[str, Any]:
        return tasks.select(config, spec, splits, list(results))

    @task(task_id="evaluate", **io)
    def evaluate(spec: dict[str, Any], selection: dict[str, Any], splits: dict[str, Any]) -> dict[str, Any]:
        return tasks.evaluate(config, spec, selection, splits)

    @task.branch(task_id="decide")
    def decide(spec: dict[str, Any], evaluation: dict[str, Any]) -> str:
        return tasks.choose_branch(spec, evaluation)

    champion = champion_asset(config)

    @task(**io)
    def publish(spec: dict[str, Any], evaluation: dict[str, Any]) -> dict[str, Any]:
        context = get_current_context()
        summary = tasks.publish(config, spec, evaluation, context["ti"])
        if summary.get("promoted"):  # only the promote branch has the champion asset as its outlet
            context["outlet_events"][champion].extra = champion_event_extra(summary)
        return summary

    @task(
        task_id=tasks.REPORT_TASK,
        trigger_rule="none_failed_min_one_success",
        on_success_callback=alert_notifiers(config),
        **io,
    )
    def report(spec: dict[str, Any]) -> dict[str, Any]:
        return tasks.report(config, spec, get_current_context()["ti"])

    evaluation = evaluate(spec, select(spec, splits, results), splits)
    evaluation.operator.operator_extra_links = (VerdictLink(),)
    branch = decide(spec, evaluation)
    published = publish.override(task_id=tasks.PUBLISH_TASK, outlets=[champion])(spec, evaluation)
    published.operator.operator_extra_links = (PublishedVersionLink(),)
    rejected = publish.override(task_id=tasks.REJECT_TASK)(spec, evaluation)
    branch >> Label("promote") >> published
    branch >> Label("reject, insufficient evidence or dry run") >> rejected
    [published, rejected, watched] >> report(spec)


def _watch(config: PipelineConfig, pipeline_tasks: list[Any]) -> None:
    """A watcher downstream of every pipeline task: runs only when one failed, so the alert path is reached.

    ``report`` stays a leaf (not upstream of the watcher) so that a failed or upstream-failed run is marked
    failed: Airflow derives the run state from its leaves, and the watcher itself succeeds.
    """

    @task(task_id="alert_on_failure", trigger_rule="one_failed", on_success_callback=alert_notifiers(config))
    def alert_on_failure() -> dict[str, Any]:
        return tasks.alert_on_failure(config, get_current_context())

    pipeline_tasks >> alert_on_failure()
