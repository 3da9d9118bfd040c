"""Scaling: time and peak memory of every resampling strategy and every scikit-learn model as the rows grow.

Data: ``make_classification(n_features=20, n_informative=10, weights=[0.95, 0.05], random_state=0)`` at each size,
generated once and saved to ``.npy`` so that each measurement only loads it. Every measurement runs in its own
child process (its peak RSS is its own) under a time limit; a run past the limit is reported as ``> limit``,
and a size whose time, extrapolated linearly from the previous size (a lower bound for the superlinear
neighbour-based samplers), would pass the limit is skipped and reported as ``skip (>= N s est.)``.

What is timed, built from the product's own registries with default parameters and the config seed 0:

* strategy ``name``: ``fit_resample`` of the sampler ``imbalance_jobs.resampling.build_strategy`` makes (the
  imbalanced-learn defaults: balance to 1:1), on the scaled feature matrix. ``smotenc`` gets two extra
  categorical code columns; ``smoten`` gets the 20 features binned into 8 categories each. ``none`` and
  ``class_weight`` have no sampler and cost nothing here.
* model ``name``: ``fit`` of ``imbalance_jobs.models.build_pipeline`` (imputation + scaling + the estimator, default
  parameters; RandomForest / ExtraTrees: 100 trees, ``n_jobs`` unset = 1) on all rows, no sampler.

A candidate costs roughly (sampler + model on the resampled rows) x (cv_folds + 1) per nightly run.

    python -m bench.bench_scaling                  # 100k, 400k, 1M rows; 3 repeats; 300 s limit
    python -m bench.bench_scaling --quick          # 20k, 50k rows; 1 repeat
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

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
from imbalance_jobs.config import RESAMPLER_NAMES, SKLEARN_MODEL_NAMES

STRATEGIES = RESAMPLER_NAMES  # every resampler; "none" and "class_weight" cost nothing before the fit
MODELS = SKLEARN_MODEL_NAMES
N_FEATURES = 20


# -- the measured child -----------------------------------------------------------------------------------------
def _features(kind: str, name: str) -> Any:
    from imbalance_jobs.features import FeatureSpec

    numeric = tuple(f"x{i:02d}" for i in range(N_FEATURES))
    if kind == "strategy" and name == "smotenc":
        return FeatureSpec(numeric=numeric, categorical=("c0", "c1"))
    if kind == "strategy" and name == "smoten":
        return FeatureSpec(numeric=(), categorical=numeric)
    return FeatureSpec(numeric=numeric, categorical=())


def _matrix(X: np.ndarray, kind: str, name: str) -> np.ndarray:
    """What the sampler sees after preprocessing: scaled numbers, then category codes where the strategy needs them."""
    from sklearn.preprocessing import StandardScaler

    if kind == "strategy" and name == "smoten":
        edges = np.quantile(X, np.linspace(0, 1, 9)[1:-1], axis=0)
        return np.stack([np.searchsorted(edges[:, j], X[:, j]) for j in range(X.shape[1])], axis=1).astype(float)
    scaled = StandardScaler().fit_transform(X)
    if kind == "strategy" and name == "smotenc":
        codes = [np.searchsorted(np.quantile(X[:, j], [0.25, 0.5, 0.75]), X[:, j]) for j in (0, 1)]
        return np.column_stack([scaled, *codes]).astype(float)
    return scaled


def measure(kind: str, name: str, data: Path) -> dict[str, Any]:
    """Runs in the child: load the rows, then time one ``fit_resample`` or pipeline ``fit``."""
    import pandas as pd
    import psutil

    from imbalance_jobs.config import CandidateConfig

    X, y = np.load(data / "X.npy"), np.load(data / "y.npy")
    features = _features(kind, name)
    if kind == "strategy":
        from imbalance_jobs.resampling import build_strategy

        candidate = CandidateConfig(name="bench", imbalance=name)
        sampler = build_strategy(candidate, features, y, seed=0).sampler
        inputs: tuple[Any, ...] = (_matrix(X, kind, name), y)
        call = sampler.fit_resample
    else:
        from imbalance_jobs.models import build_pipeline

        pipeline = build_pipeline(CandidateConfig(name="bench", model=name), features, y, seed=0)
        inputs = (pd.DataFrame(X, columns=list(features.numeric)), y)
        call = pipeline.fit
    rss_before = psutil.Process().memory_info().rss
    _reset_peak()
    started = time.perf_counter()
    out = call(*inputs)
    seconds = time.perf_counter() - started
    peak = _peak_bytes()
    rows_out = len(out[1]) if kind == "strategy" else len(y)
    return {"seconds": seconds, "rows_out": rows_out, "added_mb": max(0, peak - rss_before) / 2**20}


def _reset_peak() -> None:
    """Reset this process's high-water RSS to its current RSS (Linux ``clear_refs``), so the peak is the call's."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# -- the parent -------------------------------------------------------------------------------------------------
def prepare(sizes: list[int], folder: Path) -> dict[int, Path]:
    from sklearn.datasets import make_classification

    paths = {}
    for n in sizes:
        X, y = make_classification(
            n_samples=n, n_features=N_FEATURES, n_informative=10, weights=[0.95, 0.05], random_state=0
        )
        paths[n] = folder / str(n)
        paths[n].mkdir()
        np.save(paths[n] / "X.npy", X)
        np.save(paths[n] / "y.npy", y)
    return paths


def one_run(kind: str, name: str, data: Path, limit: float) -> dict[str, Any]:
    cmd = python_child("bench.bench_scaling", "--measure", json.dumps([kind, name, str(data)]))
    child = run_child(cmd, timeout=limit + 60, env=child_env())  # + imports and data loading
    if child.timed_out:
        return {"status": "timeout"}
    if not child.ok:
        return {"status": "failed", "error": child.tail(3)}
    body = read_result(child)
    status = "timeout" if body["seconds"] > limit else "ok"
    return {**body, "status": status, "peak_rss_mb": child.peak_rss_mb, "process_seconds": child.seconds}


def run_item(kind: str, name: str, paths: dict[int, Path], args: argparse.Namespace) -> dict[int, dict[str, Any]]:
    """Every size of one strategy or model, smallest first; sizes predicted past the limit are skipped."""
    out: dict[int, dict[str, Any]] = {}
    last: tuple[int, float] | None = None
    for n in sorted(paths):
        if last is not None and (last[1] is None or last[1] * n / last[0] > args.limit):
            estimate = None if last[1] is None else last[1] * n / last[0]
            out[n] = {"status": "skipped", "estimate_seconds": estimate}
            last = (n, estimate)
            continue
        runs = [one_run(kind, name, paths[n], args.limit)]
        while runs[-1]["status"] == "ok" and runs[0]["seconds"] < args.repeat_under and len(runs) < args.repeats:
            runs.append(one_run(kind, name, paths[n], args.limit))
        out[n] = summarise(runs)
        last = (n, out[n].get("seconds") if out[n]["status"] == "ok" else None)
        print(f"  {kind} {name} @ {n:,}: {cell(out[n], args.limit)}", file=sys.stderr, flush=True)
    return out


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r["status"] == "ok"]
    if not ok:
        return runs[-1]
    return {
        "status": "ok",
        "repeats": len(ok),
        "seconds": median([r["seconds"] for r in ok]),
        "seconds_all": [round(r["seconds"], 3) for r in ok],
        "peak_rss_mb": median([r["peak_rss_mb"] for r in ok]),
        "added_mb": median([r["added_mb"] for r in ok]),
        "rows_out": ok[0]["rows_out"],
    }


def cell(m: dict[str, Any], limit: float) -> str:
    """``seconds s, +added MB``: the call's time and the memory it added over the loaded data (peak in JSON)."""
    if m["status"] == "ok":
        sec = f"{m['seconds']:.2f}" if m["seconds"] < 10 else f"{m['seconds']:.0f}"
        return f"{sec} s, +{m['added_mb']:.0f} MB"
    if m["status"] == "timeout":
        return f"> {limit:.0f} s"
    if m["status"] == "skipped":
        est = m.get("estimate_seconds")
        return f"skip (>= {est:.0f} s est.)" if est else "skip (smaller size over limit)"
    return "failed"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k and 50k rows, one run each")
    parser.add_argument("--sizes", default="100000,400000,1000000")
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--repeat-under", type=float, default=60.0, help="repeat only runs faster than this (s)")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds after which a run is impractical")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/scaling.json)")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = "20000,50000", 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.measure:
        kind, name, data = json.loads(args.measure)
        emit_result(measure(kind, name, Path(data)))
        return 0
    sizes = [int(v) for v in args.sizes.split(",")]
    items = [("strategy", s) for s in args.strategies.split(",") if s] + [
        ("model", m) for m in args.models.split(",") if m
    ]
    env, started = machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-scaling-") as tmp:
        paths = prepare(sizes, Path(tmp))
        results = {f"{kind} {name}": run_item(kind, name, paths, args) for kind, name in items}
    headers = ["strategy / model", *(f"{n:,} rows" for n in sizes), f"rows out @ {sizes[0]:,}"]
    rows = [
        [key, *(cell(r[n], args.limit) for n in sizes), r[sizes[0]].get("rows_out", "-")] for key, r in results.items()
    ]
    print(
        table(
            headers,
            rows,
            title=f"\nseconds per fit_resample or fit, and the RSS it added over the loaded data (limit {args.limit:.0f} s)",
        )
    )
    print("\n" + markdown_table(headers, rows))
    payload = {"benchmark": "scaling", "machine": env, "args": vars(args), "results": results}
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("scaling", payload, path=Path(args.output) if args.output else None)
    print(f"\nwrote {path} ({payload['total_seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
