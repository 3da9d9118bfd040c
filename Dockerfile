# The image every Airflow service in docker-compose.yaml runs: the official Airflow 3.3.2 image plus this
# project's pinned requirements and the imbalance_jobs package. dags/, plugins/ and configs/ are baked in too, so
# the image runs on its own; docker-compose.yaml mounts the working copies over them for live edits.
#
#   docker build -t imbalance-jobs-airflow:3.3.2 .
#
# torch==2.13.0 from PyPI is the CUDA build on x86-64 Linux, so the same image serves the `gpu` Celery worker.
ARG AIRFLOW_VERSION=3.3.2
ARG PYTHON_VERSION=3.11
FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}

ARG AIRFLOW_VERSION
WORKDIR /opt/imbalance-jobs

# Dependencies first: this layer is rebuilt only when the pins change.
COPY --chown=airflow:0 requirements.txt constraints.txt ./
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r requirements.txt -c constraints.txt

# The package itself, without re-resolving dependencies.
COPY --chown=airflow:0 pyproject.toml README.md ./
COPY --chown=airflow:0 imbalance_jobs ./imbalance_jobs
RUN pip install --no-cache-dir --no-deps .

COPY --chown=airflow:0 dags /opt/airflow/dags
COPY --chown=airflow:0 plugins /opt/airflow/plugins
COPY --chown=airflow:0 configs /opt/airflow/configs

ENV IMBALANCE_CONFIGS_DIR=/opt/airflow/configs \
    MPLBACKEND=Agg
WORKDIR /opt/airflow
