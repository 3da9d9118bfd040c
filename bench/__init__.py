"""Reproducible benchmarks: ``python -m bench.run_all`` (or ``make bench``); each script prints a table and writes
JSON under ``bench/results/``. See docs/benchmarks.md for the figures and how to reproduce them.

Native thread pools are pinned here, before any benchmark module can import numpy, scikit-learn or torch, so
every measurement (and every child process it starts: the CLI, the Airflow run) uses the same number of threads.
``BENCH_THREADS`` (default 1) sets OpenMP / BLAS threads; scikit-learn ``n_jobs`` is left at its default (1).
One thread keeps timings stable on a small shared machine: HistGradientBoosting's OpenMP workers spin-wait badly
when another process holds a core.
"""

import os

THREADS = os.environ.get("BENCH_THREADS", "1")
THREAD_ENV = {
    name: THREADS
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    )
}
os.environ.update(THREAD_ENV)
