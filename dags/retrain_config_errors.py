"""Airflow import error for broken pipeline configs: lists each broken file and every problem in it.

This file defines no DAG. When every config is valid it imports cleanly; otherwise Airflow shows the raised
message under "DAG Import Errors", while ``retrain_pipelines.py`` keeps loading the DAGs of the valid configs.
"""

from imbalance_dags.discovery import raise_for_broken

raise_for_broken()
