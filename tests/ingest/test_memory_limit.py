"""A window larger than the memory the run may use: the whole run completes under a hard memory limit.

The limit is a memory cgroup (v1, as container runtimes set it): resident memory and page cache together, with
the kernel's OOM killer behind it, so nothing the allocators merely reserve counts (``setrlimit(RLIMIT_AS)``
counts reserved address space: measured, a run that peaks at 0.7 GB resident reserves 1.7-2.4 GB, so it cannot
tell a streaming ingest from a greedy one). The same window without negative sampling, under the same limit, is
killed: the limit bites.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import RUN_DATE

pytestmark = pytest.mark.integration

CGROUPS = Path("/sys/fs/cgroup/memory")
LIMIT = 2**30  # 1 GiB for the whole run, page cache included
DAYS, ROWS, FEATURES = 5, 1_000_000, 30  # 5M rows x 32 columns of 8 bytes: 1.28 GB as a frame


@pytest.fixture
def memory_cgroup():
    """A fresh memory cgroup limited to LIMIT; skipped where this process may not create one."""
    path = CGROUPS / f"imbalance-test-{uuid.uuid4().hex[:8]}"
    try:
        path.mkdir()
        (path / "memory.limit_in_bytes").write_text(str(LIMIT))
    except OSError as exc:
        pytest.skip(f"cannot create a memory cgroup under {CGROUPS}: {exc}")
    yield path
    for _ in range(50):  # the cgroup empties once its processes are reaped
        try:
            path.rmdir()
            break
        except OSError:
            time.sleep(0.1)


def _window(store, bucket: str, tmp_path: Path) -> int:
    rng = np.random.default_rng(7)
    positives = 0
    for k in range(DAYS):
        day = RUN_DATE - dt.timedelta(days=k)
        X = rng.normal(size=(ROWS, FEATURES))
        y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.5, size=ROWS) > 4.2).astype(np.int64)  # ~0.25 % positives
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(FEATURES)])
        frame.insert(0, "id", np.arange(ROWS, dtype=np.int64) + k * ROWS)
        frame["y"] = y
        local = tmp_path / "part.parquet"
        frame.to_parquet(local, index=False, row_group_size=131_072)
        store.upload(f"s3://{bucket}/big/dt={day}/part-0.parquet", local)
        positives += int(y.sum())
    return positives


def _config(tmp_path: Path, buckets: dict[str, str], **source) -> Path:
    data = {
        "name": "memory_limit",
        "schedule": None,
        "source": {"bucket": buckets["source"], "prefix": "big/dt={date}/", "lookback_days": DAYS, **source},
        "artifacts": {"bucket": buckets["artifacts"]},
        "label": {"column": "y"},
        "split": {"key": ["id"]},
        "features": {"numeric": [f"f{i}" for i in range(FEATURES)], "categorical": []},
        "validation": {"minority_share": {"min": 0.0001, "max": 0.5}},
        "training": {
            "cv_folds": 3,
            "blend_top_k": 0,
            "candidates": [{"name": "logreg", "model": "logistic_regression", "imbalance": "class_weight"}],
        },
    }
    path = tmp_path / f"memory_limit_{len(source)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _run_limited(cgroup: Path, config: Path, run_id: str, s3_server) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "IMBALANCE_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3_server.settings.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_server.settings.secret_access_key,
    }

    def enter() -> None:
        (cgroup / "cgroup.procs").write_text(str(os.getpid()))

    command = Path(sys.executable).parent / "imbalance-jobs"
    args = [str(command), "run", str(config), "--date", str(RUN_DATE), "--run-id", run_id]
    return subprocess.run(args, env=env, preexec_fn=enter, capture_output=True, text=True, timeout=900)


def test_a_window_larger_than_the_memory_limit_runs_to_the_end(
    memory_cgroup, store, buckets, s3_server, tmp_path
) -> None:
    positives = _window(store, buckets["source"], tmp_path)
    assert DAYS * ROWS * (FEATURES + 2) * 8 > LIMIT  # the window as a frame does not fit

    sampled = _run_limited(
        memory_cgroup, _config(tmp_path, buckets, negative_sample={"fraction": 0.02}), "sampled", s3_server
    )
    assert sampled.returncode == 0, sampled.stderr[-3000:]
    assert "Traceback" not in sampled.stderr
    manifest = store.get_json(f"s3://{buckets['artifacts']}/memory_limit/runs/sampled/ingest/manifest.json")
    assert manifest["rows_read"] == DAYS * ROWS
    assert manifest["negative_sample"]["positives"] == positives
    assert int((memory_cgroup / "memory.max_usage_in_bytes").read_text()) <= LIMIT

    (memory_cgroup / "memory.max_usage_in_bytes").write_text("0")
    whole = _run_limited(memory_cgroup, _config(tmp_path, buckets), "whole", s3_server)
    assert whole.returncode in (-9, 137), whole.stderr[-3000:]  # killed by the kernel at the limit
