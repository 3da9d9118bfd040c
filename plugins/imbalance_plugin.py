"""The imbalance-jobs Airflow plugin: registers the object-store extra links (``airflow plugins`` lists them).

The DAG factory attaches the links to its ``validate`` and ``publish`` tasks itself; registering them here makes
them discoverable and keeps one place where this project's Airflow extensions are listed.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from imbalance_links import PublishedVersionLink, ValidationReportLink


class ImbalanceJobsPlugin(AirflowPlugin):
    name = "imbalance_jobs"
    operator_extra_links = [ValidationReportLink(), PublishedVersionLink()]
