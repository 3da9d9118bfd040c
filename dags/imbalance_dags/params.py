"""The trigger form and the conf check, defined in ``plugins/imbalance_trigger_params.py`` (the api-server checks
conf with it before a run exists; the plugins folder is on every Airflow process's path) and re-exported here for
the DAG factory and the tasks."""

from imbalance_trigger_params import PARAM_NAMES, RunConfError, check_conf, run_spec, trigger_params

__all__ = ["PARAM_NAMES", "RunConfError", "check_conf", "run_spec", "trigger_params"]
