"""Airflow DAG factory: one ``retrain_<name>`` DAG per pipeline config in ``configs/``, in sorted order.

Parsing reads the YAML files only (pydantic + yaml; no S3, no heavy imports). Broken configs are skipped here and
reported by ``retrain_config_errors.py`` as an import error, so one bad file never hides the other pipelines.
When a task runs, only the DAG it belongs to is built.
"""

from airflow.sdk import get_parsing_context
from imbalance_dags.discovery import dag_id_for, discover
from imbalance_dags.factory import build_dag

_wanted = get_parsing_context().dag_id
for _path, _config in discover().valid:
    if _wanted is None or _wanted == dag_id_for(_config):
        build_dag(_config, source=_path)
