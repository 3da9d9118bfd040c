"""Inside a running task: the object store from the Airflow connection, the ``RunContext`` of the run, and the
task's native-thread budget.

Connections are read only here, at run time, never at parse time. The connection named by
``config.airflow.aws_conn_id`` is an ``aws`` connection as the Amazon provider defines it: login and password are
the access key pair (empty: boto3's own chain, e.g. an instance role), ``extra.endpoint_url`` points at MinIO or
another S3-compatible server (``extra.service_config.s3.endpoint_url`` is honoured too), ``extra.region_name``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.storage import ObjectStore, StorageSettings

if TYPE_CHECKING:
    from imbalance_jobs.thread_budget import ThreadBudget

__all__ = ["MissingConnection", "parallel_tasks", "run_context", "stage_threads", "storage_settings"]


class MissingConnection(LookupError):
    """The object-store connection a pipeline names is not defined in Airflow."""


def storage_settings(conn_id: str) -> StorageSettings:
    """Object-store settings from an Airflow ``aws`` connection."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as exc:
        raise MissingConnection(
            f"Airflow connection '{conn_id}' (config airflow.aws_conn_id) is not defined; define it in the UI or as "
            f'AIRFLOW_CONN_{conn_id.upper()}=\'{{"conn_type": "aws", "login": "<key id>", '
            f'"password": "<secret>", "extra": {{"endpoint_url": "http://host:9000"}}}}\''
        ) from exc
    extra: dict[str, Any] = conn.extra_dejson or {}
    endpoint = extra.get("endpoint_url") or extra.get("service_config", {}).get("s3", {}).get("endpoint_url")
    return StorageSettings(
        endpoint_url=endpoint or None,
        access_key_id=conn.login or None,
        secret_access_key=conn.password or None,
        region_name=extra.get("region_name") or "us-east-1",
    )


def run_context(config: PipelineConfig, spec: dict[str, Any]) -> RunContext:
    """Rebuild the run's context from the spec the ``prepare`` task returned."""
    options = dict(spec["options"])
    if options.get("candidates") is not None:
        options["candidates"] = tuple(options["candidates"])
    return RunContext(
        config=config,
        run_id=spec["run_id"],
        run_date=dt.date.fromisoformat(spec["run_date"]),
        store=ObjectStore(storage_settings(config.airflow.aws_conn_id)),
        options=RunOptions(**options),
    )


PARALLEL_SECTION, PARALLEL_KEY = "imbalance_jobs", "parallel_tasks"


def parallel_tasks(executor: str, get: Any) -> tuple[int, str]:
    """How many tasks may run beside this one on its machine, and why: ``[imbalance_jobs] parallel_tasks`` when
    set, else the executor's slots per machine (Celery: ``[celery] worker_concurrency``; Kubernetes: 1, a pod per
    task; Local and others: ``[core] parallelism``). ``get(section, key)`` reads Airflow's config (None: unset).
    """
    explicit = get(PARALLEL_SECTION, PARALLEL_KEY)
    if explicit:
        return int(explicit), f"[{PARALLEL_SECTION}] {PARALLEL_KEY}"
    name = executor.split(",")[0].strip().rsplit(".", 1)[-1] or "LocalExecutor"
    if "Celery" in name:
        return int(get("celery", "worker_concurrency") or 16), f"{name}: [celery] worker_concurrency"
    if "Kubernetes" in name:
        return 1, f"{name}: one task per pod"
    return int(get("core", "parallelism") or 32), f"{name}: [core] parallelism"


@contextlib.contextmanager
def stage_threads(stage: str) -> Iterator[ThreadBudget]:
    """Run a heavy stage within this task's share of the cores (``imbalance_jobs.thread_budget``); the slots
    come from Airflow's config, which only this layer reads. ``IMBALANCE_PARALLEL_TASKS`` on the worker wins."""
    from airflow.sdk import conf

    from imbalance_jobs.thread_budget import PARALLEL_ENV, task_budget
    from imbalance_jobs.thread_budget import stage_threads as within

    def get(section: str, key: str) -> str | None:
        return conf.get(section, key, fallback=None) or None

    if os.environ.get(PARALLEL_ENV, "").strip():
        budget = task_budget()
    else:
        slots, why = parallel_tasks(get("core", "executor") or "", get)
        budget = task_budget(slots, parallel_from=why)
    with within(stage, budget):
        yield budget
