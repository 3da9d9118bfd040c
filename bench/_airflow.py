"""Airflow in a child process for the benchmarks: migrate a throwaway metadata DB, run a DAG with ``dag.test()``,
and time the import of one DAG file.

Airflow reads its settings once, at its first import, so the parent never imports airflow: it builds the
environment with :func:`airflow_env` and runs ``python -m bench._airflow <action>`` with it. The settings mirror
``tests/dags/airflow_env.py`` (SQLite metadata DB in a temporary AIRFLOW_HOME, the repository's dags/ and
plugins/ folders, no examples) so the benchmark runs the DAG exactly as the DAG tests do.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import REPO, emit_result

DAGS = REPO / "dags"
PLUGINS = REPO / "plugins"
HEAVY = ("sklearn", "imblearn", "pandas", "numpy", "scipy", "great_expectations", "torch", "boto3", "matplotlib")


def airflow_env(home: Path, *, configs: Path | None = None, s3: Any = None, conn_id: str = "imbalance_s3") -> dict:
    """AIRFLOW_* settings (and the pipelines' S3 connection) for a child process."""
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
    }
    if configs is not None:
        env["IMBALANCE_CONFIGS_DIR"] = str(configs)
    if s3 is not None:
        extra = {"endpoint_url": s3.endpoint_url}
        value = {"conn_type": "aws", "login": s3.access_key_id, "password": s3.secret_access_key, "extra": extra}
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(value)
    return env


def _paths() -> None:
    for folder in (DAGS, PLUGINS):  # as the DAG bag and the plugin loader put them
        if str(folder) not in sys.path:
            sys.path.append(str(folder))


def migrate() -> dict[str, Any]:
    from airflow.utils.db import initdb

    started = time.perf_counter()
    initdb()
    return {"seconds": time.perf_counter() - started}


def dag_test(dag_id: str, run_conf: dict[str, Any]) -> dict[str, Any]:
    """Parse the dags folder, run one DAG with ``dag.test()``, and report the run state and each task's seconds."""
    _paths()
    started = time.perf_counter()
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")
    if dag_id not in bag.dags:
        raise SystemExit(f"DAG {dag_id} not found; import errors: {bag.import_errors}")
    parsed = time.perf_counter()
    run = bag.dags[dag_id].test(logical_date=None, run_conf=run_conf)
    finished = time.perf_counter()
    tasks = {}
    for ti in run.get_task_instances():
        key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
        seconds = (ti.end_date - ti.start_date).total_seconds() if ti.start_date and ti.end_date else None
        tasks[key] = {"state": str(getattr(ti.state, "value", ti.state)), "seconds": seconds}
    return {
        "state": str(getattr(run.state, "value", run.state)),
        "import_and_parse_seconds": parsed - started,
        "dag_test_seconds": finished - parsed,
        "tasks": tasks,
    }


def parse_file(path: Path) -> dict[str, Any]:
    """Time the import of one DAG file in a process that already imported Airflow, as the DAG processor has."""
    import importlib.util

    _paths()
    t0 = time.perf_counter()
    import airflow.sdk  # noqa: F401 - the DAG processor has Airflow loaded before it parses any file

    t1 = time.perf_counter()
    before = set(sys.modules)
    spec = importlib.util.spec_from_file_location(f"bench_dagfile_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    error = None
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # a DAG file that raises is an import error in Airflow; record it
        error = f"{type(exc).__name__}: {exc}"
    t2 = time.perf_counter()
    new = sorted(set(sys.modules) - before)
    return {
        "file": str(path.relative_to(REPO)),
        "airflow_import_seconds": t1 - t0,
        "file_import_seconds": t2 - t1,
        "new_modules": new,
        "heavy_modules": sorted({m.split(".")[0] for m in new} & set(HEAVY)),
        "error": error,
    }


def parse_folder() -> dict[str, Any]:
    """Time a full parse of the dags folder the way the DAG processor does it (``BundleDagBag``)."""
    _paths()
    import airflow.sdk  # noqa: F401
    from airflow.dag_processing.dagbag import BundleDagBag

    started = time.perf_counter()
    bag = BundleDagBag(str(DAGS), bundle_path=DAGS, bundle_name="dags-folder")
    seconds = time.perf_counter() - started
    stats = [{"file": s.file, "seconds": s.duration.total_seconds(), "dags": s.dag_num} for s in bag.dagbag_stats]
    return {"seconds": seconds, "dags": sorted(bag.dags), "import_errors": len(bag.import_errors), "files": stats}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._airflow")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("migrate")
    p = sub.add_parser("dagtest")
    p.add_argument("dag_id")
    p.add_argument("--conf", default="{}")
    p = sub.add_parser("parse")
    p.add_argument("file", type=Path)
    sub.add_parser("dagbag")
    args = parser.parse_args(argv)
    if args.action == "migrate":
        body = migrate()
    elif args.action == "dagtest":
        body = dag_test(args.dag_id, json.loads(args.conf))
    elif args.action == "dagbag":
        body = parse_folder()
    else:
        body = parse_file(args.file.resolve())
    emit_result(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
