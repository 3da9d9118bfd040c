"""The imbalance-jobs Airflow plugin: the Models view (a FastAPI app + UI entries) and the extra links.

- ``/models``: the read-only Models view (``imbalance_models_view``), mounted by the api-server; every route checks
  the caller's Airflow token itself.
- UI entries: "Models" in the navigation bar, a "Models" tab on every retraining DAG (``{DAG_ID}``) and a
  "Run outcome" tab on every run (``{RUN_ID}``); Airflow shows them in an iframe, which sends the UI's cookie.
- ``TriggerConfCheck``: a root middleware that refuses a retraining DAG's trigger with bad conf (400) before a
  run exists.
- A listener that writes each retraining run's outcome as its DAG-run note (``imbalance_run_notes``).
- Extra links on ``validate``, ``evaluate`` and ``publish`` (attached by the DAG factory; registered here so they are listed).
"""

from __future__ import annotations

import imbalance_run_notes
from airflow.plugins_manager import AirflowPlugin
from imbalance_links import PublishedVersionLink, ValidationReportLink, VerdictLink
from imbalance_models_view import URL_PREFIX, app
from imbalance_trigger_check import TriggerConfCheck

_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' fill='none' "
    "stroke='%234a5568' stroke-width='2'><path d='M12 2 3 7l9 5 9-5-9-5z'/><path d='m3 17 9 5 9-5'/>"
    "<path d='m3 12 9 5 9-5'/></svg>"
)


class ImbalanceJobsPlugin(AirflowPlugin):
    name = "imbalance_jobs"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "imbalance-jobs Models"}]
    fastapi_root_middlewares = [
        {"middleware": TriggerConfCheck, "args": [], "kwargs": {}, "name": "imbalance-jobs trigger conf check"}
    ]
    external_views = [
        {"name": "Models", "href": f"{URL_PREFIX}/", "url_route": "models", "destination": "nav", "icon": _ICON},
        {"name": "Models", "href": f"{URL_PREFIX}/dags/{{DAG_ID}}", "url_route": "models_dag", "destination": "dag"},
        {
            "name": "Run outcome",
            "href": f"{URL_PREFIX}/dags/{{DAG_ID}}/runs/{{RUN_ID}}",
            "url_route": "models_run",
            "destination": "dag_run",
        },
    ]
    listeners = [imbalance_run_notes]
    operator_extra_links = [ValidationReportLink(), VerdictLink(), PublishedVersionLink()]
