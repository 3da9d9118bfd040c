"""Cost of the default candidate sweep: one fit of each member (and of the alternatives weighed against it).

Data: fraud-like rows from ``imbalance_jobs.synthetic.make_frame`` (8 numeric features, 2 categoricals, 1%
positives) at each size. Each measurement is one ``imbalance_jobs.training.fit_candidate`` (the product's own
pipeline: preprocessing, sampler, model) in its own child process under a time limit, one native thread. A nightly
run costs about ``(cv_folds + 1)`` fits per candidate.

    python -m bench.bench_sweep                   # 100k and 1M rows, 600 s limit per fit
    python -m bench.bench_sweep --quick           # 20k rows
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from bench._common import (
    child_env,
    emit_result,
    machine,
    markdown_table,
    python_child,
    read_result,
    run_child,
    table,
    write_results,
)

ALTERNATIVES: dict[str, dict[str, Any]] = {
    "logreg_balanced": {"model": "logistic_regression", "imbalance": "class_weight"},
    "hgb_under": {
        "model": "hist_gradient_boosting",
        "imbalance": "random_under",
        "imbalance_params": {"sampling_strategy": 0.25},
    },
    "et_under": {
        "model": "extra_trees",
        "model_params": {"n_estimators": 200, "min_samples_leaf": 2},
        "imbalance": "random_under",
        "imbalance_params": {"sampling_strategy": 0.25},
    },
}


def _candidates() -> dict[str, Any]:
    from imbalance_jobs.config import CandidateConfig, default_candidates

    out = {c.name: c for c in default_candidates()}
    out.update({name: CandidateConfig(name=name, **spec) for name, spec in ALTERNATIVES.items()})
    return out


def child(name: str, rows: int) -> None:
    """One fit of candidate ``name`` on ``rows`` generated rows; prints the result line."""
    import datetime as dt

    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.synthetic import SyntheticSpec, make_frame
    from imbalance_jobs.training import fit_candidate

    frame = make_frame(SyntheticSpec(rows=rows, positive_rate=0.01), seed=0, day=dt.date(2026, 11, 27))
    candidate = _candidates()[name]
    config = PipelineConfig.model_validate(
        {
            "name": "sweep",
            "source": {"bucket": "src"},
            "artifacts": {"bucket": "art"},
            "label": {"column": "is_fraud"},
            "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
            "training": {"candidates": [candidate.model_dump()]},
        }
    )
    started = time.perf_counter()
    fitted = fit_candidate(candidate, frame, config)
    emit_result({"seconds": time.perf_counter() - started, "fit_rows": sum(fitted.class_counts_after.values())})


def measure(names: list[str], sizes: list[int], limit: float) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        for name in names:
            run = run_child(
                python_child("bench.bench_sweep", "--child", name, str(size)), timeout=limit, env=child_env()
            )
            result = read_result(run) if run.ok else {}
            rows.append(
                {
                    "candidate": name,
                    "rows": size,
                    "fit_seconds": result.get("seconds"),
                    "model_rows": result.get("fit_rows"),
                    "peak_rss_mb": run.peak_rss_mb,
                    "status": "ok" if run.ok else ("timeout" if run.timed_out else f"failed: {run.tail(3)}"),
                }
            )
            print(f"  {name} at {size}: {rows[-1]}", file=sys.stderr, flush=True)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("CANDIDATE", "ROWS"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--limit", type=float, default=600.0, help="seconds per fit")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]))
        return 0
    sizes = [20_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    rows = measure(list(_candidates()), sizes, args.limit)
    headers = ["candidate", "rows", "one fit (s)", "rows the model saw", "peak RSS (MB)", "status"]
    cells = [
        [r["candidate"], r["rows"], r["fit_seconds"], r["model_rows"], round(r["peak_rss_mb"]), r["status"]]
        for r in rows
    ]
    print(table(headers, cells, title="One fit per candidate (x (cv_folds + 1) per nightly run)"))
    print("\n" + markdown_table(headers, cells))
    print(f"results: {write_results('sweep', {'machine': machine(), 'rows': rows})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
