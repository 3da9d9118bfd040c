"""Example consumers of the champion Assets: one ``on_new_champion_<name>`` DAG per pipeline, run by Airflow each
time that pipeline promotes a model (``schedule=[champion asset]``), never on a clock.

Its one task loads the promoted version named in the asset event and proves it scores its probe rows exactly as
when it was published: the place where a serving deployment or a batch-scoring job would start. Copy it for your
own consumers; parsing reads the YAML configs only, as ``retrain_pipelines.py`` does.
"""

from airflow.sdk import get_parsing_context
from imbalance_dags.consumers import build_consumer_dag, consumer_dag_id
from imbalance_dags.discovery import discover

_wanted = get_parsing_context().dag_id
for _path, _config in discover().valid:
    if _wanted is None or _wanted == consumer_dag_id(_config):
        build_consumer_dag(_config)
