"""Airflow fixtures: a migrated SQLite metadata DB, the DAG bag, a configs folder and the S3 connection."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from imbalance_jobs.local_s3 import LocalS3Server
from tests.dags.airflow_env import DAGS, connection_env, isolated_s3_server  # configures Airflow on import
from tests.dags.pipelines import RUN_DAY, fast_example_config


@pytest.fixture(scope="session")
def airflow_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalS3Server]:
    """The S3 server of the Airflow tests (see :func:`isolated_s3_server`).

    Its own fixture, not an override of ``s3_server``: the session-scoped ``store`` of the root conftest would stay
    bound to whichever server another folder's tests created first.
    """
    server = isolated_s3_server(tmp_path_factory.mktemp("seaweedfs-airflow"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def airflow_store(airflow_s3: LocalS3Server) -> Any:
    from imbalance_jobs.storage import ObjectStore

    return ObjectStore(airflow_s3.settings)


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


@pytest.fixture
def write_config(configs_dir: Path) -> Callable[..., Path]:
    """Write a config YAML into the configs folder: a dict, or raw text for broken files."""

    def write(filename: str, data: dict[str, Any] | str) -> Path:
        path = configs_dir / filename
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
        return path

    return write


class DagRunner:
    """Runs the repository's DAG for one config with ``dag.test()``; each scenario gets fresh buckets."""

    def __init__(self, store: Any, configs: Path):
        self.store, self.configs = store, configs

    def buckets(self) -> tuple[str, str]:
        import uuid

        suffix = uuid.uuid4().hex[:10]
        names = (f"src-{suffix}", f"art-{suffix}")
        for name in names:
            self.store.ensure_bucket(name)
        return names

    def seed(self, data: dict[str, Any]) -> None:
        import datetime as dt

        from imbalance_jobs.cli._local import seed_pipeline
        from imbalance_jobs.config import PipelineConfig

        config = PipelineConfig.model_validate(data)
        end = dt.date.fromisoformat(RUN_DAY)
        seed_pipeline(self.store, config, end_day=end, days=config.source.lookback_days, rows=500)

    def run(self, data: dict[str, Any], conf: dict[str, Any] | None = None) -> FinishedRun:
        """``dag.test()`` with no logical date, as the UI and REST API trigger runs; returns a snapshot.

        The next ``dag.test()`` of the same DAG clears earlier task instances, so states and XComs are copied now.
        """
        for old in self.configs.glob("*.yaml"):
            old.unlink()
        (self.configs / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        dag = load_bag().dags[f"retrain_{data['name']}"]
        return FinishedRun.of(dag.test(logical_date=None, run_conf={"data_date": RUN_DAY, **(conf or {})}))

    def scenario(
        self, conf: dict[str, Any] | None = None, *, seed: bool = True, **overrides: Any
    ) -> tuple[dict, FinishedRun]:
        data = fast_example_config(*self.buckets(), **overrides)
        if seed:
            self.seed(data)
        return data, self.run(data, conf)


@pytest.fixture(scope="module")
def dag_runner(
    airflow_db: None, airflow_s3: Any, airflow_store: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DagRunner]:
    """A runner with the S3 connection and a private configs folder set for the whole module."""
    settings = airflow_s3.settings
    configs = tmp_path_factory.mktemp("configs")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in connection_env(
            settings.endpoint_url, settings.access_key_id, settings.secret_access_key
        ).items():
            patch.setenv(key, value)
        patch.setenv("IMBALANCE_CONFIGS_DIR", str(configs))
        yield DagRunner(airflow_store, configs)


@dataclass(frozen=True)
class FinishedRun:
    """What a test needs from a finished DAG run: id, state, note, task states, every XCom, asset events emitted."""

    run_id: str
    state: str
    states: dict[str, str]
    xcoms: dict[tuple[str, str], Any]
    note: str | None = None
    asset_events: tuple[tuple[str, dict[str, Any]], ...] = ()

    @classmethod
    def of(cls, dag_run: Any) -> FinishedRun:
        from airflow.models.asset import AssetEvent, AssetModel
        from airflow.models.dagrun import DagRun
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import select

        states = {}
        for ti in dag_run.get_task_instances():
            key = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.rendered_map_index}]"
            states[key] = str(getattr(ti.state, "value", ti.state))
        with create_session() as session:
            query = select(XComModel).where(XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id)
            rows = session.scalars(query.where(XComModel.map_index < 0)).all()
            xcoms = {(r.task_id, r.key): XComModel.deserialize_value(r) for r in rows}
            stored = session.scalars(
                select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
            ).one()
            events = session.execute(
                select(AssetModel.name, AssetEvent.extra)
                .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                .where(AssetEvent.source_dag_id == dag_run.dag_id, AssetEvent.source_run_id == dag_run.run_id)
            ).all()
            note = stored.note
        state = str(getattr(dag_run.state, "value", dag_run.state))
        return cls(dag_run.run_id, state, states, xcoms, note, tuple((n, dict(e or {})) for n, e in events))

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        return self.xcoms.get((task_id, key))
