"""Threads that do not fight: the two example DAGs run side by side in ``make airflow``'s setup, then each pipeline
alone in the CLI on the same data, and the Airflow / CLI ratio.

The Airflow part is ``make airflow`` (``scripts.local_airflow``: SQLite, LocalExecutor, ``[core] parallelism``
4, the DAGs unpaused so each scheduled DAG starts its latest interval at once) against a fresh local S3 server
seeded as ``make airflow`` seeds it. The timed span of a DAG is its run's start to end as Airflow records it; the
train tasks' own durations and the thread budget each task logged are reported too. Then, for each pipeline, its
artifacts are wiped and ``imbalance-jobs run`` runs the same data day (a first run too, so no champion is
re-scored). The 1-minute load average is recorded at each step: the machine may be shared.

    python -m bench.bench_threads                       # this checkout
    PYTHONPATH=/path/to/other/checkout python bench/bench_threads.py --label before   # another checkout's code
    IMBALANCE_THREADS=2 python -m bench.bench_threads --label uncapped                # every task takes 2 threads
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PIPELINES = ("fraud", "defects")


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run_airflow(tmp: Path, state: dict[str, str], timeout: float) -> dict[str, Any]:
    """Start make airflow's components, wait for both DAGs' first runs, return their timings; stop everything."""
    import scripts.local_airflow as la

    home = tmp / "airflow"
    home.mkdir()
    port = la.free_port(0)
    env = la.local_env(home, port, state)
    env = {**env, "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO"}
    la.migrate(env, home / "logs")
    password = la.admin_password(home)
    started = time.monotonic()
    # api-server first (as start_all does now; spelled out so an older checkout's code starts the same way)
    components = [la.start("api-server", la.component_args("api-server", port), env, home / "logs")]
    try:
        la.wait_for_api(f"http://127.0.0.1:{port}", components)
        for name in ("scheduler", "dag-processor", "triggerer"):
            components.append(la.start(name, la.component_args(name, port), env, home / "logs"))
        api = _Api(f"http://127.0.0.1:{port}", password)
        runs = _wait_for_runs(api, components, la, timeout)
        cpu = tree_cpu_seconds([c.process.pid for c in components])
    finally:
        la.stop(components)
    return {
        "components_to_done_seconds": round(time.monotonic() - started, 1),
        "cpu_seconds": cpu,
        "runs": runs,
        "budget_lines": _budget_lines(home / "logs"),
    }


class _Api:
    def __init__(self, base: str, password: str) -> None:
        self.base = base
        self.token = self._call("POST", "/auth/token", {"username": "admin", "password": password})["access_token"]

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        import urllib.request

        request = urllib.request.Request(
            f"{self.base}{path}", data=None if body is None else json.dumps(body).encode(), method=method
        )
        request.add_header("Content-Type", "application/json")
        if getattr(self, "token", None):
            request.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def get(self, path: str) -> Any:
        return self._call("GET", path)


def _wait_for_runs(api: _Api, components: Any, la: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    done: dict[str, Any] = {}
    while time.monotonic() < deadline and len(done) < len(PIPELINES):
        la.check_alive(components)
        for name in PIPELINES:
            dag_id = f"retrain_{name}"
            if dag_id in done:
                continue
            try:
                runs = api.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=5")["dag_runs"]
            except OSError:
                continue
            finished = [r for r in runs if r["state"] in ("success", "failed")]
            if finished:
                done[dag_id] = _timings(api, dag_id, finished[0])
                print(f"  {dag_id}: {done[dag_id]['state']} in {done[dag_id]['seconds']:.0f}s", file=sys.stderr)
        time.sleep(3.0)
    if len(done) < len(PIPELINES):
        raise TimeoutError(f"only {sorted(done)} finished within {timeout:.0f}s")
    return done


def _timings(api: _Api, dag_id: str, run: dict[str, Any]) -> dict[str, Any]:
    tis = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances?limit=100")["task_instances"]
    tasks = {
        (t["task_id"] + (f"[{t['rendered_map_index']}]" if t.get("rendered_map_index") else "")): t.get("duration")
        for t in tis
        if t["state"] == "success"
    }
    return {
        "state": run["state"],
        "run_id": run["dag_run_id"],
        "data_date": _date(run),
        "seconds": _seconds(run["start_date"], run["end_date"]),
        "tasks": tasks,
        "train_task_seconds": sum(v for k, v in tasks.items() if k.startswith("train") and v),
        "load_at_end": _load(),
    }


def _date(run: dict[str, Any]) -> str:
    when = run.get("logical_date") or run["run_after"]
    return dt.datetime.fromisoformat(when.replace("Z", "+00:00")).astimezone(dt.UTC).date().isoformat()


def _seconds(start: str, end: str) -> float:
    parse = dt.datetime.fromisoformat
    return round((parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds(), 1)


def tree_cpu_seconds(roots: list[int]) -> float:
    """CPU seconds (user + system) of the process trees under ``roots``, reaped children included: the work the
    run did, which the load of other users' processes changes far less than the wall time."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, list(roots)
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0))[1]
        todo += children.get(pid, [])
    return round(total / os.sysconf("SC_CLK_TCK"), 1)


def _budget_lines(logs: Path) -> list[str]:
    lines = set()
    for path in logs.rglob("*.log"):
        if "task_id=train" in str(path):
            for line in path.read_text(errors="replace").splitlines():
                if "native thread(s)" in line:
                    lines.add(json.loads(line).get("event", line) if line.startswith("{") else line.strip())
    return sorted(lines)


def run_cli(store: Any, state: dict[str, str], name: str, day: str, repo: Path) -> dict[str, Any]:
    """The same pipeline and data day in the CLI, as a first run (its artifacts wiped first)."""
    from imbalance_jobs.config import load_config
    from imbalance_jobs.context import PipelineLayout

    config = load_config(repo / "configs" / f"{name}.yaml")
    store.delete_prefix(PipelineLayout(config).root + "/")
    env = {
        **os.environ,
        "IMBALANCE_S3_ENDPOINT_URL": state["endpoint_url"],
        "AWS_ACCESS_KEY_ID": state["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": state["secret_access_key"],
    }
    cli = Path(sys.executable).parent / "imbalance-jobs"
    cmd = [str(cli), "run", str(repo / "configs" / f"{name}.yaml"), "--date", day, "--run-id", f"cli-{name}"]
    start, cpu = time.perf_counter(), _children_cpu()
    done = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=False)
    seconds, cpu = round(time.perf_counter() - start, 1), round(_children_cpu() - cpu, 1)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    summary = json.loads(done.stdout)
    return {"seconds": seconds, "cpu_seconds": cpu, "stages": summary["seconds"], "load_at_end": _load()}


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_threads", description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="after")
    parser.add_argument("--timeout", type=float, default=1500.0)
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/threads-<label>.json)")
    args = parser.parse_args(argv)
    import scripts.local_airflow as la
    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    repo = la.REPO
    payload: dict[str, Any] = {"label": args.label, "repo": str(repo), "load_at_start": _load()}
    payload["env"] = {k: os.environ[k] for k in ("IMBALANCE_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        s = server.settings
        state = {
            "endpoint_url": s.endpoint_url,
            "access_key_id": s.access_key_id,
            "secret_access_key": s.secret_access_key,
        }
        store = ObjectStore(s)
        la.seed_if_empty(store, sorted((repo / "configs").glob("*.yaml")), dt.datetime.now(dt.UTC).date())
        payload["airflow"] = run_airflow(Path(tmp), state, args.timeout)
        payload["cli"] = {}
        for name in PIPELINES:
            day = payload["airflow"]["runs"][f"retrain_{name}"]["data_date"]
            payload["cli"][name] = run_cli(store, state, name, day, repo)
    for name in PIPELINES:
        dag, cli = payload["airflow"]["runs"][f"retrain_{name}"], payload["cli"][name]
        payload.setdefault("ratio", {})[name] = round(dag["seconds"] / cli["seconds"], 2)
        print(
            f"{args.label}: retrain_{name} {dag['seconds']:.0f}s in Airflow (beside the other DAG), "
            f"{cli['seconds']:.0f}s in the CLI -> {payload['ratio'][name]:.2f}x; train tasks {dag['train_task_seconds']:.0f}s"
        )
    cli_cpu = sum(c["cpu_seconds"] for c in payload["cli"].values())
    print(f"CPU: Airflow (both DAGs, all components) {payload['airflow']['cpu_seconds']:.0f}s, CLI runs {cli_cpu:.0f}s")
    print("budget lines:", *payload["airflow"]["budget_lines"][:3], sep="\n  ")
    path = Path(args.output or repo / "bench" / "results" / f"threads-{args.label}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
