"""A real browser against a real Airflow: Debian's ``chromium`` driven by Python Playwright.

Playwright cannot download its own browser builds here, so it launches the system ``chromium``
(``apt-get install -y chromium``) with ``executable_path``. Without it the tests are skipped with that reason
(shown by ``-ra``, which the project's pytest options include). One Airflow stack (api-server, scheduler,
dag-processor on the e2e PostgreSQL) and one promoted run serve the whole module; screenshots go to
``docs/screenshots/`` with ``IMBALANCE_UPDATE_SCREENSHOTS=1``, else to ``.local/screenshots/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.local_airflow import component_args, start, stop, wait_for_api
from tests.conftest import REPO
from tests.dags.pipelines import RUN_DAY, fast_example_config
from tests.e2e import conftest as e2e
from tests.e2e.conftest import PASSWORD, Api, Stack, _free_port, _stack_env

# The e2e session fixtures (PostgreSQL, the S3 server, the migrated metadata DB), shared with tests/e2e.
pg_server_url, pg_url, e2e_s3, e2e_store, migrated_db = (
    e2e.pg_server_url,
    e2e.pg_url,
    e2e.e2e_s3,
    e2e.e2e_store,
    e2e.migrated_db,
)

SCREENSHOTS = (
    REPO / "docs" / "screenshots" if os.environ.get("IMBALANCE_UPDATE_SCREENSHOTS") else REPO / ".local" / "screenshots"
)
"""The README's screenshots are refreshed with ``IMBALANCE_UPDATE_SCREENSHOTS=1 make test``; a plain test run
keeps its screenshots in the git-ignored ``.local/screenshots/`` so it never dirties the tree."""
CHROMIUM = shutil.which("chromium")


def why_skipped() -> str | None:
    """Why the UI tests cannot run on this machine, or None when they can."""
    if CHROMIUM is None:
        return "Debian's chromium is not installed (apt-get install -y chromium); the UI tests need a real browser"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install -r requirements-dev.txt -c constraints.txt)"
    return None


@dataclass
class PromotedRun:
    stack: Stack
    data: dict[str, Any]
    dag_id: str
    run_id: str
    version: str

    @property
    def base_url(self) -> str:
        return self.stack.api.base_url.replace("127.0.0.1", "localhost")  # [api] base_url, as the UI is used


@pytest.fixture(scope="module")
def promoted_run(migrated_db: str, e2e_s3: Any, e2e_store: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A running Airflow with one pipeline and one run that promoted its first champion."""
    reason = why_skipped()
    if reason:
        pytest.skip(reason)
    data = _seeded_pipeline(e2e_store)
    home = tmp_path_factory.mktemp("ui-airflow")
    configs = home / "configs"
    configs.mkdir()
    (configs / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    port = _free_port()
    env = _stack_env(home, port, migrated_db, e2e_s3, configs, "LocalExecutor", None)
    (home / "simple_auth_manager_passwords.json").write_text(json.dumps({"admin": PASSWORD}))
    stack = Stack(home, configs, Api(f"http://127.0.0.1:{port}"))
    try:
        for name in ("api-server", "scheduler", "dag-processor"):
            stack.components.append(start(name, component_args(name, port), env, home / "logs"))
        wait_for_api(stack.api.base_url, stack.components)
        stack.api.login("admin", PASSWORD)
        yield _promote(stack, data)
    finally:
        stop(stack.components)


def _seeded_pipeline(store: Any) -> dict[str, Any]:
    from imbalance_jobs.cli._local import seed_pipeline
    from imbalance_jobs.config import PipelineConfig

    suffix = uuid.uuid4().hex[:8]
    buckets = (f"src-ui-{suffix}", f"art-ui-{suffix}")
    for bucket in buckets:
        store.ensure_bucket(bucket)
    data = fast_example_config(*buckets) | {"name": "fraud_ui", "schedule": None}
    config = PipelineConfig.model_validate(data)
    seed_pipeline(store, config, end_day=dt.date.fromisoformat(RUN_DAY), days=config.source.lookback_days, rows=400)
    return data


def _promote(stack: Stack, data: dict[str, Any]) -> PromotedRun:
    dag_id = f"retrain_{data['name']}"
    stack.api.wait_for_dag(dag_id)
    status, body = stack.api.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    assert status == 200, body
    conf = {"data_date": RUN_DAY, "candidates": ["logreg"]}
    status, run = stack.api.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
    assert status == 200, run
    finished = stack.api.wait_for_run(dag_id, run["dag_run_id"], stack, timeout=600)
    assert finished["state"] == "success", stack.api.task_instances(dag_id, run["dag_run_id"])
    status, xcom = stack.api.call(
        "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run['dag_run_id']}/taskInstances/publish/xcomEntries/return_value"
    )
    assert status == 200, xcom
    value = xcom["value"]
    version = (json.loads(value) if isinstance(value, str) else value)["version"]
    return PromotedRun(stack, data, dag_id, run["dag_run_id"], version)


@pytest.fixture(scope="module")
def browser(promoted_run: PromotedRun) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any, promoted_run: PromotedRun) -> Iterator[Any]:
    """A page logged in through Airflow's own login form."""
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=promoted_run.base_url)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/")
    page.locator("input[name='username']").fill("admin")
    page.locator("input[name='password']").fill(PASSWORD)
    page.locator("button[type='submit']").click()
    page.wait_for_url(lambda url: "/auth/" not in url and "login" not in url)
    try:
        yield page
    finally:
        context.close()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    time.sleep(0.5)  # let the last layout pass and images settle
    page.screenshot(path=str(path), full_page=False)
    return path
