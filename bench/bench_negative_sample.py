"""Negative sampling at ingest: does a run on every positive and a share of the negatives ship as good a model?

Two real ``run_pipeline`` runs (every stage, in process, against a local S3 server) on the same generated
fraud-like window: ``all_rows`` ingests every row; ``sampled`` sets ``source.negative_sample: {fraction: F}``.
Both share the split salt and row key, so their test parts are the same rows (the sampled run tests on a sample
of them). Then both published models score *every* unsampled test row:

* Average Precision of each (uncalibrated scores, as the gate reads them) and the paired bootstrap interval of
  AP(sampled) - AP(all rows) on those rows (an interval inside about +-0.01 means no measurable loss);
* Brier score, mean calibrated probability against the positive rate and the reliability curve (10 equal bins)
  of each model's shipped probabilities (the sampled one carries the prior correction ``sample_beta``);
* the sampled run's own reported figures (weighted by 1/beta on its sampled test rows) against that truth;
* wall time and the rows each run trained on.

    python -m bench.bench_negative_sample                    # 2,000,000 rows, 0.5 % positives, fraction 0.05
    python -m bench.bench_negative_sample --rows 400000      # smaller
    python -m bench.bench_negative_sample --quick            # 200,000 rows (a check)
    python -m bench.bench_negative_sample --label 2m-regularized \
        --model-params '{"max_iter": 100, "learning_rate": 0.05, "min_samples_leaf": 200, "l2_regularization": 1.0}'
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

from bench._common import machine, markdown_table, table, write_results

RUN_DATE = dt.date(2026, 11, 27)
DEFAULT_PARAMS = '{"max_iter": 100}'
"""The product's default ``hgb`` candidate (scikit-learn's defaults, no early stopping)."""


def _config(args: argparse.Namespace, name: str, *, fraction: float | None) -> Any:
    from imbalance_jobs.config import PipelineConfig

    body: dict[str, Any] = {
        "name": name,
        "seed": 42,
        "source": {"bucket": "labeled", "prefix": "ns/dt={date}/", "lookback_days": args.days},
        "artifacts": {"bucket": "models"},
        "label": {"column": "is_fraud", "classes": [0, 1], "positive": 1},
        "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
        "validation": {"min_rows": 100, "min_minority_count": 10, "minority_share": {"min": 0.001, "max": 0.5}},
        "split": {"method": "stratified", "test_size": 0.2, "validation_size": 0.2, "key": ["txn_id"], "salt": "ns"},
        "training": {
            "cv_folds": 3,
            "candidates": [{"name": "hgb", "model": "hist_gradient_boosting", "model_params": args.params}],
        },
        "evaluation": {"bootstrap_samples": args.bootstrap},
        "gate": {"min_test_positives": 20},
        "monitoring": {"enabled": False},
    }
    if fraction is not None:
        body["source"]["negative_sample"] = {"fraction": fraction}
    return PipelineConfig.model_validate(body)


def _seed(store: Any, args: argparse.Namespace) -> None:
    from imbalance_jobs.synthetic import SyntheticSpec, write_partitions

    spec = SyntheticSpec(rows=args.rows // args.days, positive_rate=args.positive_rate, null_fraction=0.0)
    write_partitions(
        store,
        bucket="labeled",
        prefix="ns/dt={date}/",
        pipeline="ns",
        end_day=RUN_DATE,
        days=args.days,
        spec=spec,
        seed=5,
    )


def _run(store: Any, config: Any) -> dict[str, Any]:
    from imbalance_jobs.context import RunContext, RunOptions
    from imbalance_jobs.pipeline import run_pipeline

    ctx = RunContext(config, "bench", RUN_DATE, store, RunOptions(triggered_by="bench"))
    started = time.perf_counter()
    summary = run_pipeline(ctx)
    seconds = time.perf_counter() - started
    print(f"  {config.name}: {summary.decision} in {seconds:.0f}s {summary.seconds}", file=sys.stderr, flush=True)
    verdict = store.get_json(summary.stages["evaluate"]["verdict_uri"])
    return {
        "ctx": ctx,
        "version": summary.stages["publish"]["version"],
        "seconds": round(seconds, 1),
        "stage_seconds": summary.seconds,
        "fit_rows": summary.stages["select"]["fit_rows"],
        "ingested_rows": summary.stages["ingest"]["rows"],
        "reported": verdict["candidate"]["metrics"],
    }


def _truth(store: Any, runs: dict[str, dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    """Both published models on every unsampled test row: AP, paired AP gap, Brier, reliability."""
    from imbalance_jobs.evaluation import average_precision, binary_metrics, paired_bootstrap, reliability_curve
    from imbalance_jobs.ingest import read_snapshot
    from imbalance_jobs.labels import encode_labels
    from imbalance_jobs.scoring import DeployedModel
    from imbalance_jobs.split_contract import SplitSpec, hash_units

    ctx = runs["all_rows"]["ctx"]
    full, _ = read_snapshot(ctx)
    spec = SplitSpec.model_validate(store.get_json(ctx.staging_uri("split", "spec.json")))
    test = full[hash_units(full, spec) < spec.test_range[1]].reset_index(drop=True)
    del full
    y = encode_labels(test[ctx.config.label.column], ctx.config.label)
    out: dict[str, Any] = {"test_rows": len(test), "test_positives": int(y.sum()), "positive_rate": float(y.mean())}
    ranking = {}
    for name, run in runs.items():
        model = DeployedModel.load(store, run["ctx"].layout.version_prefix(run["version"]))
        raw, calibrated = model.ranking_and_scores(test)
        ranking[name] = raw
        at = binary_metrics(y, calibrated, threshold=model.threshold)
        curve = reliability_curve(y, calibrated, n_bins=10)
        out[name] = {
            "average_precision": average_precision(y, raw),
            "brier": at.brier,
            "mean_probability": float(calibrated.mean()),
            "precision": at.precision,
            "recall": at.recall,
            "threshold": model.threshold,
            "calibration": model.calibrator().to_dict(),
            "reliability": curve.to_json_dict(),
            "max_reliability_gap": _max_gap(curve),
        }
    pair = paired_bootstrap(
        y, ranking["all_rows"], ranking["sampled"], n_resamples=args.bootstrap, confidence=0.95, seed=42
    )
    out["ap_gap"] = {"delta": pair.delta, "ci_low": pair.ci_low, "ci_high": pair.ci_high}
    return out


def _max_gap(curve: Any, min_weight: float = 500) -> float:
    """Largest |mean predicted - observed rate| over bins holding at least ``min_weight`` rows."""
    gaps = [abs(p - o) for p, o, w in zip(curve.mean_predicted, curve.observed_rate, curve.weight) if w >= min_weight]
    return float(max(gaps)) if gaps else float("nan")


def report(result: dict[str, Any]) -> str:
    truth = result["truth"]
    headers = ["run", "trained on", "seconds", "AP (truth)", "Brier (truth)", "mean p / rate", "max bin gap"]
    rows = []
    for name in ("all_rows", "sampled"):
        run, t = result["runs"][name], truth[name]
        rows.append(
            [
                name,
                run["fit_rows"],
                run["seconds"],
                t["average_precision"],
                f"{t['brier']:.5f}",
                f"{t['mean_probability']:.5f} / {truth['positive_rate']:.5f}",
                f"{t['max_reliability_gap']:.3f}",
            ]
        )
    gap = truth["ap_gap"]
    reported = result["runs"]["sampled"]["reported"]
    est = ["sampled run's report", "weighted estimate", "", "truth"]
    est_rows = [
        [
            "AP",
            reported["average_precision"],
            _ci(reported["average_precision_ci"]),
            truth["sampled"]["average_precision"],
        ],
        ["precision", reported["precision"], _ci(reported["precision_ci"]), truth["sampled"]["precision"]],
        ["recall", reported["recall"], _ci(reported["recall_ci"]), truth["sampled"]["recall"]],
        ["Brier", f"{reported['brier']:.5f}", _ci(reported.get("brier_ci"), 5), f"{truth['sampled']['brier']:.5f}"],
    ]
    est[2] = "95% CI"
    lines = [
        table(headers, rows, title=f"Negative sampling (beta {result['beta']:.4f}) vs all rows, on every test row"),
        f"AP(sampled) - AP(all rows) = {gap['delta']:+.4f}, paired 95% CI [{gap['ci_low']:+.4f}, {gap['ci_high']:+.4f}]"
        f" on {truth['test_rows']} test rows ({truth['test_positives']} positives)",
        "",
        table(est, est_rows, title="The sampled run's reported (weighted) figures against the truth"),
        "",
        markdown_table(headers, rows),
        "",
        markdown_table(est, est_rows),
    ]
    return "\n".join(lines)


def _ci(ci: dict[str, float] | None, digits: int = 3) -> str:
    return "-" if not ci else f"[{ci['low']:.{digits}f}, {ci['high']:.{digits}f}]"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows in the window (all days together)")
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--positive-rate", type=float, default=0.005)
    parser.add_argument("--fraction", type=float, default=0.05, help="source.negative_sample.fraction")
    parser.add_argument("--bootstrap", type=int, default=200, help="evaluation.bootstrap_samples")
    parser.add_argument("--model-params", default=DEFAULT_PARAMS, help="the hgb candidate's model_params (JSON)")
    parser.add_argument("--label", default="after")
    parser.add_argument("--quick", action="store_true", help="200,000 rows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows = 200_000
    args.params = json.loads(args.model_params)
    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-ns-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        store = ObjectStore(server.settings)
        store.ensure_bucket("models")
        _seed(store, args)
        runs = {
            "sampled": _run(store, _config(args, "ns_sampled", fraction=args.fraction)),
            "all_rows": _run(store, _config(args, "ns_all", fraction=None)),
        }
        manifest = store.get_json(runs["sampled"]["ctx"].staging_uri("ingest", "manifest.json"))
        truth = _truth(store, runs, args)
    for run in runs.values():
        del run["ctx"]
    result = {"runs": runs, "truth": truth, "beta": manifest["negative_sample"]["beta"]}
    payload = {"machine": machine(), "label": args.label, "args": vars(args), **result}
    payload["seconds"] = round(time.perf_counter() - started, 1)
    print(report(result))
    print(f"results: {write_results(f'negative-sample-{args.label}', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
