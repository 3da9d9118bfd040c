"""Parse cost: the time to import each DAG file and the modules it pulls in, and a whole DAG-folder parse.

The DAG processor re-imports every DAG file every few minutes (``[dag_processor] min_file_process_interval``,
30 s by default), inside a process that has Airflow loaded already. So each measurement is a fresh child process
that first imports ``airflow.sdk`` (timed separately) and then imports one DAG file; the modules that appear in
``sys.modules`` during that import are what the file pulls in. The heavy libraries (scikit-learn, pandas,
numpy, Great Expectations, torch, boto3, ...) must not be among them: tasks import them when they run.

The folder parse is ``BundleDagBag`` on dags/ as Airflow fills it, with the repository's configs/ and with
``--many`` copies of configs/fraud.yaml, to show the cost per pipeline config.

    python -m bench.bench_parse               # 5 fresh processes per measurement
    python -m bench.bench_parse --quick       # 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench._airflow import DAGS, airflow_env
from bench._common import (
    REPO,
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


def measure_file(path: Path, env: dict[str, str], repeats: int) -> dict[str, Any]:
    runs = [_child(["parse", str(path)], env) for _ in range(repeats)]
    new = runs[0]["new_modules"]
    return {
        "file": runs[0]["file"],
        "airflow_import_seconds": median([r["airflow_import_seconds"] for r in runs]),
        "file_import_seconds": median([r["file_import_seconds"] for r in runs]),
        "file_import_all": [round(r["file_import_seconds"], 4) for r in runs],
        "new_modules": new,
        "new_packages": sorted({m.split(".")[0] for m in new}),
        "heavy_modules": runs[0]["heavy_modules"],
        "error": runs[0]["error"],
    }


def measure_folder(env: dict[str, str], repeats: int) -> dict[str, Any]:
    runs = [_child(["dagbag"], env) for _ in range(repeats)]
    return {
        "seconds": median([r["seconds"] for r in runs]),
        "dags": len(runs[0]["dags"]),
        "import_errors": runs[0]["import_errors"],
        "files": {
            f["file"]: median([next(x["seconds"] for x in r["files"] if x["file"] == f["file"]) for r in runs])
            for f in runs[0]["files"]
        },
    }


def _child(action: list[str], env: dict[str, str]) -> dict[str, Any]:
    child = run_child(python_child("bench._airflow", *action), timeout=300, env=env)
    if not child.ok:
        raise RuntimeError(f"bench._airflow {' '.join(action)} failed:\n{child.tail(20)}")
    return read_result(child)


def many_configs(folder: Path, count: int) -> Path:
    """``count`` copies of configs/fraud.yaml under distinct names."""
    data = yaml.safe_load((REPO / "configs" / "fraud.yaml").read_text())
    folder.mkdir()
    for i in range(count):
        (folder / f"fraud_{i:03d}.yaml").write_text(yaml.safe_dump({**data, "name": f"fraud_{i:03d}"}))
    return folder


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_parse", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 processes per measurement")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--many", type=int, default=20, help="configs in the second folder parse")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/parse.json)")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 2
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    env_info, started = machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        home = Path(tmp) / "airflow"
        home.mkdir()
        env = child_env(**airflow_env(home, configs=REPO / "configs"))
        files = [measure_file(p, env, args.repeats) for p in sorted(DAGS.glob("*.py"))]
        folders = {"configs/ (repository)": measure_folder(env, args.repeats)}
        many = many_configs(Path(tmp) / "many", args.many)
        folders[f"{args.many} copies of fraud.yaml"] = measure_folder(
            {**env, **airflow_env(home, configs=many)}, args.repeats
        )
    report(files, folders)
    payload = {"benchmark": "parse", "machine": env_info, "args": vars(args), "files": files, "folders": folders}
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("parse", payload, path=Path(args.output) if args.output else None)
    print(f"\nwrote {path} ({payload['total_seconds']:.0f}s)")
    return 0


FILE_HEADERS = ["DAG file", "import s", "airflow.sdk import s", "new modules", "new top-level packages", "heavy"]
FOLDER_HEADERS = ["configs", "DAGs", "DagBag parse s", "per file s"]


def report(files: list[dict[str, Any]], folders: dict[str, dict[str, Any]]) -> None:
    rows = [
        [
            f["file"],
            f"{f['file_import_seconds']:.3f}",
            f"{f['airflow_import_seconds']:.2f}",
            len(f["new_modules"]),
            ", ".join(f["new_packages"]),
            ", ".join(f["heavy_modules"]) or "none",
        ]
        for f in files
    ]
    print(table(FILE_HEADERS, rows, title="\nimport of each DAG file (median of fresh processes)"))
    print("\n" + markdown_table(FILE_HEADERS, rows))
    rows = [
        [name, f["dags"], f"{f['seconds']:.3f}", ", ".join(f"{k} {v:.3f}" for k, v in f["files"].items())]
        for name, f in folders.items()
    ]
    print(table(FOLDER_HEADERS, rows, title="\nwhole dags/ folder parse (BundleDagBag)"))
    print("\n" + markdown_table(FOLDER_HEADERS, rows))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
