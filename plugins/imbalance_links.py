"""Operator extra links: from the ``validate`` and ``publish`` tasks to what they wrote.

Airflow 3 resolves an operator's links in the worker when the task finishes (pass or fail) and stores them in
XCom; the UI reads them from there and draws only http(s), mailto and same-site URLs. The tasks push the object
URI under a known XCom key (no URI pushed: no link), and ``[imbalance_jobs] extra_links`` (env
``AIRFLOW__IMBALANCE_JOBS__EXTRA_LINKS``) picks the target:

- ``models`` (default): the Models view's own pages on this api-server (``/models/...``, under ``[api] base_url``'s
  path when Airflow sits behind a proxy), so links work locally, in docker compose and behind a proxy, and
  ask for the same Airflow login;
- ``console``: the object-store console, with the template in ``[imbalance_jobs] object_store_console_url``
  (env ``AIRFLOW__IMBALANCE_JOBS__OBJECT_STORE_CONSOLE_URL``). Placeholders: ``{bucket}``, ``{key}`` (URL-quoted),
  ``{key_b64}`` (base64, as the MinIO console wants it) and ``{uri}`` (the ``s3://`` URI itself).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote, urlparse

from airflow.sdk import BaseOperatorLink

__all__ = [
    "DEFAULT_CONSOLE_URL",
    "PublishedVersionLink",
    "ValidationReportLink",
    "VerdictLink",
    "console_url",
    "models_url",
]

DEFAULT_CONSOLE_URL = "https://s3.console.aws.amazon.com/s3/buckets/{bucket}?prefix={key}"
CONFIG_SECTION = "imbalance_jobs"
CONFIG_KEY = "object_store_console_url"
TARGET_KEY = "extra_links"
TARGETS = ("models", "console")
MODELS_PREFIX = "/models"
DAG_ID_PREFIX = "retrain_"


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


def models_url(path: str, base_url: str | None = None) -> str:
    """A same-site URL of a Models view page: ``/models/<path>``, under the path of ``[api] base_url``."""
    if base_url is None:
        from airflow.sdk import conf

        base_url = conf.get("api", "base_url", fallback="") or ""
    prefix = urlparse(base_url).path.rstrip("/")
    return f"{prefix}{MODELS_PREFIX}/{path.lstrip('/')}"


def link_target() -> str:
    from airflow.sdk import conf

    target = conf.get(CONFIG_SECTION, TARGET_KEY, fallback="models").strip().lower()
    if target not in TARGETS:
        raise ValueError(f"[{CONFIG_SECTION}] {TARGET_KEY}: must be one of {TARGETS}; got {target!r}")
    return target


class _ObjectStoreLink(BaseOperatorLink):
    """Reads the URI the task pushed under ``uri_key``; an empty link when there is none (e.g. nothing published)."""

    uri_key = ""

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        try:
            uri = self.uri(XCom.get_value(key=self.uri_key, ti_key=ti_key))
            if not uri:
                return ""
            return self.page(uri, ti_key) if link_target() == "models" else console_url(uri)
        except Exception:  # a link must never fail a task: an empty link is shown as unavailable
            return ""

    def uri(self, value: Any) -> str | None:
        return value

    def page(self, uri: str, ti_key: Any) -> str:
        raise NotImplementedError


def _pipeline(ti_key: Any) -> str:
    return quote(str(ti_key.dag_id).removeprefix(DAG_ID_PREFIX), safe="")


class ValidationReportLink(_ObjectStoreLink):
    """The run's validation report, served by the Models view."""

    name = "Validation report"
    uri_key = "validation_report_uri"

    def page(self, uri: str, ti_key: Any) -> str:
        run = quote(str(ti_key.run_id), safe="")
        return models_url(f"pipelines/{_pipeline(ti_key)}/runs/{run}/files/validation_report.html")


class PublishedVersionLink(_ObjectStoreLink):
    """The published version's page (verdict, plots, model card) in the Models view."""

    name = "Published version"
    uri_key = "published_version_uri"

    def page(self, uri: str, ti_key: Any) -> str:
        version = uri.rstrip("/").rsplit("/", 1)[-1]
        return models_url(f"pipelines/{_pipeline(ti_key)}/versions/{quote(version, safe='')}")


class VerdictLink(_ObjectStoreLink):
    """What the run decided and why (the ``evaluate`` task's verdict), as the Models view's run page."""

    name = "Verdict"
    uri_key = "return_value"

    def uri(self, value: Any) -> str | None:
        return value.get("verdict_uri") if isinstance(value, dict) else None

    def page(self, uri: str, ti_key: Any) -> str:
        return models_url(f"pipelines/{_pipeline(ti_key)}/runs/{quote(str(ti_key.run_id), safe='')}")
