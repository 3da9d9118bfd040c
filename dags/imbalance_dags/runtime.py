"""Inside a running task: the object store from the Airflow connection, and the ``RunContext`` of the run.

Connections are read only here, at run time, never at parse time. The connection named by
``config.airflow.aws_conn_id`` is an ``aws`` connection as the Amazon provider defines it: login and password are
the access key pair (empty: boto3's own chain, e.g. an instance role), ``extra.endpoint_url`` points at MinIO or
another S3-compatible server (``extra.service_config.s3.endpoint_url`` is honoured too), ``extra.region_name``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.storage import ObjectStore, StorageSettings

__all__ = ["MissingConnection", "run_context", "storage_settings"]


class MissingConnection(LookupError):
    """The object-store connection a pipeline names is not defined in Airflow."""


def storage_settings(conn_id: str) -> StorageSettings:
    """Object-store settings from an Airflow ``aws`` connection."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException as exc:
        raise MissingConnection(
            f"Airflow connection '{conn_id}' (config airflow.aws_conn_id) is not defined; define it in the UI or as "
            f'AIRFLOW_CONN_{conn_id.upper()}=\'{{"conn_type": "aws", "login": "<key id>", '
            f'"password": "<secret>", "extra": {{"endpoint_url": "http://host:9000"}}}}\''
        ) from exc
    extra: dict[str, Any] = conn.extra_dejson or {}
    endpoint = extra.get("endpoint_url") or extra.get("service_config", {}).get("s3", {}).get("endpoint_url")
    return StorageSettings(
        endpoint_url=endpoint or None,
        access_key_id=conn.login or None,
        secret_access_key=conn.password or None,
        region_name=extra.get("region_name") or "us-east-1",
    )


def run_context(config: PipelineConfig, spec: dict[str, Any]) -> RunContext:
    """Rebuild the run's context from the spec the ``prepare`` task returned."""
    options = dict(spec["options"])
    if options.get("candidates") is not None:
        options["candidates"] = tuple(options["candidates"])
    return RunContext(
        config=config,
        run_id=spec["run_id"],
        run_date=dt.date.fromisoformat(spec["run_date"]),
        store=ObjectStore(storage_settings(config.airflow.aws_conn_id)),
        options=RunOptions(**options),
    )
