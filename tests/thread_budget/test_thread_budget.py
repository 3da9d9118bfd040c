"""The thread budget: a pure share of the cores, the places cores and parallel tasks come from, and a real check
that a stage's native pools are held to it (threadpoolctl's own report, no mocks)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_info

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.models import build_pipeline, fit_settings
from imbalance_jobs.thread_budget import (
    PARALLEL_ENV,
    THREADS_ENV,
    available_cores,
    cgroup_cpu_quota,
    compute_budget,
    current_threads,
    stage_threads,
    task_budget,
)


@pytest.mark.parametrize(
    ("cores", "parallel", "threads"), [(16, 1, 16), (16, 4, 4), (16, 3, 5), (2, 4, 1), (2, 2, 1), (1, 1, 1)]
)
def test_compute_budget_is_the_tasks_share_of_the_cores(cores: int, parallel: int, threads: int) -> None:
    budget = compute_budget(cores, parallel)
    assert (budget.threads, budget.cores, budget.parallel_tasks) == (threads, cores, parallel)
    assert f"{cores} core(s)" in budget.reason
    assert f"{parallel} parallel task(s)" in budget.reason


def test_compute_budget_override_wins_and_says_so() -> None:
    budget = compute_budget(2, 8, override=3)
    assert budget.threads == 3
    assert budget.describe().startswith(f"3 native thread(s): {THREADS_ENV}=3")


@pytest.mark.parametrize(
    ("cores", "parallel", "busy", "threads"),
    [(2, 1, 0.0, 2), (2, 1, 0.4, 2), (2, 1, 5.0, 1), (16, 4, 2.0, 4), (16, 1, 10.2, 6)],
)
def test_compute_budget_leaves_the_cores_other_processes_keep_busy(
    cores: int, parallel: int, busy: float, threads: int
) -> None:
    budget = compute_budget(cores, parallel, busy=busy)
    assert budget.threads == threads
    assert ("other processes keep" in budget.reason) == (threads < cores // parallel)


def test_compute_budget_is_capped_by_an_operator_omp_setting() -> None:
    assert compute_budget(16, 2, cap=4).threads == 4
    assert compute_budget(16, 2, cap=4).reason.endswith("capped by OMP_NUM_THREADS=4")
    assert compute_budget(16, 8, cap=4).threads == 2


@pytest.mark.parametrize(("cores", "parallel", "override"), [(0, 1, None), (2, 0, None), (2, 1, 0)])
def test_compute_budget_refuses_non_positive_inputs(cores: int, parallel: int, override: int | None) -> None:
    with pytest.raises(ValueError, match="must be"):
        compute_budget(cores, parallel, override=override)


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "150000 100000\n"}, 2),
        ({"cpu.max": "50000 100000\n"}, 1),
        ({"cpu/cpu.cfs_quota_us": "400000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 4),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({}, None),
    ],
)
def test_cgroup_cpu_quota_reads_v2_and_v1_files(tmp_path: Path, files: dict[str, str], quota: int | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cgroup_cpu_quota(tmp_path) == quota


def test_available_cores_is_lowered_by_a_cgroup_quota(tmp_path: Path) -> None:
    (tmp_path / "cpu.max").write_text("100000 100000\n")
    cores, source = available_cores(tmp_path)
    assert cores == 1
    assert "cgroup" in source or len(os.sched_getaffinity(0)) == 1


def test_task_budget_reads_the_env_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    cores = available_cores()[0]
    monkeypatch.delenv(THREADS_ENV, raising=False)
    monkeypatch.delenv(PARALLEL_ENV, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    budget = task_budget()
    assert budget.parallel_tasks == 1
    assert 1 <= budget.threads <= cores  # fewer while other processes keep cores busy
    monkeypatch.setenv(PARALLEL_ENV, str(cores))
    assert task_budget().threads == 1
    assert task_budget(parallel_tasks=3).parallel_tasks == 3  # what the caller passes wins over the env
    monkeypatch.setenv(THREADS_ENV, "3")
    assert task_budget().threads == 3
    monkeypatch.setenv(THREADS_ENV, "zero")
    with pytest.raises(ValueError, match=f"{THREADS_ENV} must be an int >= 1; got 'zero'"):
        task_budget()


def _pools() -> dict[str, int]:
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


def test_stage_threads_limits_the_loaded_native_pools_and_restores_them(caplog: pytest.LogCaptureFixture) -> None:
    import sklearn.ensemble  # noqa: F401  (the pools a stage would have loaded, so before/after compare the same)

    before = _pools()
    with caplog.at_level("INFO", logger="imbalance_jobs.thread_budget"), stage_threads("train", compute_budget(8, 8)):
        inside = _pools()
        assert current_threads() == 1
        assert os.environ["OMP_NUM_THREADS"] == "1"
    assert any(info["internal_api"] == "openmp" for info in threadpool_info())
    assert set(inside.values()) == {1}
    assert _pools() == before
    assert current_threads() is None
    assert "train: 1 native thread(s): 8 core(s) shared by 8 parallel task(s)" in caplog.text


def test_fit_settings_gives_forests_the_budget_and_drops_a_no_op_category_cap() -> None:
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "c": rng.choice(["x", "y", "z"], size=200)})
    y = (rng.random(200) < 0.2).astype(int)
    features = FeatureSpec(numeric=("a",), categorical=("c",))
    forest = CandidateConfig(name="rf", model="random_forest", model_params={"n_estimators": 5, "n_jobs": -1})
    pipeline = fit_settings(build_pipeline(forest, features, y, seed=0), X, n_jobs=2)
    assert pipeline.named_steps["model"].n_jobs == 2
    hgb = CandidateConfig(name="hgb", model="hist_gradient_boosting", model_params={"max_iter": 5})
    capped = build_pipeline(hgb, features, y, seed=0)
    fast = fit_settings(build_pipeline(hgb, features, y, seed=0), X, n_jobs=None)
    assert fast.named_steps["preprocess"].transformers[-1][1].max_categories is None
    np.testing.assert_array_equal(capped.fit(X, y).predict_proba(X), fast.fit(X, y).predict_proba(X))


FRESH_TASK = """
import json, sys
from imbalance_jobs.thread_budget import compute_budget, stage_threads
assert "sklearn" not in sys.modules
with stage_threads("train", compute_budget(8, 8)):
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    from threadpoolctl import threadpool_info
    inside = {"effective": _openmp_effective_n_threads(), "pools": [i["num_threads"] for i in threadpool_info()]}
print(json.dumps(inside))
"""


def test_stage_threads_also_limits_a_runtime_the_stage_loads_itself() -> None:
    """A fresh task process loads scikit-learn's OpenMP inside the stage: it starts at the budget."""
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", FRESH_TASK], capture_output=True, text=True, env=env, check=True)
    inside = json.loads(done.stdout.strip().splitlines()[-1])
    assert inside["effective"] == 1
    assert set(inside["pools"]) == {1}
