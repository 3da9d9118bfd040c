"""How many native threads one task may use, and a context that holds its OpenMP/BLAS pools to that number.

Parallel tasks on one machine that each start an OpenMP pool as wide as the machine oversubscribe it: OpenMP
threads spin-wait for each other at every barrier, so HistGradientBoosting fits in two tasks on 2 cores ran
several times slower than one after the other. A task's budget is its share of the cores it may run on::

    threads = max(1, min(cores // parallel_tasks, round(cores - busy)))

``cores``: the CPUs this process may run on (``os.sched_getaffinity``), lowered by a cgroup CPU quota
(``cpu.max`` in cgroup v2, ``cpu.cfs_quota_us`` in v1) when one is set. ``parallel_tasks``: how many such tasks
may run beside it on the machine; 1 for the CLI, the executor's slots for Airflow (passed in by the DAG layer,
which alone knows them: this package never imports airflow), or ``IMBALANCE_PARALLEL_TASKS``. ``busy``: what
other processes keep running, read from the 1-minute load average (less this process's own one): a share is
never wider than the cores left free, because an OpenMP pool with a thread waiting for a core stalls at every
barrier (a CLI train stage with 2 threads on 2 cores took 183 s beside other users' jobs, load ~7; one thread
takes a fraction of that, and gives the same model: HistGradientBoosting's and forests' results do not depend
on their thread count). ``IMBALANCE_THREADS`` sets the threads outright and wins over all of it.

:func:`stage_threads` applies the budget with threadpoolctl around a heavy stage body (train, select, evaluate,
monitor) and logs it with its reasons; forests take it as ``n_jobs`` (:func:`current_threads`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "HEAVY_STAGES",
    "PARALLEL_ENV",
    "THREADS_ENV",
    "ThreadBudget",
    "available_cores",
    "compute_budget",
    "current_threads",
    "stage_threads",
    "task_budget",
]

log = logging.getLogger(__name__)

THREADS_ENV = "IMBALANCE_THREADS"
PARALLEL_ENV = "IMBALANCE_PARALLEL_TASKS"
HEAVY_STAGES = frozenset({"train", "select", "evaluate", "monitor"})
"""Stages whose bodies fit or score models: the ones run under :func:`stage_threads`."""
NATIVE_POOL_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")
"""Read by native libraries when they load (and by torch_models): set too, for libraries not yet loaded."""
CGROUP_ROOT = Path("/sys/fs/cgroup")

_active: list[int] = []  # budgets of the enclosing stage_threads contexts, innermost last


@dataclass(frozen=True)
class ThreadBudget:
    """A task's native threads, and why: the cores it may use and the tasks that may run beside it."""

    threads: int
    cores: int
    parallel_tasks: int
    reason: str

    def describe(self) -> str:
        return f"{self.threads} native thread(s): {self.reason}"


def compute_budget(
    cores: int,
    parallel_tasks: int = 1,
    *,
    override: int | None = None,
    cap: int | None = None,
    busy: float = 0.0,
    cores_from: str = "",
    parallel_from: str = "",
) -> ThreadBudget:
    """The budget of one task: ``override`` when given, else its share of ``cores`` among ``parallel_tasks``,
    no wider than the cores ``busy`` (other processes' runnable load) leaves free, at most ``cap`` (an
    ``OMP_NUM_THREADS`` the operator set).

    Examples
    --------
    >>> compute_budget(16, 4).threads
    4
    >>> compute_budget(2, 4).threads  # never zero: one thread each, the OS shares the cores
    1
    >>> compute_budget(2, 4, override=2).threads
    2
    >>> compute_budget(16, 1, busy=10.2).threads  # other jobs keep ~10 cores busy
    6
    """
    if cores < 1 or parallel_tasks < 1:
        raise ValueError(f"cores and parallel_tasks must be >= 1; got cores={cores}, parallel_tasks={parallel_tasks}")
    where = f" ({cores_from})" if cores_from else ""
    beside = f" ({parallel_from})" if parallel_from else ""
    if override is not None:
        if override < 1:
            raise ValueError(f"{THREADS_ENV} must be an int >= 1; got {override}")
        return ThreadBudget(
            override, cores, parallel_tasks, f"{THREADS_ENV}={override} (machine: {cores} cores{where})"
        )
    share = max(1, cores // parallel_tasks)
    threads = max(1, min(share, round(cores - busy)))
    reason = f"{cores} core(s){where} shared by {parallel_tasks} parallel task(s){beside}"
    if threads < share:
        reason += f", of which other processes keep ~{busy:.1f} busy (load average)"
    if cap is not None and 1 <= cap < threads:
        threads, reason = cap, f"{reason}, capped by OMP_NUM_THREADS={cap}"
    return ThreadBudget(threads, cores, parallel_tasks, reason)


def available_cores(cgroup_root: Path = CGROUP_ROOT) -> tuple[int, str]:
    """CPUs this process may run on, lowered by a cgroup CPU quota; with where the number comes from."""
    try:
        cores, source = len(os.sched_getaffinity(0)), "CPU affinity"
    except AttributeError:  # not Linux
        cores, source = os.cpu_count() or 1, "os.cpu_count"
    quota = cgroup_cpu_quota(cgroup_root)
    if quota is not None and quota < cores:
        return quota, f"cgroup CPU quota; affinity allows {cores}"
    return cores, source


def cgroup_cpu_quota(root: Path = CGROUP_ROOT) -> int | None:
    """Whole CPUs of the cgroup quota (rounded up), or None when unlimited or unknown."""
    v2 = root / "cpu.max"
    if v2.is_file():
        quota, period = [*v2.read_text().split(), "100000"][:2]
        return _quota_cpus(quota, period)
    v1_quota, v1_period = root / "cpu" / "cpu.cfs_quota_us", root / "cpu" / "cpu.cfs_period_us"
    if v1_quota.is_file() and v1_period.is_file():
        return _quota_cpus(v1_quota.read_text().strip(), v1_period.read_text().strip())
    return None


def _quota_cpus(quota: str, period: str) -> int | None:
    if quota in ("max", "-1") or not quota.lstrip("-").isdigit() or not period.isdigit() or int(period) <= 0:
        return None
    return max(1, math.ceil(int(quota) / int(period)))


def task_budget(parallel_tasks: int | None = None, *, parallel_from: str = "") -> ThreadBudget:
    """This process's budget: ``IMBALANCE_THREADS`` if set, else its share of :func:`available_cores`.

    ``parallel_tasks`` comes from the caller (the DAG layer passes the executor's slots); without it,
    ``IMBALANCE_PARALLEL_TASKS``, else 1 (a CLI run has the machine's cores to itself). Other processes' load is
    the 1-minute load average less one (this process). An ``OMP_NUM_THREADS`` set outside any stage (e.g. by
    docker compose) caps the share.
    """
    cores, cores_from = available_cores()
    busy = max(0.0, os.getloadavg()[0] - 1.0) if hasattr(os, "getloadavg") else 0.0
    if parallel_tasks is None:
        parallel_tasks = _env_int(PARALLEL_ENV)
        parallel_from = f"{PARALLEL_ENV}" if parallel_tasks is not None else "one run at a time"
    return compute_budget(
        cores,
        parallel_tasks or 1,
        override=_env_int(THREADS_ENV),
        cap=None if _active else _env_int("OMP_NUM_THREADS"),
        busy=busy,
        cores_from=cores_from,
        parallel_from=parallel_from,
    )


def _env_int(name: str) -> int | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be an int >= 1; got {value!r}")
    return int(value)


@contextlib.contextmanager
def stage_threads(stage: str, budget: ThreadBudget | None = None) -> Iterator[ThreadBudget]:
    """Hold the native thread pools (OpenMP, BLAS, torch) to the task's budget while ``stage`` runs; log it.

    The ``OMP_NUM_THREADS`` family is set first, so a runtime the stage loads (scikit-learn's OpenMP in a fresh
    task process) starts at the budget; threadpoolctl limits the ones already loaded. Everything loaded before is
    restored on exit. Nothing is imported here: a stage that needs no model pays for no library.
    """
    from threadpoolctl import threadpool_limits

    budget = budget or task_budget()
    log.info("%s: %s", stage, budget.describe())
    saved = {name: os.environ.get(name) for name in NATIVE_POOL_ENV}
    os.environ.update(dict.fromkeys(NATIVE_POOL_ENV, str(budget.threads)))
    _active.append(budget.threads)
    try:
        with threadpool_limits(limits=budget.threads), _torch_threads(budget.threads):
            yield budget
    finally:
        _active.pop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _torch_threads(threads: int) -> Iterator[None]:
    """torch keeps its own intra-op pool; limit it only when torch is already imported (never import it here)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(min(previous, threads))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def current_threads() -> int | None:
    """The budget of the enclosing :func:`stage_threads` (what forests take as ``n_jobs``); None outside one."""
    return _active[-1] if _active else None
