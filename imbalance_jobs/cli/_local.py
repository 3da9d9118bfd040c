"""Embedded defaults for a laptop: ``local-s3`` (a real SeaweedFS server), ``seed`` (synthetic data), ``demo``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from imbalance_jobs.cli._common import configs_dir, local_dir, local_server_state, resolve_config, resolve_store
from imbalance_jobs.config import PipelineConfig, load_config
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.local_s3 import ACCESS_KEY, SECRET_KEY, LocalS3Server, free_port, stop_pid
from imbalance_jobs.storage import ObjectStore
from imbalance_jobs.synthetic import SyntheticSpec, write_partitions

DEFAULT_PORT = 8333


def start_local_s3(port: int | None = None) -> dict:
    """Start the local server in the background (or return the running one) and record its state."""
    state = local_server_state()
    if state:
        return state
    from imbalance_jobs.local_s3 import _is_free

    chosen = port or (DEFAULT_PORT if _is_free(DEFAULT_PORT) and _is_free(DEFAULT_PORT + 10000) else free_port())
    server = LocalS3Server(local_dir() / "s3" / "data", s3_port=chosen).start(detach=True)
    state = {
        "pid": server.process.pid,
        "endpoint_url": server.endpoint_url,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "data_dir": str(server.data_dir),
    }
    (local_dir() / "s3" / "server.json").write_text(json.dumps(state, indent=2))
    return state


def cmd_local_s3(args: argparse.Namespace) -> int:
    if args.action == "start":
        state = start_local_s3(args.port)
        print(f"local S3 server at {state['endpoint_url']} (pid {state['pid']}); data in {state['data_dir']}")
        print(f"  export IMBALANCE_S3_ENDPOINT_URL={state['endpoint_url']}  # only needed outside this folder")
        return 0
    state = local_server_state()
    if args.action == "status":
        print(f"running at {state['endpoint_url']} (pid {state['pid']})" if state else "not running")
        return 0 if state else 1
    if state:
        stop_pid(int(state["pid"]))
        print(f"stopped local S3 server (pid {state['pid']})")
    (local_dir() / "s3" / "server.json").unlink(missing_ok=True)
    return 0


def seed_pipeline(
    store: ObjectStore, config: PipelineConfig, *, end_day: dt.date, days: int, rows: int, drift: float = 0.0
) -> list[str]:
    """Write synthetic partitions shaped like this pipeline's config (label values, format, features)."""
    negative = next(c for c in config.label.classes if c != config.label.positive)
    spec = SyntheticSpec(
        rows=rows,
        label_column=config.label.column,
        label_values=(negative, config.label.positive),
        categorical=config.features.categorical != [],
        drift=drift,
    )
    store.ensure_bucket(config.artifacts.bucket)
    return write_partitions(
        store,
        bucket=config.source.bucket,
        prefix=config.source.prefix,
        pipeline=config.name,
        end_day=end_day,
        days=days,
        spec=spec,
        seed=config.seed,
        fmt=config.source.format,
    )


def cmd_seed(args: argparse.Namespace) -> int:
    config = resolve_config(args.pipeline)
    uris = seed_pipeline(
        resolve_store(), config, end_day=args.end_date, days=args.days, rows=args.rows, drift=args.drift
    )
    print(f"{config.name}: wrote {len(uris)} partition file(s), {args.rows} rows each, ending {args.end_date}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Local server + synthetic data + every example pipeline, end to end, with readable summaries."""
    from imbalance_jobs.cli._run import render_run
    from imbalance_jobs.pipeline import run_pipeline

    state = start_local_s3()
    print(f"local S3 server: {state['endpoint_url']} (data in {state['data_dir']})", file=sys.stderr)
    store = resolve_store()
    today = args.date or dt.datetime.now(dt.UTC).date()
    for path in sorted(configs_dir().glob("*.yaml")):
        config = load_config(path)
        seed_pipeline(store, config, end_day=today, days=config.source.lookback_days + 1, rows=args.rows)
        for offset, day in enumerate((today - dt.timedelta(days=1), today)):
            run_id = f"demo__{day:%Y%m%d}__{dt.datetime.now(dt.UTC):%H%M%S}"
            ctx = RunContext(
                config=config, run_id=run_id, run_date=day, store=store, options=RunOptions(triggered_by="demo")
            )
            print(
                f"\n== {config.name}: nightly run for {day} ({'first' if offset == 0 else 'second'} run) ==",
                file=sys.stderr,
            )
            print(render_run(run_pipeline(ctx)), flush=True)
    print(
        "\nNext: imbalance-jobs models list fraud · imbalance-jobs models show fraud · "
        "imbalance-jobs predict fraud FILE · make airflow (the same pipelines in the Airflow UI)"
    )
    return 0
