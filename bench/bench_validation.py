"""Validate in bounded memory (issue 14): wall time and peak RSS of the validate stage, partition by partition
against the whole-window code it replaced, and peak RSS as the number of partitions grows.

Each measurement is a fresh child process that imports Great Expectations (timed apart), then runs the real
``validate`` stage against a local S3 server on a staged snapshot written the way streaming ingest writes it
(one ParquetWriter, row groups of at most 256k rows that never span two source objects, ``manifest.json``
beside it). ``--baseline DIR`` names a tree holding the old ``imbalance_jobs`` (e.g. ``git archive <commit>
imbalance_jobs | tar -x -C DIR``); its children import that package instead, on the same snapshots.

    python -m bench.bench_validation --baseline /tmp/val-base      # 300k rows in 21 partitions; 4/16/32 x 262k
    python -m bench.bench_validation --quick

The arrangement figure times ``validate_snapshot`` alone (GE imported and warmed up first) on the 21-partition
window with one GE batch per source object against small objects sharing a batch (the product's default).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import (
    child_env,
    emit_result,
    machine,
    markdown_table,
    median,
    python_child,
    read_result,
    run_child,
    table,
    write_results,
)

RUN_DATE = dt.date(2026, 11, 27)
ROW_GROUP = 256 * 1024
ARTIFACTS = "bench-validation"
CONFIG: dict[str, Any] = {
    "name": "fraud_bench",
    "seed": 42,
    "source": {"bucket": "labeled", "prefix": "fraud/dt={date}/", "format": "parquet", "lookback_days": 21},
    "artifacts": {"bucket": ARTIFACTS},
    "label": {"column": "is_fraud", "classes": [0, 1], "positive": 1},
    "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
    "validation": {"min_rows": 200, "min_minority_count": 20, "minority_share": {"min": 0.01, "max": 0.3}},
}


def stage_window(store: Any, tmp: Path, key: str, partitions: int, rows: int) -> str:
    """Write a staged snapshot + manifest of ``partitions`` days x ``rows`` rows; returns the snapshot's URI."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from imbalance_jobs.synthetic import SyntheticSpec, make_frame

    path, objects, start = tmp / f"{key}.parquet", [], 0
    writer = None
    counts = {"0": 0, "1": 0}
    for k in range(partitions):
        day = RUN_DATE - dt.timedelta(days=partitions - 1 - k)
        frame = make_frame(SyntheticSpec(rows=rows), seed=7, day=day)
        frame = frame.astype({c: np.float32 for c in frame.columns if c.startswith("f")})  # as ingest downcasts
        frame.insert(0, "_row_id", np.arange(start, start + len(frame), dtype=np.int64))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
        for label, n in frame["is_fraud"].value_counts().items():
            counts[str(label)] += int(n)
        uri = f"s3://labeled/fraud/dt={day.isoformat()}/part-0.parquet"
        objects.append({"uri": uri, "day": day.isoformat(), "rows": len(frame), "skipped": None})
        start += len(frame)
    assert writer is not None
    writer.close()
    data_uri = f"s3://{ARTIFACTS}/fraud_bench/runs/{key}/ingest/data.parquet"
    store.upload(data_uri, path)
    manifest = {"rows": start, "label_counts": counts, "population_label_counts": counts, "negative_sample": None}
    store.put_json(data_uri.rsplit("/", 1)[0] + "/manifest.json", manifest | {"objects": objects})
    path.unlink()
    return data_uri


def child(data_uri: str, run_id: str) -> None:
    """One validate stage in this process (imports whichever ``imbalance_jobs`` is first on the path)."""
    import imbalance_jobs
    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.context import RunContext
    from imbalance_jobs.storage import ObjectStore, StorageSettings

    started = time.perf_counter()
    import great_expectations  # noqa: F401  (timed apart: every task pays it once)

    imported = time.perf_counter() - started
    from imbalance_jobs.validation import validate

    ctx = RunContext(
        config=PipelineConfig.model_validate(CONFIG),
        run_id=run_id,
        run_date=RUN_DATE,
        store=ObjectStore(StorageSettings.from_env()),
    )
    started = time.perf_counter()
    summary = validate(ctx, data_uri)
    emit_result(
        {
            "import_seconds": imported,
            "validate_seconds": time.perf_counter() - started,
            "rows": summary.rows,
            "partitions": getattr(summary, "partitions", 1),
            "package": str(Path(imbalance_jobs.__file__).parent),
        }
    )


def arrangement(tmp: Path, partitions: int, rows: int, repeats: int) -> list[dict[str, Any]]:
    """Seconds of validate_snapshot with a GE batch per source object vs objects sharing batches (in a child)."""
    path = tmp / "arrangement.parquet"
    objects = _local_window(path, partitions, rows)
    out = []
    for label, batch_rows in (("one GE batch per source object", 1), ("objects share batches (default)", 0)):
        cmd = python_child("bench.bench_validation", "arrangement", str(path), json.dumps(objects), str(batch_rows))
        times = []
        for _ in range(repeats):
            done = run_child(cmd, timeout=1800, env=child_env())
            if not done.ok:
                raise RuntimeError(f"arrangement child failed:\n{done.tail(30)}")
            times.append(read_result(done)["seconds"])
        out.append(
            {
                "arrangement": label,
                "partitions": partitions,
                "rows": partitions * rows,
                "seconds": median(times),
                "all": [round(t, 2) for t in times],
            }
        )
        print(f"{label}: {median(times):.2f} s", flush=True)
    return out


def _local_window(path: Path, partitions: int, rows: int) -> list[dict[str, Any]]:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from imbalance_jobs.synthetic import SyntheticSpec, make_frame

    objects, start, writer = [], 0, None
    for k in range(partitions):
        day = RUN_DATE - dt.timedelta(days=partitions - 1 - k)
        frame = make_frame(SyntheticSpec(rows=rows), seed=7, day=day)
        frame.insert(0, "_row_id", np.arange(start, start + len(frame), dtype=np.int64))
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table, row_group_size=ROW_GROUP)
        objects.append({"uri": f"s3://labeled/fraud/dt={day}/part-0.parquet", "day": day.isoformat(), "rows": rows})
        start += rows
    assert writer is not None
    writer.close()
    return objects


def arrangement_child(path: str, objects: str, batch_rows: str) -> None:
    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.validation import BATCH_ROWS, ParquetSnapshot, validate_snapshot

    config = PipelineConfig.model_validate(CONFIG)
    listed = json.loads(objects)

    def once() -> float:
        snap = ParquetSnapshot(
            Path(path), source="s3://x/data.parquet", objects=listed, batch_rows=int(batch_rows) or BATCH_ROWS
        )
        started = time.perf_counter()
        validate_snapshot(config, snap)
        return time.perf_counter() - started

    once()  # GE's import and first-use costs are paid by every arrangement alike
    emit_result({"seconds": once()})


def measure(env: dict[str, str], data_uri: str, run_id: str, repeats: int, cwd: Path | None) -> dict[str, Any]:
    runs = []
    for _ in range(repeats):
        done = run_child(
            python_child("bench.bench_validation", "child", data_uri, run_id), timeout=1800, env=env, cwd=cwd
        )
        if not done.ok:
            raise RuntimeError(f"validate child failed:\n{done.tail(30)}")
        runs.append(read_result(done) | {"peak_rss_mb": done.peak_rss_mb, "wall_seconds": done.seconds})
    return {
        "validate_seconds": median([r["validate_seconds"] for r in runs]),
        "validate_all": [round(r["validate_seconds"], 2) for r in runs],
        "import_seconds": median([r["import_seconds"] for r in runs]),
        "peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
        "rows": runs[0]["rows"],
        "package": runs[0]["package"],
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_validation", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=None, help="a directory holding the old imbalance_jobs package")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--window", default="21x14286", help="PARTITIONSxROWS for the before/after timing")
    parser.add_argument("--growth", default="4,16,32x262144", help="PARTITION COUNTSxROWS for the memory check")
    parser.add_argument(
        "--baseline-max-rows", type=int, default=5_000_000, help="skip the baseline above this many rows"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/validation.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.window, args.growth, args.repeats = "21x2000", "4,16x5000", 1
    return args


def main(argv: list[str] | None = None) -> int:
    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    if argv is None and sys.argv[1:2] == ["child"]:
        child(*sys.argv[2:4])
        return 0
    if argv is None and sys.argv[1:2] == ["arrangement"]:
        arrangement_child(*sys.argv[2:5])
        return 0
    args = parse_args(argv)
    payload: dict[str, Any] = {"benchmark": "validation", "machine": machine(), "args": vars(args), "results": []}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-validation-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        store = ObjectStore(server.settings)
        store.ensure_bucket(ARTIFACTS)
        s3 = server.settings
        base_env = {
            "IMBALANCE_S3_ENDPOINT_URL": s3.endpoint_url or "",
            "AWS_ACCESS_KEY_ID": s3.access_key_id or "",
            "AWS_SECRET_ACCESS_KEY": s3.secret_access_key or "",
        }
        codes = [("partitioned", child_env(**base_env), None)]
        if args.baseline:
            old = child_env(**base_env)
            old["PYTHONPATH"] = f"{args.baseline}:{old['PYTHONPATH']}"
            codes.append(("whole window (before)", old, Path(args.baseline)))
        parts, rows = (int(x) for x in args.window.split("x"))
        counts, size = args.growth.split("x")
        windows = [("timing", parts, rows)] + [("growth", int(n), int(size)) for n in counts.split(",")]
        for purpose, n, per in windows:
            data_uri = stage_window(store, Path(tmp), f"w{n}x{per}", n, per)
            for code, env, cwd in codes:
                if cwd is not None and n * per > args.baseline_max_rows:
                    continue
                repeats = args.repeats if purpose == "timing" else 1
                found = measure(env, data_uri, f"w{n}x{per}", repeats, cwd)
                payload["results"].append({"purpose": purpose, "code": code, "partitions": n, **found})
                print(
                    f"{code:>22}: {n} x {per} rows: {found['validate_seconds']:.2f} s, "
                    f"peak {found['peak_rss_mb']:.0f} MiB",
                    flush=True,
                )
        payload["arrangement"] = arrangement(Path(tmp), parts, rows, args.repeats)
    report(payload)
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("validation", payload, path=Path(args.output) if args.output else None)
    print(f"\nwrote {path} ({payload['total_seconds']:.0f}s)")
    return 0


def report(payload: dict[str, Any]) -> None:
    headers = ["purpose", "code", "partitions", "rows", "validate s", "GE import s", "peak RSS MiB"]
    rows = [
        [
            r["purpose"],
            r["code"],
            r["partitions"],
            r["rows"],
            f"{r['validate_seconds']:.2f}",
            f"{r['import_seconds']:.1f}",
            f"{r['peak_rss_mb']:.0f}",
        ]
        for r in payload["results"]
    ]
    print(table(headers, rows, title="validate stage (median of repeats; peak RSS of the child process)"))
    print(markdown_table(headers, rows))
    rows = [[a["arrangement"], a["partitions"], a["rows"], f"{a['seconds']:.2f}"] for a in payload["arrangement"]]
    headers = ["GE batches", "partitions", "rows", "validate_snapshot s"]
    print(table(headers, rows, title="GE arrangement (warm, in one process)"))
    print(markdown_table(headers, rows))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
