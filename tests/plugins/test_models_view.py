"""The Models view through Airflow's own api-server app: auth on every route, real published versions on S3.

The app under test is ``airflow.api_fastapi.app.create_app()`` with the repository's plugins folder, so the view is
mounted exactly as the api-server mounts it, and tokens are minted by the configured auth manager.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout, RunContext, RunOptions
from imbalance_jobs.pipeline import run_pipeline
from tests.conftest import BASE_CONFIG, QUICK, merge, seed
from tests.dags.airflow_env import CONN_ID, connection_env
from tests.dags.pipelines import RUN_DAY

pytestmark = [pytest.mark.airflow, pytest.mark.integration]

ROUTES = [
    "/models/",
    "/models/api/pipelines",
    "/models/pipelines/{name}",
    "/models/api/pipelines/{name}",
    "/models/pipelines/{name}/versions/{version}",
    "/models/pipelines/{name}/versions/{version}/files/pr_curve.png",
    "/models/pipelines/{name}/runs/run-2",
    "/models/pipelines/{name}/runs/run-2/files/validation_report.html",
    "/models/dags/retrain_{name}",
    "/models/dags/retrain_{name}/runs/run-2",
    "/models/dags/on_new_champion_{name}",
]


@pytest.fixture(scope="module")
def registry(airflow_db: None, airflow_s3: Any, airflow_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A pipeline with two real runs: the first promotes (champion), the second is judged against it."""
    import uuid

    suffix = uuid.uuid4().hex[:8]
    buckets = (f"src-mv-{suffix}", f"art-mv-{suffix}")
    for bucket in buckets:
        airflow_store.ensure_bucket(bucket)
    data = merge(
        BASE_CONFIG, {"name": f"mv_{suffix}", "source": {"bucket": buckets[0]}, "artifacts": {"bucket": buckets[1]}}
    )
    data = merge(merge(data, QUICK), {"airflow": {"aws_conn_id": CONN_ID}, "monitoring": {"recall_floor": 0.2}})
    configs = tmp_path_factory.mktemp("mv-configs")
    (configs / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    config = PipelineConfig.model_validate(data)
    day = dt.date.fromisoformat(RUN_DAY)
    seed(airflow_store, config, end=day, days=config.source.lookback_days)
    for run_id in ("run-1", "run-2"):
        ctx = RunContext(config=config, run_id=run_id, run_date=day, store=airflow_store, options=RunOptions())
        run_pipeline(ctx)
    champion = airflow_store.get_json(PipelineLayout(config).champion_uri)
    return {"config": config, "configs": configs, "name": config.name, "version": champion["version"]}


@pytest.fixture(scope="module")
def client(registry: dict[str, Any], airflow_s3: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    settings = airflow_s3.settings
    env = connection_env(settings.endpoint_url, settings.access_key_id, settings.secret_access_key)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**env, "IMBALANCE_CONFIGS_DIR": str(registry["configs"])}.items():
            patch.setenv(key, value)
        from airflow.api_fastapi.app import create_app

        with TestClient(create_app("core"), base_url="http://testserver") as test_client:
            yield test_client


def token(role: str = "admin") -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return get_auth_manager().generate_jwt(SimpleAuthManagerUser(username=f"{role}-user", role=role))


def url(template: str, registry: dict[str, Any]) -> str:
    return template.format(name=registry["name"], version=registry["version"])


@pytest.mark.parametrize("route", ROUTES)
def test_models_view_refuses_anonymous_requests(client: Any, registry: dict[str, Any], route: str) -> None:
    response = client.get(url(route, registry))
    assert response.status_code == 401, response.text
    assert registry["name"] not in response.text


@pytest.mark.parametrize("route", ROUTES)
def test_models_view_refuses_forged_tokens(client: Any, registry: dict[str, Any], route: str) -> None:
    import jwt

    forged = jwt.encode({"sub": "admin", "role": "admin"}, "not-the-secret", algorithm="HS512")
    for creds in ({"headers": {"Authorization": f"Bearer {forged}"}}, {"cookies": {"_token": forged}}):
        client.cookies.clear()
        response = client.get(url(route, registry), **creds)
        assert response.status_code in (401, 403), response.text
        assert registry["name"] not in response.text
    client.cookies.clear()


def test_models_view_checks_read_permission_on_the_pipeline_dag(
    client: Any, registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.api_fastapi.app import get_auth_manager

    manager = get_auth_manager()
    asked: list[str | None] = []

    def deny_this_pipeline(*, method: str, details: Any = None, user: Any = None, **kwargs: Any) -> bool:
        asked.append(details.id if details else None)
        return details is None or details.id != f"retrain_{registry['name']}"

    monkeypatch.setattr(manager, "is_authorized_dag", deny_this_pipeline)
    headers = {"Authorization": f"Bearer {token()}"}
    for route in ROUTES[2:]:
        assert client.get(url(route, registry), headers=headers).status_code == 403, route
    index = client.get("/models/api/pipelines", headers=headers)
    assert index.status_code == 200
    assert index.json() == []
    assert set(asked) == {f"retrain_{registry['name']}", f"on_new_champion_{registry['name']}"}


def test_models_view_shows_the_champion_and_why(client: Any, registry: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token('viewer')}"}
    page = client.get(f"/models/pipelines/{registry['name']}", headers=headers)
    assert page.status_code == 200
    assert f'Serving <span class="mono">{registry["version"]}</span>' in page.text
    assert "because:" in page.text
    assert "recall at threshold" in page.text
    assert 'id="trend"' in page.text  # the monitoring record of the run day is drawn
    tab = client.get(f"/models/dags/on_new_champion_{registry['name']}", headers=headers)
    assert f'Serving <span class="mono">{registry["version"]}</span>' in tab.text
    body = client.get(f"/models/api/pipelines/{registry['name']}", headers=headers).json()
    assert body["champion"]["version"] == registry["version"]
    assert [v["version"] for v in body["versions"]][: len(body["history"])]
    assert body["monitoring"][0]["day"] == RUN_DAY


def test_models_view_version_page_has_verdict_plots_and_card(client: Any, registry: dict[str, Any]) -> None:
    cookies = {"_token": token("viewer")}
    base = f"/models/pipelines/{registry['name']}/versions/{registry['version']}"
    client.cookies.update(cookies)
    try:
        page = client.get(base)
        assert page.status_code == 200
        for plot in ("pr_curve.png", "roc_curve.png", "calibration.png"):
            assert f"{base}/files/{plot}" in page.text
            image = client.get(f"{base}/files/{plot}")
            assert image.headers["content-type"] == "image/png"
            assert image.content[:4] == b"\x89PNG"
        assert "Reasons:" in page.text
        assert "min_test_positives" in page.text
        assert "<h2>Test results" in page.text or "<table>" in page.text  # the model card is rendered markdown
        report = client.get(f"{base}/files/validation_report.html")
        assert report.status_code == 200
        assert "sandbox" in report.headers["content-security-policy"]
    finally:
        client.cookies.clear()


def test_models_view_run_page_tells_the_runs_decision(client: Any, registry: dict[str, Any]) -> None:
    headers = {"Authorization": f"Bearer {token()}"}
    page = client.get(f"/models/dags/retrain_{registry['name']}/runs/run-2", headers=headers)
    assert page.status_code == 200
    assert re.search(r'class="tag (promote|reject|insufficient_evidence)"', page.text)
    assert "validation_report.html" in page.text


@pytest.mark.parametrize(
    "route",
    [
        "/models/pipelines/{name}/versions/{version}/files/config.json",
        "/models/pipelines/{name}/versions/{version}/files/..%2F..%2Fchampion.json",
        "/models/pipelines/{name}/versions/{version}/files/model%2Fmodel.skops",
        "/models/pipelines/{name}/versions/..%2F..%2Fchampion.json",
        "/models/pipelines/{name}/versions/no-such-version/files/pr_curve.png",
        "/models/pipelines/{name}/runs/..%2F..%2Fversions/files/validation_report.html",
        "/models/pipelines/{name}/runs/run-2/files/..%2Fverdict.json",
        "/models/pipelines/{name}/runs/no-such-run/files/validation_report.html",
        "/models/pipelines/..%2Fetc/versions/{version}",
        "/models/pipelines/no_such_pipeline",
        "/models/dags/example_bash_operator",
    ],
)
def test_models_view_serves_no_arbitrary_store_keys(client: Any, registry: dict[str, Any], route: str) -> None:
    response = client.get(url(route, registry), headers={"Authorization": f"Bearer {token()}"})
    assert response.status_code == 404, (route, response.status_code, response.text[:300])
    assert '"version"' not in response.text  # no champion.json or marker
    assert not response.content.startswith(b"PK")  # no model archive


def test_plugin_registers_the_view_and_its_ui_entries() -> None:
    from imbalance_plugin import ImbalanceJobsPlugin

    assert [a["url_prefix"] for a in ImbalanceJobsPlugin.fastapi_apps] == ["/models"]
    views = {v["destination"]: v["href"] for v in ImbalanceJobsPlugin.external_views}
    assert views == {
        "nav": "/models/",
        "dag": "/models/dags/{DAG_ID}",
        "dag_run": "/models/dags/{DAG_ID}/runs/{RUN_ID}",
    }


def test_models_view_configs_dir_defaults_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    from imbalance_models_view import configs_dir, pipeline_configs

    monkeypatch.delenv("IMBALANCE_CONFIGS_DIR", raising=False)
    assert configs_dir() == Path(__file__).resolve().parents[2] / "configs"
    assert {"fraud", "defects"} <= set(pipeline_configs())
