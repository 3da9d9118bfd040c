"""Extra links: the Models view page (default) or the console URL of what a task wrote, and an empty link (never
an error) when there is none."""

from __future__ import annotations

from typing import Any

import pytest
from imbalance_links import (
    DEFAULT_CONSOLE_URL,
    PublishedVersionLink,
    ValidationReportLink,
    VerdictLink,
    console_url,
    models_url,
)

pytestmark = pytest.mark.airflow
URI = "s3://models/fraud/versions/20261127T020312Z-3fa4c1/"
RUN_ID = "manual__2026-11-27T02:00:00+00:00"


class TiKey:
    dag_id, run_id, task_id, map_index, try_number = "retrain_fraud", RUN_ID, "publish", -1, 1


def pushed(monkeypatch: pytest.MonkeyPatch, values: dict[str, Any]) -> dict[str, str]:
    seen: dict[str, str] = {}

    def get_value(*, key: str, ti_key: Any) -> Any:
        seen["key"] = key
        return values.get(key)

    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", get_value)
    return seen


def test_console_url_defaults_to_the_aws_console() -> None:
    assert DEFAULT_CONSOLE_URL.startswith("https://s3.console.aws.amazon.com/")
    assert console_url(URI, DEFAULT_CONSOLE_URL).endswith(
        "/buckets/models?prefix=fraud/versions/20261127T020312Z-3fa4c1/"
    )


def test_console_url_reads_the_template_from_airflow_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW__IMBALANCE_JOBS__OBJECT_STORE_CONSOLE_URL", "http://localhost:9001/browser/{bucket}/{key_b64}"
    )
    assert console_url("s3://models/a/b.html") == "http://localhost:9001/browser/models/YS9iLmh0bWw%3D"


def test_console_url_quotes_keys_and_keeps_the_uri_placeholder() -> None:
    assert (
        console_url("s3://b/runs/x y/report.html", "{bucket}|{key}|{uri}")
        == "b|runs/x%20y/report.html|s3://b/runs/x y/report.html"
    )


def test_console_url_refuses_a_non_s3_uri() -> None:
    with pytest.raises(ValueError, match=r"'/tmp/x': not an s3:// URI"):
        console_url("/tmp/x", "{key}")


@pytest.mark.parametrize(
    ("link", "key"),
    [(ValidationReportLink(), "validation_report_uri"), (PublishedVersionLink(), "published_version_uri")],
)
def test_link_turns_the_pushed_uri_into_a_console_url(link: Any, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__IMBALANCE_JOBS__EXTRA_LINKS", "console")
    seen = pushed(monkeypatch, {key: URI})
    assert link.get_link(None, ti_key=TiKey()) == console_url(URI)
    assert seen["key"] == key


@pytest.mark.parametrize(
    ("link", "values", "page"),
    [
        (
            ValidationReportLink(),
            {"validation_report_uri": "s3://m/fraud/runs/x/validation/report.html"},
            "/models/pipelines/fraud/runs/manual__2026-11-27T02%3A00%3A00%2B00%3A00/files/validation_report.html",
        ),
        (
            PublishedVersionLink(),
            {"published_version_uri": URI},
            "/models/pipelines/fraud/versions/20261127T020312Z-3fa4c1",
        ),
        (
            VerdictLink(),
            {"return_value": {"verdict_uri": "s3://m/fraud/runs/x/verdict.json", "decision": "reject"}},
            "/models/pipelines/fraud/runs/manual__2026-11-27T02%3A00%3A00%2B00%3A00",
        ),
    ],
)
def test_link_points_at_the_models_view_by_default(
    link: Any, values: dict[str, Any], page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW__IMBALANCE_JOBS__EXTRA_LINKS", raising=False)
    pushed(monkeypatch, values)
    assert link.get_link(None, ti_key=TiKey()) == page


def test_models_url_keeps_the_base_path_of_a_proxied_airflow() -> None:
    assert models_url("pipelines/fraud", "https://example.org/airflow/") == "/airflow/models/pipelines/fraud"
    assert models_url("pipelines/fraud", "http://localhost:8080") == "/models/pipelines/fraud"


def test_link_is_empty_for_an_unknown_link_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__IMBALANCE_JOBS__EXTRA_LINKS", "s3-browser")
    pushed(monkeypatch, {"published_version_uri": URI})
    assert PublishedVersionLink().get_link(None, ti_key=TiKey()) == ""


def test_link_is_empty_when_nothing_was_pushed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", lambda **_: None)
    assert PublishedVersionLink().get_link(None, ti_key=object()) == ""


def test_link_is_empty_when_the_xcom_lookup_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**_: Any) -> None:
        raise RuntimeError("no supervisor")

    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", boom)
    assert ValidationReportLink().get_link(None, ti_key=object()) == ""


def test_plugin_registers_every_link() -> None:
    from imbalance_plugin import ImbalanceJobsPlugin

    assert sorted(link.name for link in ImbalanceJobsPlugin.operator_extra_links) == [
        "Published version",
        "Validation report",
        "Verdict",
    ]
