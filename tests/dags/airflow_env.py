"""Point Airflow at a throwaway home before anything imports it (Airflow reads its config once per process).

Importing this module configures the session: every test folder that touches Airflow (tests/dags, tests/plugins,
tests/e2e) imports it from its conftest before anything imports airflow, so whichever folder pytest collects
first, the whole session shares one setup.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DAGS = REPO / "dags"
PLUGINS = REPO / "plugins"
CONN_ID = "imbalance_s3"
_HOME: Path | None = None


def configure() -> Path:
    """Set AIRFLOW_HOME and AIRFLOW__* for this test session; returns the Airflow home."""
    global _HOME
    if _HOME is not None:
        return _HOME
    if "airflow" in sys.modules:
        raise RuntimeError("airflow was imported before tests/dags/airflow_env.configure(); import this module first")
    _HOME = Path(tempfile.mkdtemp(prefix="imbalance-airflow-"))
    os.environ.update(base_env(_HOME))
    for folder in (DAGS, PLUGINS):  # as Airflow's DAG bag and plugin loader put them, for direct imports
        if str(folder) not in sys.path:
            sys.path.append(str(folder))
    return _HOME


def base_env(home: Path, *, db_url: str | None = None) -> dict[str, str]:
    """The Airflow settings the tests (and the real processes of the e2e tests) run with."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url or f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": os.environ.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_hex(16),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
    }


def isolated_s3_server(data_dir: Path) -> Any:
    """A local SeaweedFS server with its Iceberg and Lance listeners off: their fixed ports (8181, 9101) collide
    whenever a second server runs on the machine (the demo, another test session), killing the newer one."""
    from imbalance_jobs.local_s3 import LocalS3Server

    class IsolatedS3Server(LocalS3Server):
        def command(self) -> list[str]:
            return [*super().command(), "-s3.port.iceberg=0", "-s3.port.lance=0"]

    return IsolatedS3Server(data_dir)


def connection_env(endpoint_url: str, access_key: str, secret_key: str, conn_id: str = CONN_ID) -> dict[str, str]:
    """The object-store connection as an ``AIRFLOW_CONN_*`` variable, the way docker-compose passes it."""
    import json

    value = {"conn_type": "aws", "login": access_key, "password": secret_key, "extra": {"endpoint_url": endpoint_url}}
    return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value)}


configure()
