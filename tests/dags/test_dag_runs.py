"""``dag.test()`` runs of the example pipeline against the real local S3 server: every way a run can end.

Each scenario is one DAG run (module-scoped, fresh buckets); the tests below assert one behaviour each on it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from tests.dags.conftest import DagRunner, FinishedRun

pytestmark = [pytest.mark.airflow, pytest.mark.integration]
STRICT_GATE = {"gate": {"min_average_precision": 0.999}}
Run = tuple[dict[str, Any], FinishedRun]


def layout(data: dict[str, Any]) -> PipelineLayout:
    return PipelineLayout(PipelineConfig.model_validate(data))


def versions(airflow_store: Any, data: dict[str, Any]) -> list[str]:
    return [o.uri for o in airflow_store.list(layout(data).versions_prefix)]


@pytest.fixture(scope="module")
def promoted(dag_runner: DagRunner) -> Run:
    return dag_runner.scenario()


@pytest.fixture(scope="module")
def rejected(dag_runner: DagRunner) -> Run:
    return dag_runner.scenario(**STRICT_GATE)


@pytest.fixture(scope="module")
def dry_run(dag_runner: DagRunner) -> Run:
    return dag_runner.scenario({"dry_run": True, "candidates": ["logreg"], "sample_fraction": 0.6})


@pytest.fixture(scope="module")
def invalid_data(dag_runner: DagRunner) -> Run:
    return dag_runner.scenario(validation={"min_rows": 1_000_000})


@pytest.fixture(scope="module")
def forced(dag_runner: DagRunner) -> Run:
    return dag_runner.scenario(
        {"force": "promote", "force_reason": "INC-42: gate mis-set, approved by on-call"}, **STRICT_GATE
    )


def test_first_run_promotes_and_moves_the_champion(promoted: Run, airflow_store: Any) -> None:
    data, dag_run = promoted
    got = dag_run.states
    assert dag_run.state == "success", (got, dag_run.xcom("evaluate"))
    assert (got["publish"], got["record_rejection"]) == ("success", "skipped")
    assert "alert_on_failure" not in got  # failures alert from task callbacks, not from a watcher task
    summary = dag_run.xcom("publish")
    assert summary["promoted"] is True
    assert airflow_store.get_json(layout(data).champion_uri)["version"] == summary["version"]
    assert dag_run.xcom("report")["version"] == summary["version"]


def test_monitor_task_writes_its_record_on_every_run(promoted: Run, airflow_store: Any) -> None:
    data, dag_run = promoted
    assert dag_run.states["monitor"] == "success"
    record_uri = dag_run.xcom("monitor")["record_uri"]
    record = airflow_store.get_json(record_uri)
    assert record_uri.startswith(layout(data).monitoring_prefix)
    assert record["status"] == "no_champion"  # the first run monitors before anything was promoted


def test_training_is_one_task_instance_per_candidate_labelled_by_name(promoted: Run) -> None:
    got = promoted[1].states
    assert {k: v for k, v in got.items() if k.startswith("train")} == {
        "train[logreg]": "success",
        "train[logreg_balanced]": "success",
    }


def test_extra_links_point_at_the_models_view_pages(promoted: Run) -> None:
    from urllib.parse import quote

    dag_run = promoted[1]
    version = dag_run.xcom("publish")["version"]
    run = quote(dag_run.run_id, safe="")
    assert dag_run.xcom("publish", "_link_PublishedVersionLink") == f"/models/pipelines/fraud/versions/{version}"
    assert dag_run.xcom("evaluate", "_link_VerdictLink") == f"/models/pipelines/fraud/runs/{run}"
    assert dag_run.xcom("validate", "_link_ValidationReportLink") == (
        f"/models/pipelines/fraud/runs/{run}/files/validation_report.html"
    )


def test_promoted_run_note_names_the_new_version_and_its_figures(promoted: Run) -> None:
    dag_run = promoted[1]
    version = dag_run.xcom("publish")["version"]
    assert dag_run.note is not None
    assert dag_run.note.startswith(f"PROMOTED {version}: candidate AP ")


def test_promotion_updates_the_champion_asset_with_the_version(promoted: Run) -> None:
    dag_run = promoted[1]
    summary = dag_run.xcom("publish")
    assert dag_run.asset_events == (
        (
            "fraud_champion",
            {"version": summary["version"], "version_uri": summary["version_uri"], "previous": None},
        ),
    )


def test_example_consumer_loads_and_verifies_the_new_champion(promoted: Run, dag_runner: DagRunner) -> None:
    from tests.dags.conftest import load_bag

    data, dag_run = promoted
    (dag_runner.configs / "fraud.yaml").write_text(yaml.safe_dump(data, sort_keys=False))  # the promoted buckets
    consumer = load_bag().dags["on_new_champion_fraud"]
    finished = FinishedRun.of(consumer.test(logical_date=None))
    assert finished.state == "success", finished.states
    assert finished.xcom("load_new_champion")["version"] == dag_run.xcom("publish")["version"]
    assert finished.xcom("load_new_champion")["verified"] is True


def test_xcom_carries_small_summaries_only(promoted: Run) -> None:
    for task_id in ("prepare", "ingest", "validate", "split", "select", "evaluate", "publish", "monitor", "report"):
        assert len(json.dumps(promoted[1].xcom(task_id))) < 20_000, task_id


def test_gate_rejection_is_recorded_and_nothing_is_published(rejected: Run, airflow_store: Any) -> None:
    data, dag_run = rejected
    got = dag_run.states
    assert dag_run.state == "success", got
    assert (got["publish"], got["record_rejection"]) == ("skipped", "success")
    assert dag_run.xcom("evaluate")["decision"] == "reject"
    assert versions(airflow_store, data) == []
    assert not airflow_store.exists(layout(data).champion_uri)
    assert airflow_store.get_json(layout(data).run_uri(dag_run.run_id, "rejection.json"))["decision"] == "reject"
    assert dag_run.note.startswith("NO CHAMPION yet, nothing promoted (reject): candidate AP ")
    assert dag_run.asset_events == ()


def test_dry_run_publishes_nothing(dry_run: Run, airflow_store: Any) -> None:
    data, dag_run = dry_run
    got = dag_run.states
    assert dag_run.state == "success", got
    assert dag_run.xcom("evaluate")["decision"] == "promote"
    assert (got["publish"], got["record_rejection"]) == ("skipped", "success")
    assert dag_run.xcom("record_rejection")["note"].startswith("dry run")
    assert dag_run.note.startswith("DRY RUN, nothing published (verdict promote): ")
    assert versions(airflow_store, data) == []
    assert not airflow_store.exists(layout(data).champion_uri)


def test_candidate_subset_skips_the_others_and_sampling_shrinks_the_data(dry_run: Run, promoted: Run) -> None:
    got = dry_run[1].states
    assert (got.get("train[logreg]"), got.get("train[logreg_balanced]")) == ("success", "skipped"), got
    assert dry_run[1].xcom("ingest")["rows"] < 0.7 * promoted[1].xcom("ingest")["rows"]


def queued_alerts(store: Any, data: dict[str, Any]) -> list[str]:
    """Names of the alerts queued or sent for the pipeline's channels (``<day>-<rule>-<kind>-<channel>.json``)."""
    root = layout(data).root
    return sorted(
        o.uri.rsplit("/", 1)[1] for o in store.list(root + "/alerts/") if "/outbox/" in o.uri or "/sent/" in o.uri
    )


def test_validation_failure_fails_the_run_at_validate_and_reaches_the_alert(
    invalid_data: Run, airflow_store: Any
) -> None:
    data, dag_run = invalid_data
    got = dag_run.states
    assert dag_run.state == "failed", got
    assert (got["validate"], got["split"], got["publish"]) == ("failed", "upstream_failed", "upstream_failed")
    assert dag_run.note.startswith("FAILED at validate: ")
    assert any("-validation_failed-alarm-" in name for name in queued_alerts(airflow_store, data))


def test_validation_failure_publishes_nothing_but_keeps_the_report(invalid_data: Run, airflow_store: Any) -> None:
    data, dag_run = invalid_data
    assert versions(airflow_store, data) == []
    assert not airflow_store.exists(layout(data).champion_uri)
    assert airflow_store.exists(dag_run.xcom("validate", "validation_report_uri"))
    assert dag_run.xcom("validate", "_link_ValidationReportLink")


def test_forced_promote_overrides_the_gate_and_records_the_reason(forced: Run, airflow_store: Any) -> None:
    data, dag_run = forced
    got = dag_run.states
    assert dag_run.state == "success", got
    assert got["publish"] == "success"
    verdict = airflow_store.get_json(dag_run.xcom("evaluate")["verdict_uri"])
    assert verdict["forced"] is True
    assert "INC-42" in verdict["force_reason"]
    assert airflow_store.get_json(layout(data).champion_uri)["version"] == dag_run.xcom("publish")["version"]


def test_unknown_conf_key_fails_the_first_task(dag_runner: DagRunner, airflow_store: Any) -> None:
    data, dag_run = dag_runner.scenario({"dryrun": True}, seed=False)
    got = dag_run.states
    assert dag_run.state == "failed", got
    assert (got["prepare"], got["ingest"]) == ("failed", "upstream_failed")
    assert dag_run.note.startswith("CONF REFUSED, nothing ran: unknown conf key(s) 'dryrun' (did you mean 'dry_run'?)")
    assert not any("-run_failed-" in name for name in queued_alerts(airflow_store, data))  # a typo pages nobody
