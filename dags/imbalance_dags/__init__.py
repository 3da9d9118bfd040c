"""Airflow wiring for imbalance_jobs: one retraining DAG per ``configs/*.yaml``.

The DAG files next to this package stay a few lines long; everything they need lives here:

- :mod:`~imbalance_dags.discovery` finds and validates pipeline configs (cheap: pydantic + yaml only),
- :mod:`~imbalance_dags.params` declares the trigger form and turns a run's conf into ``RunOptions``,
- :mod:`~imbalance_dags.runtime` builds the ``RunContext`` inside a task from the Airflow connection,
- :mod:`~imbalance_dags.tasks` holds the task bodies, each one call into ``imbalance_jobs``,
- :mod:`~imbalance_dags.factory` wires those tasks into a DAG.

Nothing here imports pandas, scikit-learn, torch, boto3 or Great Expectations at module level.
"""
