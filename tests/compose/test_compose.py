"""docker-compose.yaml, checked without a Docker engine: the compose-spec JSON schema plus what the issue asks for.

The schema ships with check-jsonschema (``vendor/compose-spec.json``). When ``docker compose`` (or the
standalone ``docker-compose``) is installed, its ``config`` command checks the file too; it needs no engine.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO

COMPOSE = REPO / "docker-compose.yaml"
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-worker-gpu",
    "airflow-init",
)
REQUIRED = ("postgres", "redis", "minio", "minio-init", *AIRFLOW_SERVICES)
_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}")


def interpolate(value: Any) -> Any:
    """Resolve ``${VAR:-default}`` with the defaults, as ``docker compose`` does with no .env file."""
    if isinstance(value, str):
        return _VAR.sub(lambda m: m.group(2) or "", value).replace("$$", "$")
    if isinstance(value, dict):
        return {k: interpolate(v) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v) for v in value]
    return value


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # resolves the x-airflow-common anchors and << merges


@pytest.fixture(scope="module")
def services(raw: dict[str, Any]) -> dict[str, Any]:
    return interpolate(raw["services"])


def env(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("environment", {})
    return value if isinstance(value, dict) else dict(item.split("=", 1) for item in value)


def schema_errors(document: dict[str, Any]) -> list[str]:
    from jsonschema import validators

    text = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text())
    validator = validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_compose_file_matches_the_compose_spec_schema(raw: dict[str, Any]) -> None:
    assert schema_errors(raw) == []


def test_compose_schema_check_catches_a_misspelt_key(raw: dict[str, Any]) -> None:
    broken = {**raw, "services": {**raw["services"], "redis": {**raw["services"]["redis"], "helthcheck": {}}}}
    assert any("helthcheck" in e for e in schema_errors(broken))


def compose_cli() -> list[str] | None:
    """``docker compose`` (the plugin) or the standalone ``docker-compose``, whichever is installed."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_config_accepts_the_file() -> None:
    cli = compose_cli()
    if cli is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed; the schema test covers the file")
    for profiles in ([], ["--profile", "gpu", "--profile", "demo"]):
        out = subprocess.run([*cli, "-f", str(COMPOSE), *profiles, "config", "--quiet"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr


def test_compose_has_every_service_the_stack_needs(services: dict[str, Any]) -> None:
    assert set(REQUIRED) <= set(services)


def test_depends_on_names_existing_services_with_valid_conditions(services: dict[str, Any]) -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert rule["condition"] in conditions, f"{name} -> {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target} to be healthy, it has no check"


def test_airflow_components_share_jwt_secret_execution_api_and_connection(services: dict[str, Any]) -> None:
    keys = ("AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL", "AIRFLOW_CONN_IMBALANCE_S3")
    values = {key: {env(services[name]).get(key) for name in AIRFLOW_SERVICES} for key in keys}
    for key, seen in values.items():
        assert None not in seen, f"{key} is missing somewhere"
        assert len(seen) == 1, f"{key} differs between services: {seen}"
    assert values["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == {"http://airflow-apiserver:8080/execution/"}


def test_object_store_connection_points_at_minio_with_its_credentials(services: dict[str, Any]) -> None:
    conn = json.loads(env(services["airflow-scheduler"])["AIRFLOW_CONN_IMBALANCE_S3"])
    minio = env(services["minio"])
    assert conn["conn_type"] == "aws"
    assert conn["extra"]["endpoint_url"] == "http://minio:9000"
    assert (conn["login"], conn["password"]) == (minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])


def test_every_config_connection_is_defined(services: dict[str, Any]) -> None:
    defined = {
        k.removeprefix("AIRFLOW_CONN_").lower()
        for k in env(services["airflow-worker"])
        if k.startswith("AIRFLOW_CONN_")
    }
    for path in sorted((REPO / "configs").glob("*.yaml")):
        conn_id = (yaml.safe_load(path.read_text()).get("airflow") or {}).get("aws_conn_id", "imbalance_s3")
        assert conn_id in defined, f"{path.name} uses connection {conn_id}"


def test_bucket_creation_covers_every_config_bucket(services: dict[str, Any]) -> None:
    created = set(env(services["minio-init"])["IMBALANCE_BUCKETS"].split())
    for path in sorted((REPO / "configs").glob("*.yaml")):
        data = yaml.safe_load(path.read_text())
        assert {data["source"]["bucket"], data["artifacts"]["bucket"]} <= created, path.name
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"


def test_gpu_worker_is_a_profile_on_the_gpu_queue_with_an_nvidia_device(services: dict[str, Any]) -> None:
    gpu = services["airflow-worker-gpu"]
    assert gpu["profiles"] == ["gpu"]
    assert re.search(r"celery worker .*--queues gpu\b", gpu["command"])
    [device] = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia"
    assert "gpu" in device["capabilities"]
    assert re.search(r"--queues default\b", services["airflow-worker"]["command"])
    assert "profiles" not in services["airflow-worker"]


def test_init_creates_the_gpu_pool_the_configs_queue_on(services: dict[str, Any]) -> None:
    init = services["airflow-init"]
    script = "\n".join(init["command"])
    assert "airflow pools set" in script
    assert env(init)["IMBALANCE_GPU_POOL"] == "gpu"
    assert env(init)["_AIRFLOW_DB_MIGRATE"] == "true"


def test_airflow_services_run_the_project_image_with_dags_plugins_and_configs(services: dict[str, Any]) -> None:
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["build"]["dockerfile"] == "Dockerfile", name
        mounts = {v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/configs"} <= mounts, name
        assert env(service)["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_dockerfile_installs_requirements_and_the_package() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}", text, re.M)
    assert "-r requirements.txt -c constraints.txt" in text
    assert "COPY --chown=airflow:0 imbalance_jobs ./imbalance_jobs" in text
    assert re.search(r"pip install --no-cache-dir --no-deps \.$", text, re.M)
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored
    assert "imbalance_jobs" not in ignored


def test_dockerfile_base_image_matches_the_pinned_airflow() -> None:
    pinned = re.search(r"apache-airflow\[[^\]]*\]==([\d.]+)", (REPO / "requirements.txt").read_text()).group(1)
    assert f"ARG AIRFLOW_VERSION={pinned}" in (REPO / "Dockerfile").read_text()


def test_interpolate_uses_defaults_and_unescapes_dollars() -> None:
    assert interpolate("${A:-x}/${B}/$${HOSTNAME}") == "x//${HOSTNAME}"
    assert Path(COMPOSE).exists()
