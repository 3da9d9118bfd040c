"""The Airflow Asset of each pipeline's champion: updated when a run promotes, so serving or batch-scoring DAGs can
be scheduled on it (``schedule=[champion_asset(config)]``) instead of polling the object store.

The asset is identified by name (``<pipeline>_champion``) and carries the champion pointer's location in its
``extra``: an ``s3://`` URI as the asset's URI would make every DAG parse load the Amazon provider's asset handler
and boto3 (measured by ``tests/dags/test_dag_integrity.py``). Each event's ``extra`` names the promoted version,
its folder and the previous champion, so a consumer knows what to load.
"""

from __future__ import annotations

from airflow.sdk import Asset

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout

__all__ = ["champion_asset", "champion_event_extra"]


def champion_asset(config: PipelineConfig) -> Asset:
    return Asset(
        name=f"{config.name}_champion", group="model", extra={"champion_pointer": PipelineLayout(config).champion_uri}
    )


def champion_event_extra(published: dict) -> dict:
    """What a consumer needs from a promotion: the version to load and where it lives."""
    return {
        "version": published.get("version"),
        "version_uri": published.get("version_uri"),
        "previous": published.get("champion_before"),
    }
