"""imbalance_jobs: the core of the rare-event retraining system. Plain Python; never imports airflow."""

__version__ = "0.1.0"
