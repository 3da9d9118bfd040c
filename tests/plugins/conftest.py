"""Plugins import airflow: configure the throwaway Airflow home first (shared with tests/dags), and reuse the
Airflow fixtures of tests/dags (metadata DB, S3 server) for the Models view tests."""

import tests.dags.airflow_env  # noqa: F401
from tests.dags.conftest import airflow_db, airflow_s3, airflow_store  # noqa: F401
