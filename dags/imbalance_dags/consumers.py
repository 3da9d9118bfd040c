"""The example consumer DAG of a pipeline's champion asset (see ``dags/champion_consumers.py``)."""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, get_current_context, task

from imbalance_dags.assets import champion_asset
from imbalance_dags.factory import START_DATE
from imbalance_jobs.config import PipelineConfig

__all__ = ["build_consumer_dag", "consumer_dag_id", "load_new_champion"]


def consumer_dag_id(config: PipelineConfig) -> str:
    return f"on_new_champion_{config.name}"


def build_consumer_dag(config: PipelineConfig) -> DAG:
    asset = champion_asset(config)
    with DAG(
        dag_id=consumer_dag_id(config),
        description=f"Runs when {config.name} promotes a champion: loads and checks it (example consumer)",
        schedule=[asset],
        start_date=START_DATE,
        catchup=False,
        tags=sorted({*config.airflow.tags, "imbalance-jobs", "example-consumer"}),
        default_args={"owner": config.airflow.owner, "retries": 0},
    ) as dag:

        @task(task_id="load_new_champion", inlets=[asset])
        def load() -> dict[str, Any]:
            events = get_current_context()["triggering_asset_events"][asset]
            return load_new_champion(config, events[-1].extra if events else {})

        load()
    return dag


def load_new_champion(config: PipelineConfig, extra: dict[str, Any]) -> dict[str, Any]:
    """Load the version the event names (else the current champion) and prove it scores its probe rows."""
    from imbalance_dags.runtime import storage_settings
    from imbalance_jobs.context import PipelineLayout
    from imbalance_jobs.publishing import read_champion
    from imbalance_jobs.storage import ObjectStore
    from imbalance_jobs.versions import verify_version

    store, layout = ObjectStore(storage_settings(config.airflow.aws_conn_id)), PipelineLayout(config)
    version = extra.get("version")
    if not version:
        champion = read_champion(store, layout)
        version = champion.version if champion else None
    if not version:
        return {"pipeline": config.name, "version": None, "verified": False}
    model = verify_version(store, layout, version)
    return {"pipeline": config.name, "version": version, "verified": True, "threshold": model.threshold}
