"""Gate calibration: over many nights, does the gate keep an equal model and promote a truly better one?

Two scenarios on generated fraud-like partitions in a local S3 server, each night a real ``run_pipeline`` with a
sliding lookback window (the DAG's stages, in process):

* ``same_recipe``: stationary data, the same candidate every night. Night 0 promotes the first champion; on each
  of the next ``--nights`` nights the same recipe competes with yesterday's champion. A calibrated gate finds
  nothing: the paired AP-gain interval should exclude 0 on about 5% of nights or fewer, and at most one promotion
  should follow the first (targets from the issue).
* ``better_candidate``: the champion is trained without an informative feature (``f0`` excluded); each night a
  candidate with every feature is judged against it as a dry run (the champion stays the weak one). The true AP
  gain is measured on 50,000 fresh rows neither model saw. Target: promoted on >= 80% of nights at a true gain of
  about 0.05 with >= 150 test positives.

Run it on two checkouts to compare code versions: ``python -m bench.bench_gate --label before`` in a worktree of
the older commit (the script only uses APIs both have), ``--label after`` here; the figures go to
``bench/results/gate-<label>.json`` and docs/benchmarks.md.

    python -m bench.bench_gate               # 20 nights per scenario
    python -m bench.bench_gate --quick       # 4 nights per scenario
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench._common import machine, markdown_table, table, write_results

START = dt.date(2026, 10, 1)
CANDIDATE = {"name": "hgb", "model": "hist_gradient_boosting", "model_params": {"max_iter": 80, "learning_rate": 0.1}}


def _config(args: argparse.Namespace, name: str, **extra: Any) -> Any:
    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.config._schema import SplitConfig

    split: dict[str, Any] = {"method": "stratified", "test_size": 0.2, "validation_size": 0.2}
    if "key" in SplitConfig.model_fields:  # the evaluation contract; older code has no row key
        split["key"] = ["txn_id"]
    body = {
        "name": name,
        "seed": 42,
        "source": {"bucket": "labeled", "prefix": "gate/dt={date}/", "lookback_days": args.lookback},
        "artifacts": {"bucket": "models"},
        "label": {"column": "is_fraud", "classes": [0, 1], "positive": 1},
        "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
        "validation": {"min_rows": 100, "min_minority_count": 10, "minority_share": {"min": 0.005, "max": 0.5}},
        "split": split,
        "training": {"cv_folds": 3, "candidates": [CANDIDATE]},
        "evaluation": {"bootstrap_samples": 1000, "confidence": args.confidence},
        "gate": {"min_ap_gain": 0.0, "min_test_positives": 20},
        "monitoring": {"enabled": False},
    }
    for key, value in extra.items():
        body[key] = {**body.get(key, {}), **value}
    return PipelineConfig.model_validate(body)


def _run(store: Any, config: Any, day: dt.date, run_id: str, **options: Any) -> dict[str, Any]:
    from imbalance_jobs.context import RunContext, RunOptions
    from imbalance_jobs.pipeline import run_pipeline

    ctx = RunContext(config, run_id, day, store, RunOptions(triggered_by="bench", **options))
    summary = run_pipeline(ctx)
    verdict = store.get_json(summary.stages["evaluate"]["verdict_uri"])
    gain = verdict.get("ap_gain") or {}
    return {
        "day": day.isoformat(),
        "decision": summary.decision,
        "gain": gain.get("delta"),
        "ci_low": gain.get("ci_low"),
        "ci_high": gain.get("ci_high"),
        "test_positives": summary.stages["evaluate"]["test_positives"],
        "compared_rows": summary.stages["evaluate"].get("compared_rows", summary.stages["evaluate"]["test_rows"]),
        "seconds": round(sum(summary.seconds.values()), 1),
    }


def _seed(store: Any, args: argparse.Namespace, days: int) -> None:
    from imbalance_jobs.synthetic import SyntheticSpec, write_partitions

    spec = SyntheticSpec(rows=args.rows_per_day, positive_rate=args.positive_rate, null_fraction=0.0)
    end = START + dt.timedelta(days=days - 1)
    write_partitions(
        store, bucket="labeled", prefix="gate/dt={date}/", pipeline="gate", end_day=end, days=days, spec=spec, seed=11
    )


def same_recipe(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    config = _config(args, "gate_same")
    first_day = START + dt.timedelta(days=args.lookback - 1)
    nights = [_run(store, config, first_day, "same-0")]
    for k in range(1, args.nights + 1):
        nights.append(_run(store, config, first_day + dt.timedelta(days=k), f"same-{k}"))
        print(f"  same_recipe night {k}: {nights[-1]}", file=sys.stderr, flush=True)
    judged = [n for n in nights[1:] if n["ci_low"] is not None]
    excludes = [n for n in judged if n["ci_low"] > 0 or n["ci_high"] < 0]
    return {
        "first": nights[0],
        "nights": nights[1:],
        "judged": len(judged),
        "ci_excludes_zero": len(excludes),
        "ci_excludes_zero_share": len(excludes) / len(judged) if judged else None,
        "promotions_after_first": sum(n["decision"] == "promote" for n in nights[1:]),
        "mean_gain": float(np.mean([n["gain"] for n in judged])) if judged else None,
    }


def _true_gain(store: Any, weak: Any, strong: Any, day: dt.date, args: argparse.Namespace) -> dict[str, float]:
    """AP of both models on 50,000 fresh rows from a day outside every window."""
    from imbalance_jobs.context import PipelineLayout
    from imbalance_jobs.evaluation import average_precision
    from imbalance_jobs.publishing import read_champion
    from imbalance_jobs.scoring import DeployedModel
    from imbalance_jobs.synthetic import SyntheticSpec, make_frame

    fresh = make_frame(
        SyntheticSpec(rows=50_000, positive_rate=args.positive_rate, null_fraction=0.0),
        seed=11,
        day=day + dt.timedelta(days=400),
    )
    y = fresh["is_fraud"].to_numpy()
    champion = read_champion(store, PipelineLayout(weak))
    out = {}
    for name, prefix in (("champion", PipelineLayout(weak).version_prefix(champion.version)), ("candidate", strong)):
        model = DeployedModel.load(store, prefix)
        out[name] = float(average_precision(y, model.proba(fresh)[:, 1]))
    return {**out, "gain": out["candidate"] - out["champion"]}


def better_candidate(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    weak = _config(args, "gate_better", features={"exclude": ["txn_id", "f0"]})
    strong = _config(args, "gate_better")
    first_day = START + dt.timedelta(days=args.lookback - 1)
    champion = _run(store, weak, first_day, "weak-0")
    nights = []
    for k in range(1, args.nights + 1):
        nights.append(_run(store, strong, first_day + dt.timedelta(days=k), f"strong-{k}", dry_run=True))
        print(f"  better_candidate night {k}: {nights[-1]}", file=sys.stderr, flush=True)
    from imbalance_jobs.context import PipelineLayout

    bundle = PipelineLayout(strong).run_uri(f"strong-{args.nights}", "selection") + "/"
    truth = _true_gain(store, weak, bundle, first_day, args)
    return {
        "champion": champion,
        "nights": nights,
        "promoted": sum(n["decision"] == "promote" for n in nights),
        "promotion_rate": sum(n["decision"] == "promote" for n in nights) / len(nights),
        "median_test_positives": float(np.median([n["test_positives"] for n in nights])),
        "true_ap": truth,
    }


def report(label: str, result: dict[str, Any]) -> str:
    a, b = result["same_recipe"], result["better_candidate"]
    headers = [
        "code",
        "same recipe: CI excludes 0",
        "promotions after first",
        "mean gain",
        "better: promoted",
        "true AP gain",
        "test positives",
    ]
    row = [
        label,
        f"{a['ci_excludes_zero']}/{a['judged']}",
        a["promotions_after_first"],
        a["mean_gain"],
        f"{b['promoted']}/{len(b['nights'])}",
        b["true_ap"]["gain"],
        b["median_test_positives"],
    ]
    return table(headers, [row], title="Gate calibration") + "\n\n" + markdown_table(headers, [row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=20)
    parser.add_argument("--rows-per-day", type=int, default=2200)
    parser.add_argument("--positive-rate", type=float, default=0.05)
    parser.add_argument("--lookback", type=int, default=7)
    parser.add_argument("--label", default="after")
    parser.add_argument("--confidence", type=float, default=0.95, help="evaluation.confidence of the gate's CI")
    parser.add_argument("--quick", action="store_true", help="4 nights per scenario")
    args = parser.parse_args(argv)
    if args.quick:
        args.nights = 4
    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-gate-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        store = ObjectStore(server.settings)
        store.ensure_bucket("models")
        _seed(store, args, args.lookback + args.nights + 1)
        result = {"same_recipe": same_recipe(store, args), "better_candidate": better_candidate(store, args)}
    payload = {
        "machine": machine(),
        "label": args.label,
        "args": vars(args),
        **result,
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(report(args.label, result))
    print(f"results: {write_results(f'gate-{args.label}', payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
