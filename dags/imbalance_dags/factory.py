"""Build the retraining DAG of one pipeline config.

Shape (each arrow passes a small JSON summary, never data)::

    prepare -> ingest -> validate -> monitor
                                 -> split -> train[candidate] (+ train_gpu[candidate]) -> select -> evaluate
      -> decide -> publish | record_rejection -> report (after monitor too)

monitor and report carry the pipeline's alert notifiers (on_success_callback): each delivers whatever those tasks
queued in the pipeline's outbox, plus anything an earlier run could not deliver. Every task's on_failure_callback
raises ``validation_failed`` / ``run_failed`` and delivers it (no watcher task wired from every task).

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
        default_args={
            "owner": config.airflow.owner,
            "retries": 0,
            "on_failure_callback": tasks.failure_callback(config, alert_notifiers(config)),
        },
    ) as dag:
        _wire(config)
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


def _pulled(task_id: str) -> dict[str, Any]:
    """An earlier task's summary, pulled rather than passed: passing the run spec from ``prepare`` to every task
    would draw an edge from ``prepare`` to each of them; pulled, the graph shows the pipeline's own order only."""
    return get_current_context()["ti"].xcom_pull(task_ids=task_id)


def _wire(config: PipelineConfig) -> None:
    io = io_arguments(config)

    @task(task_id="prepare")
    def prepare() -> dict[str, Any]:
        return tasks.prepare(config, get_current_context())

    @task(task_id="ingest", **io)
    def ingest() -> dict[str, Any]:
        return tasks.ingest(config, _pulled("prepare"))

    @task(task_id="validate", **io)
    def validate(ingested: dict[str, Any]) -> dict[str, Any]:
        return tasks.validate(config, _pulled("prepare"), ingested, get_current_context()["ti"])

    @task(task_id="split", **io)
    def split() -> dict[str, Any]:
        return tasks.split(config, _pulled("prepare"), _pulled("ingest"))

    @task(task_id=tasks.MONITOR_TASK, on_success_callback=alert_notifiers(config), **io)
    def monitor() -> dict[str, Any]:
        return tasks.monitor(config, _pulled("prepare"))

    validated = validate(prepare() >> ingest())
    validated.operator.operator_extra_links = (ValidationReportLink(),)
    watched, splits = monitor(), split()
    validated >> [watched, splits]
    _decide(config, _train(config, splits, io), io, watched)


def _train(config: PipelineConfig, splits: Any, io: dict[str, Any]) -> Any:
    """Map over candidate names (literal lists: the UI shows every candidate, unpicked ones as skipped)."""

    @task(task_id="train", map_index_template="{{ task.op_kwargs['candidate'] }}", **io)
    def train(splits: dict[str, Any], candidate: str) -> dict[str, Any]:
        return tasks.train(config, _pulled("prepare"), splits, candidate)

    cpu = [c.name for c in config.training.candidates if not c.is_torch]
    gpu = [c.name for c in config.training.candidates if c.is_torch]
    mapped = []
    if cpu:
        mapped.append(train.partial(splits=splits).expand(candidate=cpu))
    if gpu:
        on_gpu = train.override(task_id="train_gpu", queue=config.airflow.gpu_queue, pool=config.airflow.gpu_pool)
        mapped.append(on_gpu.partial(splits=splits).expand(candidate=gpu))
    return mapped[0].concat(*mapped[1:]) if len(mapped) > 1 else mapped[0]


def _decide(config: PipelineConfig, results: Any, io: dict[str, Any], watched: Any) -> None:
    @task(task_id="select", trigger_rule="none_failed_min_one_success", **io)
    def select(results: list[dict[str, Any]]) -> dict[str, Any]:
        return tasks.select(config, _pulled("prepare"), _pulled("split"), list(results))

    @task(task_id="evaluate", **io)
    def evaluate(selection: dict[str, Any]) -> dict[str, Any]:
        return tasks.evaluate(config, _pulled("prepare"), selection, _pulled("split"))

    @task.branch(task_id="decide")
    def decide(evaluation: dict[str, Any]) -> str:
        return tasks.choose_branch(_pulled("prepare"), evaluation)

    champion = champion_asset(config)

    @task(**io)
    def publish() -> dict[str, Any]:
        context = get_current_context()
        summary = tasks.publish(config, _pulled("prepare"), _pulled("evaluate"), context["ti"])
        if summary.get("promoted"):  # only the promote branch has the champion asset as its outlet
            context["outlet_events"][champion].extra = champion_event_extra(summary)
        return summary

    @task(
        task_id=tasks.REPORT_TASK,
        trigger_rule="none_failed_min_one_success",
        on_success_callback=alert_notifiers(config),
        **io,
    )
    def report() -> dict[str, Any]:
        return tasks.report(config, _pulled("prepare"), get_current_context()["ti"])

    evaluation = evaluate(select(results))
    evaluation.operator.operator_extra_links = (VerdictLink(),)
    branch = decide(evaluation)
    published = publish.override(task_id=tasks.PUBLISH_TASK, outlets=[champion])()
    published.operator.operator_extra_links = (PublishedVersionLink(),)
    rejected = publish.override(task_id=tasks.REJECT_TASK)()
    branch >> Label("promote") >> published
    branch >> Label("reject, insufficient evidence or dry run") >> rejected
    [published, rejected, watched] >> report()
