"""Plugins import airflow: configure the throwaway Airflow home first (shared with tests/dags)."""

import tests.dags.airflow_env  # noqa: F401
