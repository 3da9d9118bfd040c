"""Validate's peak memory does not grow with the window, only with the batch size (issue 14: bounded memory).

Two fresh processes validate windows of 4 and of 16 partitions of the same size, with batches of one partition's
rows (in production ``BATCH_ROWS``, 1 M rows: small objects share a batch, large ones are cut); their peak RSS
(``VmHWM``) must agree within a margin far below what holding the 12 extra partitions would cost. A fresh process
per window keeps each high-water mark its own (GE's import alone is ~300 MB).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import BASE_CONFIG, REPO, RUN_DATE
from tests.validation.conftest import write_window

ROWS = 40_000
CHILD = """
import json, sys
from pathlib import Path
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.validation import ParquetSnapshot, validate_snapshot
path, objects, config = Path(sys.argv[1]), json.loads(sys.argv[2]), json.loads(sys.argv[3])
snap = ParquetSnapshot(path, source="s3://a/data.parquet", objects=objects, batch_rows=int(sys.argv[4]))
report = validate_snapshot(PipelineConfig.model_validate(config), snap)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"rows": report.rows, "partitions": len(report.partitions), "hwm_kb": hwm, "ok": report.success}))
"""


def _peak(tmp_path: Path, partitions: int) -> dict:
    spec = replace(SyntheticSpec(), rows=ROWS)
    frames = [
        (d, make_frame(spec, seed=3, day=d)) for d in (RUN_DATE - dt.timedelta(days=k) for k in range(partitions))
    ]
    path = tmp_path / f"w{partitions}.parquet"
    objects = write_window(path, frames, row_group_size=16_384)
    args = [str(path), json.dumps(objects), json.dumps(BASE_CONFIG), str(ROWS)]
    done = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, text=True, cwd=REPO, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_peak_memory_does_not_grow_with_partitions(tmp_path):
    small, large = _peak(tmp_path, 4), _peak(tmp_path, 16)
    assert (small["partitions"], large["partitions"]) == (4, 16)
    assert large["rows"] == 4 * small["rows"] == 16 * ROWS
    growth_mb = (large["hwm_kb"] - small["hwm_kb"]) / 1024
    # Holding the window instead (one batch, as validate_frame does) grows by ~200 MB between these two windows;
    # batch by batch it grew by 1-5 MB when measured, plus allocator noise.
    assert growth_mb < 40, f"peak RSS grew by {growth_mb:.0f} MB from 4 to 16 partitions ({small}, {large})"
