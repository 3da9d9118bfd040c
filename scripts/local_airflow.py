"""``make airflow``: Airflow 3 on this machine against the local S3 server, with the example pipelines.

Starts (or reuses) the local SeaweedFS server, seeds synthetic data when a pipeline has none, migrates a SQLite
metadata DB in ``.local/airflow``, then runs api-server, scheduler, dag-processor and triggerer with the
LocalExecutor, the repository's ``dags/`` and ``plugins/``, and the object-store connection passed as an
``AIRFLOW_CONN_*`` variable. Prints the UI address and login; Ctrl-C stops everything it started.

The process helpers (:func:`airflow_env`, :func:`start`, :func:`stop`, :func:`wait_for_api`) are shared with the
end-to-end tests, which run the same components against PostgreSQL.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / ".local"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
ADMIN = "admin"
EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


@dataclass
class Component:
    """One running Airflow process (its own process group, so children die with it) and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port(preferred: int) -> int:
    """``preferred`` when it is free on loopback, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port on 127.0.0.1")


def s3_connection(endpoint_url: str, access_key: str, secret_key: str) -> str:
    """An Amazon-provider ``aws`` connection as JSON, for ``AIRFLOW_CONN_<ID>``."""
    extra = {"endpoint_url": endpoint_url, "region_name": "us-east-1"}
    return json.dumps({"conn_type": "aws", "login": access_key, "password": secret_key, "extra": extra})


def airflow_env(
    home: Path,
    *,
    port: int,
    db_url: str,
    executor: str = "LocalExecutor",
    connections: Mapping[str, str] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment shared by every component: one JWT secret, one execution API URL, one metadata DB."""
    secret_file = home / "jwt_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://localhost:{port}",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret_file.read_text().strip(),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
        "IMBALANCE_CONFIGS_DIR": str(REPO / "configs"),
        "MPLBACKEND": "Agg",
    }
    env.update({f"AIRFLOW_CONN_{conn_id.upper()}": value for conn_id, value in (connections or {}).items()})
    env.update(extra or {})
    return env


def admin_password(home: Path) -> str:
    """The UI password of ``admin``: generated once, kept in the simple auth manager's passwords file."""
    path = home / "simple_auth_manager_passwords.json"
    users = json.loads(path.read_text()) if path.exists() else {}
    if ADMIN not in users:
        users[ADMIN] = secrets.token_urlsafe(12)
        path.write_text(json.dumps(users))
    return users[ADMIN]


def airflow_cli(args: Sequence[str], env: Mapping[str, str], log: Path) -> None:
    """Run one ``airflow`` command to completion; raise with the log's tail when it fails."""
    with log.open("ab") as out:
        done = subprocess.run([airflow_bin(), *args], env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise RuntimeError(f"`airflow {' '.join(args)}` exited with {done.returncode}; see {log}:\n{tail}")


def airflow_bin() -> str:
    beside = Path(sys.executable).parent / "airflow"
    return str(beside) if beside.exists() else "airflow"


def start(name: str, args: Sequence[str], env: Mapping[str, str], log_dir: Path) -> Component:
    """Start ``airflow <args>`` in its own process group, output to ``<log_dir>/<name>.log``."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [airflow_bin(), *args], env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Component(name, process, log)


def stop(components: Sequence[Component], *, grace: float = 15.0) -> None:
    """SIGTERM every process group, then SIGKILL what is left after ``grace`` seconds."""
    for comp in components:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(comp.process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for comp in components:
        with contextlib.suppress(subprocess.TimeoutExpired):
            comp.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for comp in components:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(comp.process.pid, signal.SIGKILL)  # stragglers of a group whose leader already exited
        with contextlib.suppress(subprocess.TimeoutExpired):
            comp.process.wait(timeout=5)


def wait_for_api(base_url: str, components: Sequence[Component], *, timeout: float = 180.0) -> None:
    """Wait until the api-server answers its health endpoint; fail early when a component dies."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive(components)
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{base_url}/api/v2/monitor/health", timeout=5) as resp,
        ):
            if resp.status == 200:
                return
        time.sleep(1.0)
    raise TimeoutError(f"the api-server did not answer on {base_url} within {timeout:.0f}s")


def check_alive(components: Sequence[Component]) -> None:
    for comp in components:
        code = comp.process.poll()
        if code is not None:
            raise RuntimeError(f"airflow {comp.name} exited with {code}; last lines of {comp.log}:\n{comp.tail()}")


def seed_if_empty(store: object, config_paths: Sequence[Path], today: dt.date) -> list[str]:
    """Synthetic partitions for every pipeline that has no data in its window; returns the pipelines seeded."""
    from imbalance_jobs.cli._local import seed_pipeline
    from imbalance_jobs.config import load_config
    from imbalance_jobs.errors import ImbalanceJobsError
    from imbalance_jobs.ingest import list_partitions

    seeded = []
    for path in config_paths:
        config = load_config(path)
        try:
            list_partitions(store, config, today, config.source.lookback_days)
            continue
        except ImbalanceJobsError:  # no partitions, or no bucket yet
            pass
        seed_pipeline(store, config, end_day=today, days=config.source.lookback_days + 1, rows=2000)
        seeded.append(config.name)
    return seeded


def prepare_object_store() -> tuple[dict, bool]:
    """Start the local S3 server unless one runs already; seed data. Returns its state and whether we started it."""
    os.environ.setdefault("IMBALANCE_LOCAL_DIR", str(LOCAL))
    from imbalance_jobs.cli._common import local_server_state
    from imbalance_jobs.cli._local import start_local_s3
    from imbalance_jobs.storage import ObjectStore, StorageSettings

    was_running = local_server_state() is not None
    state = start_local_s3()
    settings = StorageSettings(state["endpoint_url"], state["access_key_id"], state["secret_access_key"])
    today = dt.datetime.now(dt.UTC).date()
    seeded = seed_if_empty(ObjectStore(settings), sorted((REPO / "configs").glob("*.yaml")), today)
    if seeded:
        print(f"seeded synthetic data ending {today} for: {', '.join(seeded)}")
    return state, not was_running


def local_env(
    home: Path, port: int, state: Mapping[str, str], alerts: LocalAlertReceiver | None = None
) -> dict[str, str]:
    """SQLite + LocalExecutor, DAGs unpaused (a new user triggers and watches), extra links to the Models view,
    alert channels pointed at the local receiver. Each task holds its native thread pools to its share of the
    cores itself (``imbalance_jobs.thread_budget``, from ``[core] parallelism``)."""
    conn = s3_connection(state["endpoint_url"], state["access_key_id"], state["secret_access_key"])
    connections = {"imbalance_s3": conn, **(alerts.connections() if alerts else {})}
    env = airflow_env(
        home,
        port=port,
        db_url=f"sqlite:///{home / 'airflow.db'}",
        connections=connections,
        extra={"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False"},
    )
    return env


def task_threads(env: Mapping[str, str]) -> int:
    """Native threads each task gives itself under ``env``: its share of this machine's cores among
    ``[core] parallelism`` tasks (what ``imbalance_dags.runtime.stage_threads`` computes inside the task)."""
    from imbalance_jobs.thread_budget import available_cores, compute_budget

    override = env.get("IMBALANCE_THREADS", "").strip()
    parallel = env.get("IMBALANCE_PARALLEL_TASKS") or env.get("AIRFLOW__IMBALANCE_JOBS__PARALLEL_TASKS")
    parallel = parallel or env.get("AIRFLOW__CORE__PARALLELISM") or "32"
    return compute_budget(available_cores()[0], int(parallel), override=int(override) if override else None).threads


class LocalAlertReceiver:
    """Where ``make airflow`` sends alerts: a JSON webhook and an SMTP server on loopback, both appending to
    ``alerts.jsonl`` and printing one line, so the example pipelines' e-mail and webhook channels work locally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.http_port = free_port(0)
        self.smtp_port = free_port(0)
        self._stoppers: list[object] = []

    def record(self, channel: str, payload: dict) -> None:
        with self.path.open("a") as out:
            out.write(json.dumps({"channel": channel, **payload}) + "\n")
        print(f"alert ({channel}): {payload.get('message') or payload.get('subject') or payload}", flush=True)

    def start(self) -> LocalAlertReceiver:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        receiver = self

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with contextlib.suppress(ValueError):
                    receiver.record("webhook", json.loads(body or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", self.http_port), Hook)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self._stoppers.append(server.shutdown)
        self._start_smtp()
        return self

    def _start_smtp(self) -> None:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:  # dev requirement; without it e-mail alerts stay queued in the outbox
            return
        receiver = self

        class Handler:
            async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
                import email

                message = email.message_from_bytes(envelope.content)  # type: ignore[attr-defined]
                receiver.record("email", {"subject": message["Subject"], "to": message["To"]})
                return "250 OK"

        controller = Controller(Handler(), hostname="127.0.0.1", port=self.smtp_port)
        controller.start()
        self._stoppers.append(controller.stop)

    def connections(self) -> dict[str, str]:
        """``AIRFLOW_CONN_*`` values for the channels the example configs use (plain SMTP, no TLS, locally)."""
        smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": self.smtp_port}
        smtp["extra"] = {"disable_ssl": True, "disable_tls": True, "from_email": "imbalance-jobs@localhost"}
        hook = {"conn_type": "http", "host": f"http://127.0.0.1:{self.http_port}", "extra": {"endpoint": "alerts"}}
        return {"smtp_default": json.dumps(smtp), "imbalance_alerts_webhook": json.dumps(hook)}

    def stop(self) -> None:
        for stop_one in self._stoppers:
            stop_one()  # type: ignore[operator]


def migrate(env: Mapping[str, str], logs: Path) -> None:
    """Create or upgrade the metadata DB and the pool torch candidates queue on."""
    logs.mkdir(parents=True, exist_ok=True)
    airflow_cli(["db", "migrate"], env, logs / "migrate.log")
    airflow_cli(["pools", "set", "gpu", "1", "GPU slots for torch candidates"], env, logs / "migrate.log")


def component_args(name: str, port: int) -> list[str]:
    """The ``airflow`` arguments of one component; the API listens on loopback only."""
    return [name, "--host", "127.0.0.1", "--port", str(port)] if name == "api-server" else [name]


def start_all(env: Mapping[str, str], port: int, logs: Path) -> list[Component]:
    """The api-server first, the others once it answers: unpaused DAGs start their first runs as soon as the
    scheduler sees them, and a task whose first call to the execution API times out (an api-server still starting
    on a busy machine) is killed and fails its run."""
    api = start("api-server", component_args("api-server", port), env, logs)
    try:
        wait_for_api(f"http://127.0.0.1:{port}", [api])
    except BaseException:
        stop([api])
        raise
    return [api, *(start(name, component_args(name, port), env, logs) for name in COMPONENTS if name != "api-server")]


def serve(components: Sequence[Component], banner_text: str, port: int) -> int:
    """Wait for the UI, print how to reach it, then watch the processes until Ctrl-C or one of them dies."""
    try:
        wait_for_api(f"http://127.0.0.1:{port}", components)
        print(banner_text, flush=True)
        while True:
            check_alive(components)
            time.sleep(2.0)
    except KeyboardInterrupt:
        print("\nstopping Airflow ...", flush=True)
        return EXIT_INTERRUPTED
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def run(args: argparse.Namespace) -> int:
    home = LOCAL / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    state, started_s3 = prepare_object_store()
    port = free_port(args.port)
    alerts = LocalAlertReceiver(home / "alerts.jsonl").start()
    env = local_env(home, port, state, alerts)
    password = admin_password(home)
    print("migrating the metadata DB (the first start takes a while) ...", flush=True)
    migrate(env, home / "logs")
    components = start_all(env, port, home / "logs")
    try:
        return serve(components, banner(port, password, state["endpoint_url"], home, env), port)
    finally:
        stop(components)
        alerts.stop()
        if started_s3 and not args.keep_s3:
            from imbalance_jobs.local_s3 import stop_pid

            stop_pid(int(state["pid"]))


def banner(port: int, password: str, endpoint: str, home: Path, env: Mapping[str, str] | None = None) -> str:
    env = env or {}
    return "\n".join(
        [
            "",
            f"Airflow UI:   http://localhost:{port}   (login: {ADMIN} / {password})",
            f"Models:       http://localhost:{port}/models/  (also 'Models' in the UI's navigation)",
            f"Object store: {endpoint} (local S3 server; data in {LOCAL / 's3'})",
            "DAGs:         retrain_<pipeline> for each configs/*.yaml; open one and press Trigger",
            *first_runs(sorted((REPO / "configs").glob("*.yaml")), env),
            f"Alerts:       e-mail and webhook channels go to a local receiver -> {home / 'alerts.jsonl'}",
            f"Logs:         {home / 'logs'}",
            "Ctrl-C stops everything.",
        ]
    )


def first_runs(config_paths: Sequence[Path], env: Mapping[str, str]) -> list[str]:
    """What starts by itself: DAGs are unpaused and catchup is off, so each scheduled DAG runs its latest interval
    now, all at once; say so, with the task concurrency and thread caps that bound the load."""
    from imbalance_jobs.config import load_config
    from imbalance_jobs.errors import ConfigError

    scheduled = []
    for path in config_paths:
        with contextlib.suppress(ConfigError):
            config = load_config(path)
            if config.schedule:
                scheduled.append(f"retrain_{config.name} ({config.schedule})")
    if not scheduled:
        return []
    caps = f"{env.get('AIRFLOW__CORE__PARALLELISM', '?')} tasks at a time, {task_threads(env)} thread(s) each"
    return [
        f"First runs:   starting now, one each (catchup off): {', '.join(scheduled)}; {caps}.",
        "              Pause a DAG in the UI to stop it; later runs follow each schedule.",
    ]


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (e.g. from `timeout`) cleans up like Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="make airflow", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="UI/API port (the next free one if taken)")
    parser.add_argument("--keep-s3", action="store_true", help="leave the local S3 server running on exit")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
