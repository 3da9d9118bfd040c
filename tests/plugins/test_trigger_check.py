"""The api-server refuses a retraining DAG's trigger with bad conf (400, one line) before any run exists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BASE_CONFIG, merge

pytestmark = pytest.mark.airflow
NAME = "trigger_check"


@pytest.fixture(scope="module")
def client(airflow_db: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    configs: Path = tmp_path_factory.mktemp("tc-configs")
    data = merge(BASE_CONFIG, {"name": NAME, "source": {"bucket": "src-x"}, "artifacts": {"bucket": "art-x"}})
    (configs / f"{NAME}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IMBALANCE_CONFIGS_DIR", str(configs))
        from airflow.api_fastapi.app import create_app

        with TestClient(create_app("core")) as test_client:
            yield test_client


def auth() -> dict[str, str]:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="op", role="admin"))
    return {"Authorization": f"Bearer {token}"}


def trigger(client: Any, conf: dict[str, Any], headers: dict[str, str] | None = None, dag: str = NAME) -> Any:
    body = {"logical_date": None, "conf": conf}
    return client.post(f"/api/v2/dags/retrain_{dag}/dagRuns", json=body, headers=headers or {})


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"dryrun": True}, "unknown conf key(s) 'dryrun' (did you mean 'dry_run'?)"),
        ({"force": "promote"}, "force: 'promote' needs force_reason (who asked and why); got none"),
        ({"force_reason": "INC-1"}, "force_reason: is only used together with force"),
        ({"sample_fraction": 5}, "sample_fraction: "),
    ],
)
def test_trigger_with_bad_conf_is_refused_before_a_run_exists(client: Any, conf: dict, message: str) -> None:
    response = trigger(client, conf, auth())
    assert response.status_code == 400, response.text
    assert response.json()["detail"].startswith(f"conf of retrain_{NAME}: ")
    assert message in response.json()["detail"]


def test_trigger_with_good_conf_reaches_airflow(client: Any) -> None:
    response = trigger(client, {"dry_run": True, "force": "reject", "force_reason": "INC-7: drift"}, auth())
    assert response.status_code == 404  # Airflow's own answer: this test's DAG was never parsed into the DB
    assert "conf of" not in response.text


def test_anonymous_trigger_learns_nothing_about_the_conf(client: Any) -> None:
    response = trigger(client, {"dryrun": True})
    assert response.status_code == 401
    assert "dry_run" not in response.text


def test_other_dags_are_not_judged(client: Any) -> None:
    response = trigger(client, {"anything": 1}, auth(), dag="no_such_pipeline")
    assert response.status_code == 404
