"""Extra links: the console URL of what a task wrote, and an empty link (never an error) when there is none."""

from __future__ import annotations

from typing import Any

import pytest
from imbalance_links import DEFAULT_CONSOLE_URL, PublishedVersionLink, ValidationReportLink, console_url

pytestmark = pytest.mark.airflow
URI = "s3://models/fraud/versions/20261127T020312Z-3fa4c1/"


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
    seen = {}

    def get_value(*, key: str, ti_key: Any) -> str:
        seen["key"] = key
        return URI

    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", get_value)
    assert link.get_link(None, ti_key=object()) == console_url(URI)
    assert seen["key"] == key


def test_link_is_empty_when_nothing_was_pushed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", lambda **_: None)
    assert PublishedVersionLink().get_link(None, ti_key=object()) == ""


def test_link_is_empty_when_the_xcom_lookup_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(**_: Any) -> None:
        raise RuntimeError("no supervisor")

    monkeypatch.setattr("airflow.sdk.execution_time.xcom.XCom.get_value", boom)
    assert ValidationReportLink().get_link(None, ti_key=object()) == ""


def test_plugin_registers_both_links() -> None:
    from imbalance_plugin import ImbalanceJobsPlugin

    assert sorted(link.name for link in ImbalanceJobsPlugin.operator_extra_links) == [
        "Published version",
        "Validation report",
    ]
