"""Overhead: wall time and peak RSS of the product against the bare script, on the same data and candidate.

(a) ``bench/_bare.py``: load the parquet partitions from local disk -> the same ``--cv``-fold cross-validation and
    refit as the product's train stage -> score (the candidate's own ``build_pipeline``, so only the product's
    machinery differs).
(b) ``imbalance-jobs run`` on the same partitions in a local S3 server (SeaweedFS), the same candidate only:
    ingest -> validate (Great Expectations) -> split -> train (``--cv``-fold CV + refit) -> select (calibration
    + threshold) -> evaluate (bootstrap) -> publish.
(c) the Airflow DAG of the same config, run with ``dag.test()`` against a migrated SQLite metadata DB (tasks run
    one at a time there, so ``[imbalance_jobs] parallel_tasks`` is 1: the same thread budget as the CLI).

Orchestration overhead of (b): its wall time minus the ``fit_seconds`` its train stage reports, as a share of the
wall time; and (b)/(a). Every run records the 1-minute load average before and after it (the machine is shared).

Data: ``imbalance_jobs.synthetic.make_frame`` (fraud-like: ``--numeric`` numeric + amount + 2 categorical
columns, 1% nulls, ``--positive-rate`` positives) in ``--days`` daily partitions. "The selected candidate" is what the product's default sweep picks
by itself at the smallest size (one extra ``imbalance-jobs run`` with no candidates listed, reported too), unless
``--candidate`` names one. Every run is a first run: the artifacts are deleted between runs, so no champion is
re-scored. Each measurement is its own child process (its wall time includes the interpreter start and imports,
as a user waits for them); figures are medians of ``--repeats`` runs, interleaved (a), (b), (c).

    python -m bench.bench_overhead                # 100k and 1M rows, 3 repeats
    python -m bench.bench_overhead --quick        # 20k and 50k rows, 1 repeat
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench._airflow import airflow_env
from bench._common import (
    ChildRun,
    child_env,
    machine,
    markdown_table,
    median,
    python_child,
    read_result,
    run_child,
    table,
    write_results,
)

RUN_DAY = dt.date(2026, 11, 27)
PIPELINE = "bench_overhead"
DAG_ID = f"retrain_{PIPELINE}"
ARTIFACTS = "bench-models"
DAG_ORDER = ("parse", "prepare", "load", "ingest", "validate", "split", "fit", "train", "select", "evaluate", "score")
DAG_ORDER += ("decide", "publish", "record_rejection", "monitor", "report", "alert_on_failure")


def _stage_order(name: str) -> tuple[int, str]:
    """Pipeline order for the bare script's steps, CLI stages and DAG tasks (``train[0]`` sorts with ``train``)."""
    base = name.split("[")[0].split(" ")[0]
    order = {n: i for i, n in enumerate(DAG_ORDER)}
    return order.get(base, len(order)), name


# -- setup ------------------------------------------------------------------------------------------------------
def write_data(store: Any, folder: Path, rows: int, days: int, args: argparse.Namespace | None = None) -> str:
    """The same parquet bytes in local files (for the bare script) and in the S3 bucket (for the product)."""
    from imbalance_jobs.ingest import partition_days
    from imbalance_jobs.synthetic import make_frame

    bucket = f"bench-src-{rows}"
    store.ensure_bucket(bucket)
    for day in partition_days(RUN_DAY, days):
        local = folder / f"dt={day.isoformat()}" / "part-0.parquet"
        local.parent.mkdir(parents=True)
        make_frame(_spec(rows // days, args), seed=42, day=day).to_parquet(local, index=False)
        store.put_bytes(f"s3://{bucket}/bench/dt={day.isoformat()}/part-0.parquet", local.read_bytes())
    return bucket


def _spec(rows: int, args: argparse.Namespace | None) -> Any:
    from imbalance_jobs.synthetic import SyntheticSpec

    if args is None:
        return SyntheticSpec(rows=rows)
    return SyntheticSpec(rows=rows, positive_rate=args.positive_rate, n_numeric=args.numeric)


def config_data(bucket: str, days: int, candidate: str | None, cv: int = 5) -> dict[str, Any]:
    """The bench pipeline: product defaults, the given candidate only (None: the default sweep)."""
    data: dict[str, Any] = {
        "name": PIPELINE,
        "schedule": None,
        "seed": 42,
        "source": {"bucket": bucket, "prefix": "bench/dt={date}/", "lookback_days": days},
        "artifacts": {"bucket": ARTIFACTS},
        "label": {"column": "is_fraud"},
        "features": {"exclude": ["txn_id"], "timestamp": "event_time"},
    }
    if candidate is not None:
        from imbalance_jobs.config import default_candidates

        chosen = {c.name: c for c in default_candidates()}[candidate]
        data["training"] = {"candidates": [chosen.model_dump(exclude_none=True)]}
    data.setdefault("training", {})["cv_folds"] = cv
    data["validation"] = {"minority_share": {"min": 0.001, "max": 0.5}, "min_minority_count": 10}
    return data


def write_config(folder: Path, data: dict[str, Any]) -> Path:
    for old in folder.glob("*.yaml"):
        old.unlink()
    path = folder / f"{PIPELINE}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# -- the three ways -------------------------------------------------------------------------------------------
def cli_command() -> list[str]:
    script = Path(sys.executable).parent / "imbalance-jobs"
    return (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "import sys; from imbalance_jobs.cli import main; sys.exit(main())"]
    )


def run_bare(data: Path, candidate: str, limit: float, cv: int = 0) -> dict[str, Any]:
    cmd = python_child("bench._bare", str(data), "--candidate", candidate, "--cv", str(cv))
    child = run_child(cmd, timeout=limit, env=child_env())
    return _measured(
        child, lambda: {**read_result(child)["seconds"], "_fit_seconds": read_result(child)["fit_seconds"]}
    )


def run_cli(config: Path, run_id: str, env: dict[str, str], limit: float) -> dict[str, Any]:
    cmd = [*cli_command(), "run", str(config), "--date", RUN_DAY.isoformat(), "--run-id", run_id, "--json"]
    child = run_child(cmd, timeout=limit, env=env)
    return _measured(child, lambda: _cli_stages(json.loads(child.output)))


def _cli_stages(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        **summary["seconds"],
        "_fit_seconds": sum(c["fit_seconds"] for c in summary["stages"]["train"]),
        "_selected": summary["stages"]["select"]["candidate"],
        "_leaderboard": summary["stages"]["select"]["leaderboard"],
    }


def run_dag(env: dict[str, str], limit: float) -> dict[str, Any]:
    conf = json.dumps({"data_date": RUN_DAY.isoformat()})
    child = run_child(python_child("bench._airflow", "dagtest", DAG_ID, "--conf", conf), timeout=limit, env=env)
    return _measured(child, lambda: _dag_stages(read_result(child)))


def _dag_stages(body: dict[str, Any]) -> dict[str, Any]:
    if body["state"] != "success":
        raise RuntimeError(f"DAG run ended {body['state']}: {body['tasks']}")
    stages = {"parse (DagBag)": body["import_and_parse_seconds"]}
    ran = {task: t["seconds"] for task, t in body["tasks"].items() if t["state"] != "skipped"}
    stages.update({task: seconds for task, seconds in ran.items() if seconds is not None})
    return stages


def _measured(child: ChildRun, stages: Any) -> dict[str, Any]:
    if not child.ok:
        why = "timed out" if child.timed_out else f"exit {child.returncode}"
        raise RuntimeError(f"measurement failed ({why}):\n{child.tail(25)}")
    measured = {"seconds": child.seconds, "peak_rss_mb": child.peak_rss_mb, "stages": stages()}
    measured["load_after"] = round(os.getloadavg()[0], 2)
    fit = measured["stages"].pop("_fit_seconds", None)
    if fit is not None:
        measured["fit_seconds"] = fit
    return measured


# -- one size ---------------------------------------------------------------------------------------------------
def measure_size(ctx: dict[str, Any], rows: int, args: argparse.Namespace) -> dict[str, Any]:
    """Interleaved repeats of (a), (b), (c) at one size; the artifacts are wiped before each product run."""
    folder = ctx["tmp"] / f"data-{rows}"
    bucket = write_data(ctx["store"], folder, rows, args.days, args)
    if ctx.get("candidate") is None:
        ctx["selection"] = select_candidate(ctx, bucket, rows, args)
        ctx["candidate"] = ctx["selection"]["selected"]
    config = write_config(ctx["configs"], config_data(bucket, args.days, ctx["candidate"], args.cv))
    runs: dict[str, list[dict[str, Any]]] = {"a": [], "b": [], "c": []}
    for i in range(args.repeats):
        runs["a"].append(run_bare(folder, ctx["candidate"], args.limit, args.cv))
        _wipe(ctx)
        runs["b"].append(run_cli(config, f"bench-{rows}-{i}", ctx["cli_env"], args.limit))
        if not args.skip_dag:
            _wipe(ctx)
            runs["c"].append(run_dag(ctx["airflow_env"], args.limit))
        print(
            f"  {rows:,} rows, repeat {i + 1}: "
            + ", ".join(f"({k}) {v[-1]['seconds']:.1f}s" for k, v in runs.items() if v),
            file=sys.stderr,
            flush=True,
        )
    return {"rows": rows, "runs": runs, "median": {k: _medians(v) for k, v in runs.items() if v}}


def select_candidate(ctx: dict[str, Any], bucket: str, rows: int, args: argparse.Namespace) -> dict[str, Any]:
    """One product run with the default candidate sweep: which candidate the product picks by itself."""
    config = write_config(ctx["configs"], config_data(bucket, args.days, None, args.cv))
    _wipe(ctx)
    run = run_cli(config, f"bench-select-{rows}", ctx["cli_env"], args.limit)
    selected = run["stages"].pop("_selected")
    board = run["stages"].pop("_leaderboard")
    print(f"  default sweep at {rows:,} rows picked {selected} ({run['seconds']:.0f}s)", file=sys.stderr, flush=True)
    return {"rows": rows, "selected": selected, "leaderboard": board, **run}


def _wipe(ctx: dict[str, Any]) -> None:
    ctx["store"].delete_prefix(f"s3://{ARTIFACTS}/{PIPELINE}/")


def _medians(runs: list[dict[str, Any]]) -> dict[str, Any]:
    names = sorted((k for k in runs[0]["stages"] if not k.startswith("_")), key=_stage_order)
    fits = [r["fit_seconds"] for r in runs if "fit_seconds" in r]
    return {
        "seconds": median([r["seconds"] for r in runs]),
        "fit_seconds": median(fits) if fits else None,
        "overhead_share": median([1 - r["fit_seconds"] / r["seconds"] for r in runs]) if fits else None,
        "load_after": [r["load_after"] for r in runs],
        "peak_rss_mb": median([r["peak_rss_mb"] for r in runs]),
        "stages": {k: median([r["stages"].get(k) or 0.0 for r in runs]) for k in names},
    }


# -- report -----------------------------------------------------------------------------------------------------
SUMMARY_HEADERS = ["rows", "(a) bare s", "(b) CLI s", "(c) DAG s", "(b)/(a)", "(c)/(a)", "(c)/(b)"]
SUMMARY_HEADERS += ["(a) fit s", "(b) fit s", "(b) overhead", "(a) MB", "(b) MB", "(c) MB", "load (1 min)"]


def summary_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    rows = []
    for r in results:
        m = r["median"]
        a, b, c = (m.get(k, {}) for k in "abc")
        rows.append(
            [
                f"{r['rows']:,}",
                f"{a['seconds']:.1f}",
                f"{b['seconds']:.1f}",
                f"{c['seconds']:.1f}" if c else "-",
                f"{b['seconds'] / a['seconds']:.1f}x",
                f"{c['seconds'] / a['seconds']:.1f}x" if c else "-",
                f"{c['seconds'] / b['seconds']:.2f}x" if c else "-",
                f"{a['fit_seconds']:.1f}" if a.get("fit_seconds") else "-",
                f"{b['fit_seconds']:.1f}" if b.get("fit_seconds") else "-",
                f"{100 * b['overhead_share']:.0f}%" if b.get("overhead_share") is not None else "-",
                f"{a['peak_rss_mb']:.0f}",
                f"{b['peak_rss_mb']:.0f}",
                f"{c['peak_rss_mb']:.0f}" if c else "-",
                " ".join(f"{x:.1f}" for k in "abc" for x in m.get(k, {}).get("load_after", [])),
            ]
        )
    return rows


def stage_rows(result: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for key, label in (("a", "(a) bare"), ("b", "(b) CLI"), ("c", "(c) DAG")):
        m = result["median"].get(key)
        if not m:
            continue
        stages = dict(m["stages"])
        rest = m["seconds"] - sum(stages.values())
        stages["process start, imports, other"] = rest
        rows += [[f"{label} {name}", f"{sec:.2f}", f"{100 * sec / m['seconds']:.0f}%"] for name, sec in stages.items()]
    return rows


def report(payload: dict[str, Any]) -> None:
    results = payload["results"]
    print(table(SUMMARY_HEADERS, summary_rows(results), title="\nmedian wall time and peak RSS"))
    print("\n" + markdown_table(SUMMARY_HEADERS, summary_rows(results)))
    for r in results:
        print(table(["stage", "s", "share"], stage_rows(r), title=f"\ntime per stage at {r['rows']:,} rows"))
        print("\n" + markdown_table(["stage", "s", "share"], stage_rows(r)))
    sel = payload.get("selection")
    if sel:
        board = "; ".join(f"{b['name']} {b['cv_mean']:.4f}" for b in sel["leaderboard"] if b["cv_mean"] is not None)
        print(
            f"\ndefault sweep at {sel['rows']:,} rows: picked {sel['selected']} in {sel['seconds']:.0f}s "
            f"(CV AP: {board})"
        )


# -- main -------------------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_overhead", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k and 50k rows, one repeat")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--days", type=int, default=4, help="daily partitions the rows are spread over")
    parser.add_argument("--cv", type=int, default=3, help="CV folds of the product and of the bare script")
    parser.add_argument("--positive-rate", type=float, default=0.05)
    parser.add_argument("--numeric", type=int, default=8, help="numeric feature columns besides amount")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--candidate", default=None, help="skip the default-sweep run and use this candidate")
    parser.add_argument("--skip-dag", action="store_true", help="(a) and (b) only")
    parser.add_argument("--limit", type=float, default=1800.0, help="seconds before one run is killed")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/overhead.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.repeats = "20000,50000", 1
    return args


def main(argv: list[str] | None = None) -> int:
    from imbalance_jobs.local_s3 import LocalS3Server

    args = parse_args(argv)
    env, started = machine(), time.perf_counter()
    payload: dict[str, Any] = {"benchmark": "overhead", "machine": env, "args": vars(args)}
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        ctx = setup(Path(tmp), server, args)
        payload["airflow_migrate_seconds"] = ctx.get("migrate_seconds")
        payload["results"] = [measure_size(ctx, int(n), args) for n in args.sizes.split(",")]
        payload["candidate"], payload["selection"] = ctx["candidate"], ctx.get("selection")
    report(payload)
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("overhead", payload, path=Path(args.output) if args.output else None)
    print(f"\nwrote {path} ({payload['total_seconds']:.0f}s)")
    return 0


def setup(tmp: Path, server: Any, args: argparse.Namespace) -> dict[str, Any]:
    """The object store, the configs folder, the CLI and Airflow environments, the migrated metadata DB."""
    from imbalance_jobs.storage import ObjectStore

    store = ObjectStore(server.settings)
    store.ensure_bucket(ARTIFACTS)
    configs, home = tmp / "configs", tmp / "airflow"
    configs.mkdir()
    home.mkdir()
    s3 = server.settings
    ctx: dict[str, Any] = {"tmp": tmp, "store": store, "configs": configs, "candidate": args.candidate}
    ctx["cli_env"] = child_env(
        IMBALANCE_S3_ENDPOINT_URL=s3.endpoint_url,
        AWS_ACCESS_KEY_ID=s3.access_key_id,
        AWS_SECRET_ACCESS_KEY=s3.secret_access_key,
    )
    # dag.test() runs one task at a time: one parallel task, the CLI's thread budget
    ctx["airflow_env"] = child_env(
        **airflow_env(home, configs=configs, s3=s3), AIRFLOW__IMBALANCE_JOBS__PARALLEL_TASKS="1"
    )
    if not args.skip_dag:
        child = run_child(python_child("bench._airflow", "migrate"), timeout=600, env=ctx["airflow_env"])
        ctx["migrate_seconds"] = _measured(child, lambda: read_result(child))["seconds"]
    return ctx


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
