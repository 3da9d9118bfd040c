"""How many tasks the DAG layer says run beside a task, from Airflow's config, and the budget inside a task."""

from __future__ import annotations

import pytest
from imbalance_dags.runtime import parallel_tasks, stage_threads
from threadpoolctl import threadpool_info


def _config(**values: str) -> object:
    def get(section: str, key: str) -> str | None:
        return values.get(f"{section}.{key}")

    return get


@pytest.mark.parametrize(
    ("executor", "values", "expected"),
    [
        ("LocalExecutor", {"core.parallelism": "4"}, (4, "LocalExecutor: [core] parallelism")),
        ("", {}, (32, "LocalExecutor: [core] parallelism")),
        ("CeleryExecutor", {"celery.worker_concurrency": "8"}, (8, "CeleryExecutor: [celery] worker_concurrency")),
        (
            "airflow.providers.celery.executors.celery_executor.CeleryExecutor,LocalExecutor",
            {"core.parallelism": "4"},
            (16, "CeleryExecutor: [celery] worker_concurrency"),
        ),
        ("KubernetesExecutor", {"core.parallelism": "32"}, (1, "KubernetesExecutor: one task per pod")),
        ("LocalExecutor", {"imbalance_jobs.parallel_tasks": "2"}, (2, "[imbalance_jobs] parallel_tasks")),
    ],
)
def test_parallel_tasks_follow_the_executor_slots_or_the_explicit_setting(
    executor: str, values: dict[str, str], expected: tuple[int, str]
) -> None:
    assert parallel_tasks(executor, _config(**values)) == expected


def test_stage_threads_in_a_task_use_the_configured_slots(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IMBALANCE_PARALLEL_TASKS", raising=False)
    monkeypatch.delenv("IMBALANCE_THREADS", raising=False)
    monkeypatch.setenv("AIRFLOW__IMBALANCE_JOBS__PARALLEL_TASKS", "64")
    with stage_threads("evaluate") as budget:
        pools = {info["num_threads"] for info in threadpool_info()}
    assert pools == {1}
    assert "shared by 64 parallel task(s) ([imbalance_jobs] parallel_tasks)" in budget.describe()
