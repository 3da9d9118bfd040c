"""Operator extra links: from the ``validate`` and ``publish`` tasks to what they wrote in the object store.

Airflow 3 resolves an operator's links in the worker when the task finishes (pass or fail) and stores them in
XCom; the UI reads them from there. The tasks push the object URI under a known XCom key, and each link turns it
into a console URL with the template in ``[imbalance_jobs] object_store_console_url``
(env ``AIRFLOW__IMBALANCE_JOBS__OBJECT_STORE_CONSOLE_URL``). Placeholders: ``{bucket}``, ``{key}`` (URL-quoted),
``{key_b64}`` (base64, as the MinIO console wants it) and ``{uri}`` (the ``s3://`` URI itself).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

__all__ = ["DEFAULT_CONSOLE_URL", "PublishedVersionLink", "ValidationReportLink", "console_url"]

DEFAULT_CONSOLE_URL = "https://s3.console.aws.amazon.com/s3/buckets/{bucket}?prefix={key}"
CONFIG_SECTION = "imbalance_jobs"
CONFIG_KEY = "object_store_console_url"


def console_url(uri: str, template: str | None = None) -> str:
    """The console URL of an ``s3://bucket/key`` URI; the template defaults to the Airflow config value."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r}: not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if template is None:
        from airflow.sdk import conf

        template = conf.get(CONFIG_SECTION, CONFIG_KEY, fallback=DEFAULT_CONSOLE_URL)
    return template.format(
        bucket=quote(bucket, safe=""),
        key=quote(key, safe="/"),
        key_b64=quote(base64.b64encode(key.encode()).decode(), safe=""),
        uri=uri,
    )


class _ObjectStoreLink(BaseOperatorLink):
    """Reads the URI the task pushed under ``uri_key``; an empty link when there is none (e.g. nothing published)."""

    uri_key = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        try:
            uri = XCom.get_value(key=self.uri_key, ti_key=ti_key)
            return console_url(uri) if uri else ""
        except Exception:  # a link must never fail a task: an empty link is shown as unavailable
            return ""


class ValidationReportLink(_ObjectStoreLink):
    name = "Validation report"
    uri_key = "validation_report_uri"


class PublishedVersionLink(_ObjectStoreLink):
    name = "Published version"
    uri_key = "published_version_uri"
