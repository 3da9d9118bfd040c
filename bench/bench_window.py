"""A large window in bounded memory: ``imbalance-jobs run`` with negative sampling vs a bare pyarrow + HGB script.

Data: ``--rows`` rows x ``--features`` float64 features at ``--positive-rate`` positives (a logistic signal on
the first five features), an int64 ``id``, in ``--days`` daily parquet partitions on the local S3 server.

(a) bare: read each partition from the same S3 server by record batches with pyarrow's own S3 filesystem (the
    server shares the machine's cores with the reader either way), keep every positive and the negatives whose
    hashed id falls below ``--fraction`` (the product's row hash and salt, so both keep the same rows), hold out 20 % stratified, then the same k-fold CV and
    refit as the product with the product's own HGB pipeline (``bench._bare.model_for``), AP on the held-out rows.
(b) product: ``imbalance-jobs run`` with ``source.negative_sample: {fraction}``, ``split.key: [id]`` and the
    ``hgb`` candidate only: stream ingest -> validate -> split -> train (k-fold CV + refit) -> select (calibration,
    threshold) -> evaluate (bootstrap) -> publish.
Each is a child process; wall time includes interpreter start and imports; peak RSS is the child's high-water mark.

    python -m bench.bench_window                      # 20M rows, 21 days, 30 features, 0.3 %, fraction 0.05
    python -m bench.bench_window --rows 2000000      # a quicker look
    python -m bench.bench_window --quick             # 200,000 rows: checks the script works
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

import numpy as np

from bench._common import (
    child_env,
    emit_result,
    load_average,
    machine,
    python_child,
    read_result,
    run_child,
    table,
    write_results,
)

RUN_DAY = dt.date(2026, 11, 27)
PIPELINE = "bench_window"
SAMPLE_SALT = f"{PIPELINE}/negative-sample"  # imbalance_jobs.negative_sampling.sample_salt of the bench config


def write_window(store: Any, folder: Path, args: argparse.Namespace) -> tuple[str, dict[str, int]]:
    """Daily partitions in the bucket (each written to a local file first, then removed); returns the bucket and
    the label counts."""
    import pandas as pd

    bucket = "bench-window-src"
    store.ensure_bucket(bucket)
    rng = np.random.default_rng(args.seed)
    per_day = args.rows // args.days
    weights = np.r_[np.linspace(1.0, 0.4, 5), np.zeros(args.features - 5)]
    counts = {"0": 0, "1": 0}
    intercept = _intercept(weights, args.positive_rate, rng)
    for k in range(args.days):
        day = RUN_DAY - dt.timedelta(days=args.days - 1 - k)
        X = rng.normal(size=(per_day, args.features))
        logits = X @ weights + intercept
        y = (rng.random(per_day) < 1 / (1 + np.exp(-logits))).astype(np.int64)
        frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(args.features)])
        frame.insert(0, "id", np.arange(per_day, dtype=np.int64) + k * per_day)
        frame["y"] = y
        local = folder / f"dt={day.isoformat()}" / "part-0.parquet"
        local.parent.mkdir(parents=True)
        frame.to_parquet(local, index=False)
        store.upload(f"s3://{bucket}/window/dt={day.isoformat()}/part-0.parquet", local)
        local.unlink()
        counts["1"] += int(y.sum())
        counts["0"] += int(per_day - y.sum())
        print(f"  wrote {day}: {per_day} rows, {int(y.sum())} positives", flush=True)
    return bucket, counts


def _intercept(weights: np.ndarray, rate: float, rng: np.random.Generator) -> float:
    """The intercept that gives ``rate`` positives on average (bisection on a 200k-row sample)."""
    sample = rng.normal(size=(200_000, weights.size)) @ weights
    low, high = -20.0, 5.0
    for _ in range(60):
        mid = (low + high) / 2
        low, high = (mid, high) if np.mean(1 / (1 + np.exp(-(sample + mid)))) < rate else (low, mid)
    return (low + high) / 2


def config_data(bucket: str, args: argparse.Namespace) -> dict[str, Any]:
    from imbalance_jobs.config import default_candidates

    hgb = {c.name: c for c in default_candidates()}["hgb"].model_dump(exclude_none=True)
    return {
        "name": PIPELINE,
        "schedule": None,
        "seed": args.seed,
        "source": {
            "bucket": bucket,
            "prefix": "window/dt={date}/",
            "lookback_days": args.days,
            "negative_sample": {"fraction": args.fraction},
        },
        "artifacts": {"bucket": "bench-window-artifacts"},
        "label": {"column": "y"},
        "split": {"key": ["id"]},
        "features": {"numeric": [f"f{i}" for i in range(args.features)], "categorical": []},
        "validation": {"minority_share": {"min": 0.0001, "max": 0.5}},
        "training": {"cv_folds": args.folds, "candidates": [hgb], "blend_top_k": 1},
    }


# -- (a) the bare script, run as a child: python -m bench.bench_window --bare DIR ------------------------------
def bare(source: str, fraction: float, folds: int, seed: int) -> dict[str, Any]:
    """``source``: ``s3://bucket/prefix`` on the endpoint in IMBALANCE_S3_ENDPOINT_URL (read with pyarrow's own S3
    filesystem, as a script would), or a local folder."""
    import os

    import pandas as pd
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq
    from sklearn.base import clone
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from bench._bare import model_for
    from imbalance_jobs.row_hash import row_hash_unit

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    if source.startswith("s3://"):
        scheme, host = os.environ["IMBALANCE_S3_ENDPOINT_URL"].split("://")
        fs = pafs.S3FileSystem(
            endpoint_override=host,
            scheme=scheme,
            access_key=os.environ["AWS_ACCESS_KEY_ID"],
            secret_key=os.environ["AWS_SECRET_ACCESS_KEY"],
            region="us-east-1",
        )
        listing = fs.get_file_info(pafs.FileSelector(source[5:], recursive=True))
        paths = sorted(i.path for i in listing if i.path.endswith(".parquet"))
    else:
        fs, paths = None, sorted(str(p) for p in Path(source).glob("dt=*/part-0.parquet"))
    kept, negatives_seen, negatives_kept = [], 0, 0
    for path in paths:
        for batch in pq.ParquetFile(path, filesystem=fs).iter_batches(batch_size=262_144):
            frame = batch.to_pandas()
            unit = row_hash_unit(frame, ["id"], SAMPLE_SALT)  # the product's hash: the same rows are kept
            negative = frame["y"].to_numpy() == 0
            keep = ~negative | (unit < fraction)
            negatives_seen += int(negative.sum())
            negatives_kept += int((negative & keep).sum())
            kept.append(frame[keep])
    data = pd.concat(kept, ignore_index=True)
    del kept
    X, y = data.drop(columns=["id", "y"]), data["y"].to_numpy()
    seconds["load + sample"] = time.perf_counter() - t
    t = time.perf_counter()
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=seed)
    model = model_for("hgb", X_fit, y_fit, seed=seed)
    for train, _ in StratifiedKFold(folds, shuffle=True, random_state=seed).split(X_fit, y_fit):
        clone(model).fit(X_fit.iloc[train], y_fit[train])
    seconds["cv"] = time.perf_counter() - t
    t = time.perf_counter()
    model.fit(X_fit, y_fit)
    seconds["refit"] = time.perf_counter() - t
    beta = negatives_kept / negatives_seen
    weights = np.where(y_test == 1, 1.0, 1.0 / beta)  # a kept negative stands for 1 / beta of the window's
    ap = float(average_precision_score(y_test, model.predict_proba(X_test)[:, 1], sample_weight=weights))
    return {"stages": seconds, "rows_kept": len(data), "test_ap_weighted": ap, "beta": beta}


def run_product(config: Path, env: dict[str, str], limit: float) -> dict[str, Any]:
    script = Path(sys.executable).parent / "imbalance-jobs"
    cmd = [str(script), "run", str(config), "--date", RUN_DAY.isoformat(), "--run-id", "window", "--json"]
    child = run_child(cmd, timeout=limit, env=env)
    if not child.ok:
        raise RuntimeError(f"product run failed:\n{child.tail(30)}")
    summary = json.loads(child.output)
    return {
        "seconds": child.seconds,
        "peak_rss_mb": child.peak_rss_mb,
        "stages": summary["seconds"],
        "rows_kept": summary["stages"]["ingest"]["rows"],
        "beta": summary["stages"]["ingest"].get("negative_sample_beta"),
        "test_ap_weighted": summary["stages"]["evaluate"].get("candidate_ap"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_window")
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--positive-rate", type=float, default=0.003)
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--limit", type=float, default=5400.0, help="seconds per measured run")
    parser.add_argument("--bare", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--quick", action="store_true", help="200,000 rows in 3 days, 3 folds (a check)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.days, args.folds = 200_000, 3, 3
    if args.bare is not None:
        emit_result(bare(args.bare, args.fraction, args.folds, args.seed))
        return 0

    import yaml

    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp_name:
        tmp = Path(tmp_name)
        with LocalS3Server(tmp / "weed") as server:
            store = ObjectStore(server.settings)
            store.ensure_bucket("bench-window-artifacts")
            t = time.perf_counter()
            bucket, counts = write_window(store, tmp / "data", args)
            print(f"window written in {time.perf_counter() - t:.0f}s: {counts}", flush=True)
            from imbalance_jobs.config import PipelineConfig
            from imbalance_jobs.negative_sampling import sample_salt

            data = config_data(bucket, args)
            assert sample_salt(PipelineConfig.model_validate(data)) == SAMPLE_SALT  # both ways keep the same rows
            config = tmp / f"{PIPELINE}.yaml"
            config.write_text(yaml.safe_dump(data, sort_keys=False))
            env = child_env(
                IMBALANCE_S3_ENDPOINT_URL=server.endpoint_url,
                AWS_ACCESS_KEY_ID=server.settings.access_key_id or "",
                AWS_SECRET_ACCESS_KEY=server.settings.secret_access_key or "",
            )
            load_before = load_average()
            child = run_child(
                python_child("bench.bench_window", "--bare", f"s3://{bucket}/window", "--fraction",
                             str(args.fraction), "--folds", str(args.folds), "--seed", str(args.seed)),
                timeout=args.limit, env=env,
            )  # fmt: skip
            if not child.ok:
                raise RuntimeError(f"bare script failed:\n{child.tail(30)}")
            bare_result = {"seconds": child.seconds, "peak_rss_mb": child.peak_rss_mb, **read_result(child)}
            product = run_product(config, env, args.limit)
            load_after = load_average()
    payload = {
        "machine": machine(),
        "args": {k: v for k, v in vars(args).items() if k not in ("bare", "output", "quick")}
        | {"label_counts": counts},
        "bare": bare_result,
        "product": product,
        "ratio": product["seconds"] / bare_result["seconds"],
        "load_average": {"before": load_before, "after": load_after},
    }
    rows = [
        ["bare pyarrow + HGB", f"{bare_result['seconds']:.0f}", f"{bare_result['peak_rss_mb']:.0f}",
         bare_result["rows_kept"], f"{bare_result['test_ap_weighted']:.3f}"],
        ["imbalance-jobs run", f"{product['seconds']:.0f}", f"{product['peak_rss_mb']:.0f}", product["rows_kept"],
         f"{product['test_ap_weighted']:.3f}"],
    ]  # fmt: skip
    headers = ["way", "wall s", "peak RSS MiB", "rows kept", "test AP (weighted)"]
    print(table(headers, rows, title=f"{args.rows:,} rows"))
    print("product stages (s):", {k: round(v, 1) for k, v in product["stages"].items()})
    print("bare stages (s):", {k: round(v, 1) for k, v in bare_result["stages"].items()})
    print(f"ratio product / bare: {payload['ratio']:.2f}; load averages {load_before} -> {load_after}")
    write_results("window", payload, path=args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
