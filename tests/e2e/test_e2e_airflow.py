"""Real Airflow processes on PostgreSQL: a run triggered through the REST API exactly as the UI does it.

Token from /auth/token, unpause, POST dagRuns with ``logical_date: null`` and conf, wait for the run, then check
the artifacts and the champion in the object store; a second trigger with invalid conf is refused with HTTP 400.
The Celery variant adds a worker on the ``default`` and ``gpu`` queues and a torch candidate routed to ``gpu``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest

from imbalance_jobs.cli._local import seed_pipeline
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.storage import ObjectStore
from tests.dags.pipelines import RUN_DAY, fast_example_config
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.airflow, pytest.mark.integration]
TORCH = {"name": "mlp", "model": "torch_mlp", "model_params": {"hidden_sizes": [16], "max_epochs": 3}}


def pipeline(name: str, store: ObjectStore, **overrides: Any) -> dict[str, Any]:
    """A manual-only copy of the fast example pipeline on fresh buckets, with its data seeded."""
    suffix = name.replace("_", "-")
    buckets = (f"src-{suffix}-{time.time_ns() % 10**8}", f"art-{suffix}-{time.time_ns() % 10**8}")
    for bucket in buckets:
        store.ensure_bucket(bucket)
    data = fast_example_config(*buckets, **overrides) | {"name": name, "schedule": None}
    import datetime as dt

    config = PipelineConfig.model_validate(data)
    seed_pipeline(store, config, end_day=dt.date.fromisoformat(RUN_DAY), days=config.source.lookback_days, rows=400)
    return data


def trigger(stack: Stack, dag_id: str, conf: dict[str, Any]) -> tuple[int, Any]:
    """What the UI's trigger form sends: no logical date, the form's conf."""
    return stack.api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})


def run_through_the_api(stack: Stack, data: dict[str, Any], conf: dict[str, Any]) -> tuple[dict, list[dict]]:
    dag_id = f"retrain_{data['name']}"
    dag = stack.api.wait_for_dag(dag_id)
    assert dag["is_paused"] is True
    status, body = stack.api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    assert status == 200, body
    status, run = trigger(stack, dag_id, conf)
    assert status == 200, run
    assert run["logical_date"] is None
    finished = stack.api.wait_for_run(dag_id, run["dag_run_id"], stack)
    return finished, stack.api.task_instances(dag_id, run["dag_run_id"])


def assert_promoted(store: ObjectStore, data: dict[str, Any], run_id: str) -> str:
    layout = PipelineLayout(PipelineConfig.model_validate(data))
    champion = store.get_json(layout.champion_uri)
    version_files = [o.uri.rsplit("/", 1)[-1] for o in store.list(layout.version_prefix(champion["version"]))]
    assert "_COMPLETE.json" in version_files
    assert champion["run_id"] == run_id
    assert store.list(layout.run_prefix(run_id)), "the run's staging outputs are missing"
    return champion["version"]


def assert_invalid_conf_refused(stack: Stack, dag_id: str) -> None:
    status, body = trigger(stack, dag_id, {"sample_fraction": 5})
    assert status == 400, body
    assert "sample_fraction" in str(body["detail"])
    status, body = trigger(stack, dag_id, {"candidates": ["no_such_candidate"]})
    assert status == 400, body


def test_local_executor_run_triggered_like_the_ui(airflow_stack: Callable[..., Stack], e2e_store: ObjectStore) -> None:
    start = time.monotonic()
    data = pipeline("e2e_local", e2e_store)
    stack = airflow_stack(data, executor="LocalExecutor")
    finished, tis = run_through_the_api(stack, data, {"data_date": RUN_DAY, "candidates": ["logreg"]})
    states = {(t["task_id"], t["rendered_map_index"]): t["state"] for t in tis}
    assert finished["state"] == "success", states
    assert states[("train", "logreg")] == "success"
    assert states[("train", "logreg_balanced")] == "skipped"
    assert_promoted(e2e_store, data, finished["dag_run_id"])
    assert_invalid_conf_refused(stack, "retrain_e2e_local")
    print(f"\n  e2e LocalExecutor on PostgreSQL: {time.monotonic() - start:.0f}s")


def test_celery_executor_runs_tasks_on_the_worker_and_routes_torch_to_gpu(
    airflow_stack: Callable[..., Stack], e2e_store: ObjectStore, redis_url: str
) -> None:
    start = time.monotonic()
    data = pipeline("e2e_celery", e2e_store)
    data["training"]["candidates"] = [*data["training"]["candidates"][:1], TORCH]
    stack = airflow_stack(data, executor="CeleryExecutor", redis=redis_url)
    finished, tis = run_through_the_api(stack, data, {"data_date": RUN_DAY})
    states = {(t["task_id"], t["rendered_map_index"]): t["state"] for t in tis}
    assert finished["state"] == "success", states
    gpu = next(t for t in tis if t["task_id"] == "train_gpu")
    assert (gpu["rendered_map_index"], gpu["queue"], gpu["pool"], gpu["state"]) == ("mlp", "gpu", "gpu", "success")
    ran = [t for t in tis if t["state"] == "success"]
    assert {t["hostname"] for t in ran} != {""}
    received = re.findall(r"execute_workload\[[0-9a-f-]+\] received", stack.log("celery-worker"))
    assert len(received) >= len(ran), f"{len(received)} workloads received by the worker for {len(ran)} tasks"
    assert_promoted(e2e_store, data, finished["dag_run_id"])
    print(f"\n  e2e CeleryExecutor on PostgreSQL + Redis: {time.monotonic() - start:.0f}s")
