"""Airflow fixtures: a migrated SQLite metadata DB, the DAG bag, a configs folder and the S3 connection."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from tests.dags.airflow_env import DAGS, connection_env  # configures Airflow on import: keep before airflow


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create the metadata tables once per session (SQLite in the throwaway Airflow home)."""
    from airflow.utils.db import initdb

    initdb()


def load_bag(dags_folder: Path = DAGS) -> Any:
    from airflow.dag_processing.dagbag import BundleDagBag

    return BundleDagBag(str(dags_folder), bundle_path=dags_folder, bundle_name="dags-folder")


@pytest.fixture
def configs_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty configs folder the DAG factory reads instead of the repository's ``configs/``."""
    folder = tmp_path / "configs"
    folder.mkdir()
    monkeypatch.setenv("IMBALANCE_CONFIGS_DIR", str(folder))
    return folder


def example_config(name: str = "fraud") -> dict[str, Any]:
    return yaml.safe_load((REPO / "configs" / f"{name}.yaml").read_text())


@pytest.fixture
def s3_connection(s3_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipelines' ``imbalance_s3`` connection, pointing at the session's real S3 server."""
    settings = s3_server.settings
    for key, value in connection_env(settings.endpoint_url, settings.access_key_id, settings.secret_access_key).items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def write_config(configs_dir: Path) -> Callable[..., Path]:
    """Write a config YAML into the configs folder: a dict, or raw text for broken files."""

    def write(filename: str, data: dict[str, Any] | str) -> Path:
        path = configs_dir / filename
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
        return path

    return write
