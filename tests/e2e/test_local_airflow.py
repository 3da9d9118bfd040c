"""``make airflow``'s local mode: thread caps per task, a banner that says what starts by itself, a local alert
receiver for the example configs' e-mail and webhook channels."""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from scripts.local_airflow import LocalAlertReceiver, first_runs, local_env, task_threads
from tests.conftest import REPO


def test_task_threads_give_each_parallel_task_its_share_of_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert task_threads({"AIRFLOW__CORE__PARALLELISM": str(cores)}) == 1
    assert task_threads({"AIRFLOW__CORE__PARALLELISM": "1"}) == cores
    assert task_threads({"AIRFLOW__CORE__PARALLELISM": "1", "AIRFLOW__IMBALANCE_JOBS__PARALLEL_TASKS": "64"}) == 1
    assert task_threads({"AIRFLOW__CORE__PARALLELISM": "64", "IMBALANCE_THREADS": "3"}) == 3


def test_banner_says_which_dags_start_a_run_by_themselves() -> None:
    lines = first_runs(
        sorted((REPO / "configs").glob("*.yaml")), {"AIRFLOW__CORE__PARALLELISM": "64", "IMBALANCE_THREADS": "1"}
    )
    assert "retrain_fraud (0 2 * * *)" in lines[0]
    assert "64 tasks at a time, 1 thread(s) each" in lines[0]


def test_local_alert_receiver_records_webhook_and_email_alerts(tmp_path: Path) -> None:
    receiver = LocalAlertReceiver(tmp_path / "alerts.jsonl").start()
    try:
        conns = {k: json.loads(v) for k, v in receiver.connections().items()}
        hook = conns["imbalance_alerts_webhook"]
        body = json.dumps({"message": "fraud: recall below the floor"}).encode()
        request = urllib.request.Request(f"{hook['host']}/{hook['extra']['endpoint']}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 204
        mail = EmailMessage()
        mail["Subject"], mail["From"], mail["To"] = "fraud: run failed", "a@localhost", "oncall@localhost"
        with smtplib.SMTP(conns["smtp_default"]["host"], conns["smtp_default"]["port"], timeout=10) as smtp:
            smtp.send_message(mail)
    finally:
        receiver.stop()
    records = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert [(r["channel"], r.get("message") or r.get("subject")) for r in records] == [
        ("webhook", "fraud: recall below the floor"),
        ("email", "fraud: run failed"),
    ]


def test_local_env_defines_the_alert_connections_and_leaves_threads_to_the_tasks(tmp_path: Path) -> None:
    receiver = LocalAlertReceiver(tmp_path / "alerts.jsonl")
    state = {"endpoint_url": "http://127.0.0.1:1", "access_key_id": "k", "secret_access_key": "s"}
    env = local_env(tmp_path, 8080, state, receiver)
    assert {"AIRFLOW_CONN_SMTP_DEFAULT", "AIRFLOW_CONN_IMBALANCE_ALERTS_WEBHOOK"} <= set(env)
    assert "OMP_NUM_THREADS" not in env or env["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS")
