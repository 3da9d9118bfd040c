"""The same run from the CLI and from Airflow reaches the same verdict on the same data and seed."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from imbalance_jobs.cli import main
from tests.dags.conftest import DagRunner
from tests.dags.pipelines import RUN_DAY, fast_example_config

pytestmark = [pytest.mark.airflow, pytest.mark.integration]


def run_cli(config_path: Path, airflow_s3: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    settings = airflow_s3.settings
    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", settings.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", settings.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", settings.secret_access_key)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["run", str(config_path), "--date", RUN_DAY, "--run-id", "cli-parity", "--json"])
    assert code == 0
    return json.loads(out.getvalue())["stages"]


def test_cli_and_airflow_reach_the_same_verdict(
    dag_runner: DagRunner, airflow_s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, artifacts = dag_runner.buckets()
    on_airflow = fast_example_config(source, artifacts)
    on_cli = fast_example_config(source, artifacts)
    on_cli["artifacts"]["prefix"] = "cli"  # same data and seed; its own staging and champion
    dag_runner.seed(on_airflow)
    cli_path = tmp_path / "fraud.yaml"
    cli_path.write_text(yaml.safe_dump(on_cli, sort_keys=False))

    cli = run_cli(cli_path, airflow_s3, monkeypatch)
    airflow = dag_runner.run(on_airflow)

    assert airflow.state == "success", airflow.states
    keys = ("decision", "candidate", "candidate_ap", "test_rows", "test_positives", "champion_version")
    assert {k: airflow.xcom("evaluate")[k] for k in keys} == {k: cli["evaluate"][k] for k in keys}
    assert airflow.xcom("select")["threshold"] == cli["select"]["threshold"]
    assert airflow.xcom("ingest")["snapshot_id"] == cli["ingest"]["snapshot_id"]
