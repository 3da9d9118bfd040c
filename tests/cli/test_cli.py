"""The imbalance-jobs command in-process against the real local S3 server: exit codes, run, models, predict."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from imbalance_jobs.cli import main
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.publishing import read_champion
from tests.conftest import BASE_CONFIG, QUICK, RUN_DATE, merge, seed, write_yaml

pytestmark = pytest.mark.integration

TORCH = {
    "name": "mlp",
    "model": "torch_mlp",
    "model_params": {"hidden_sizes": [32, 16], "max_epochs": 15, "batch_size": 128},
}


@pytest.fixture
def env(monkeypatch, s3_server, tmp_path):
    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.settings.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.settings.secret_access_key)
    monkeypatch.setenv("IMBALANCE_CONFIGS_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def config_file(env, buckets, store):
    def write(*, seed_data: bool = True, **overrides) -> Path:
        data = merge(
            BASE_CONFIG,
            merge(QUICK, {"source": {"bucket": buckets["source"]}, "artifacts": {"bucket": buckets["artifacts"]}}),
        )
        path = write_yaml(env / "fraud_test.yaml", merge(data, overrides))
        from imbalance_jobs.config import load_config

        if seed_data:
            seed(store, load_config(path))
        return path

    return write


def test_config_validate_ok_and_bad(env, capsys) -> None:
    good = write_yaml(env / "good.yaml", BASE_CONFIG)
    bad = write_yaml(
        env / "bad.yaml", merge(BASE_CONFIG, {"training": {"candidates": [{"name": "a", "imbalance": "smtoe"}]}})
    )
    assert main(["config", "validate", str(good)]) == 0
    assert main(["config", "validate", str(good), str(bad)]) == 4
    err = capsys.readouterr().err
    assert "bad.yaml > training > candidates[0] > imbalance" in err
    assert "got 'smtoe'" in err


def test_run_unknown_pipeline_is_a_config_error(env, capsys) -> None:
    assert main(["run", "nope", "--date", "2026-11-27"]) == 4
    assert "no pipeline of that name" in capsys.readouterr().err


def test_run_validation_failure_exits_5(config_file, capsys) -> None:
    path = config_file(validation={"min_rows": 10**7})
    assert main(["run", str(path), "--date", str(RUN_DATE)]) == 5
    err = capsys.readouterr().err
    assert "data validation failed" in err
    assert "expect_table_row_count_to_be_between" in err


def test_run_missing_bucket_exits_1(config_file, capsys) -> None:
    path = config_file(seed_data=False, source={"bucket": "no-such-source-bucket"})
    assert main(["run", str(path), "--date", str(RUN_DATE)]) == 1
    assert "bucket 'no-such-source-bucket' does not exist" in capsys.readouterr().err


def test_run_prints_readable_summary_and_json(config_file, capsys) -> None:
    path = config_file()
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "readable"]) == 0
    out = capsys.readouterr().out
    assert "fraud_test · run readable · data up to 2026-11-27" in out
    assert "PROMOTE" in out
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "machine", "--json", "--dry-run"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["stages"]["publish"]["note"] == "dry run: nothing published"


def test_run_output_says_when_the_snapshot_is_a_negative_sample(config_file, capsys, store) -> None:
    path = config_file(source={"negative_sample": {"fraction": 0.5}}, split={"key": ["txn_id"]})
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "sampled", "--dry-run"]) == 0
    out = capsys.readouterr().out
    manifest = store.get_json(f"s3://{yaml.safe_load(path.read_text())['artifacts']['bucket']}"
                              f"/fraud_test/runs/sampled/ingest/manifest.json")  # fmt: skip
    sample = manifest["negative_sample"]
    kept = sample["positives"] + sample["negatives_kept"]
    read = sample["positives"] + sample["negatives_seen"]
    assert f"negative sample: kept {kept} of {read} rows (every positive, {sample['beta']:.4%} of negatives)" in out


def test_stage_by_stage_matches_whole_run(config_file, capsys, store) -> None:
    path = config_file()
    for stage in ("ingest", "validate", "split", "train", "select", "evaluate"):
        assert main(["stage", stage, str(path), "--date", str(RUN_DATE), "--run-id", "staged"]) == 0
    staged = json.loads(capsys.readouterr().out.split("\n}\n")[-2] + "\n}")
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "whole", "--json", "--dry-run"]) == 0
    whole = json.loads(capsys.readouterr().out)["stages"]["evaluate"]
    assert staged["candidate_ap"] == whole["candidate_ap"]


def test_stage_needs_earlier_stage(config_file, capsys) -> None:
    path = config_file()
    assert main(["stage", "split", str(path), "--date", str(RUN_DATE), "--run-id", "fresh"]) == 1
    assert "stage 'validate' has not run for run id 'fresh'" in capsys.readouterr().err


def test_torch_candidate_runs_publishes_and_predict_reproduces_scores(config_file, capsys, store, tmp_path) -> None:
    path = config_file(training={"candidates": [TORCH]})
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "torch", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["stages"]["select"]["candidate"] == "mlp"
    assert summary["stages"]["publish"]["promoted"] is True
    test = store.get_frame(summary["stages"]["split"]["test_uri"])
    test_file = tmp_path / "rows.parquet"
    test.to_parquet(test_file, index=False)
    out_file = tmp_path / "scored.csv"
    assert main(["predict", str(path), str(test_file), "--output", str(out_file)]) == 0
    scored = pd.read_csv(out_file)
    recorded = store.get_frame(
        summary["stages"]["evaluate"]["verdict_uri"].replace("verdict.json", "evaluation/scores.parquet")
    )
    assert scored["score"].round(12).tolist() == recorded["candidate_score"].round(12).tolist()
    files = [o.uri for o in store.list(summary["stages"]["publish"]["version_uri"] + "model/")]
    assert any(f.endswith("mlp.safetensors") for f in files)
    assert not any(f.endswith((".pkl", ".pt", ".pth")) for f in files)


def test_models_list_show_history_and_rollback(config_file, capsys, store) -> None:
    path = config_file()
    seed_days = RUN_DATE - dt.timedelta(days=1)
    assert main(["run", str(path), "--date", str(seed_days), "--run-id", "one"]) == 0
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "two", "--force-promote", "fresher data"]) == 0
    capsys.readouterr()
    assert main(["models", "list", str(path), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    first, second = (v["version"] for v in listing["versions"])
    assert listing["champion"] == second
    assert main(["models", "show", str(path)]) == 0
    assert f"version {second}" in capsys.readouterr().out
    assert main(["rollback", str(path), "--to", first, "--reason", "second one misbehaves", "--actor", "bob"]) == 0
    assert main(["models", "history", str(path)]) == 0
    history = capsys.readouterr().out.strip().splitlines()[-3:]
    assert "promote  (none) ->" in history[0]
    assert "forced promote by operator: fresher data" in history[1]
    assert f"rollback {second} -> {first}  by bob: second one misbehaves" in history[2]
    from imbalance_jobs.config import load_config

    assert read_champion(store, PipelineLayout(load_config(path))).version == first


def test_predict_without_champion_is_a_clear_error(config_file, capsys, tmp_path) -> None:
    path = config_file()
    rows = tmp_path / "x.csv"
    rows.write_text("f0\n1\n")
    assert main(["predict", str(path), str(rows)]) == 1
    assert "no champion yet" in capsys.readouterr().err


def test_run_failure_keeps_its_own_error_when_alerting_fails_too(config_file, capsys, monkeypatch) -> None:
    """Issue 12 item 1: the store is unreachable, so ingest fails and so does the failure alert; the user sees
    ingest's error (naming the source partition), with the alerting failure as a warning only."""
    path = config_file(seed_data=False)
    from imbalance_jobs.local_s3 import free_port

    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("IMBALANCE_S3_MAX_ATTEMPTS", "1")
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "down"]) == 1
    err = capsys.readouterr().err
    error_line = next(line for line in err.splitlines() if line.startswith("error: "))
    assert "/fraud/dt=" in error_line
    assert "cannot list" in error_line
    assert "validation/report.json" not in error_line
    assert "warning: alerts were not raised or delivered" in err


def test_run_that_promoted_exits_0_and_says_so_when_alert_writes_fail(config_file, capsys, monkeypatch, store) -> None:
    """Issue 12 item 4: the store fails during the post-publish alert writes; the promotion stands, exit 0."""
    from imbalance_jobs.cli import _run
    from imbalance_jobs.errors import StorageError

    def store_down(ctx, **kwargs):
        raise StorageError(f"{ctx.staging_uri('alerts')}: cannot write: Could not connect to the endpoint URL")

    monkeypatch.setattr(_run, "report_run_outcome", store_down)
    path = config_file()
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "promoted"]) == 0
    err = capsys.readouterr().err
    from imbalance_jobs.config import load_config

    champion = read_champion(store, PipelineLayout(load_config(path)))
    assert champion is not None
    assert f"version {champion.version} was published and is now champion" in err
    assert "cannot write: Could not connect" in err


def test_run_says_when_a_stage_is_still_running(config_file, capsys, monkeypatch) -> None:
    """Issue 12 item 5: 'run' sat in ingest for minutes with no output."""
    import time

    from imbalance_jobs import pipeline
    from imbalance_jobs.cli import _run

    original = pipeline._RUNNERS["ingest"]

    def slow_ingest(ctx):
        time.sleep(0.5)
        return original(ctx)

    monkeypatch.setitem(pipeline._RUNNERS, "ingest", slow_ingest)
    monkeypatch.setattr(_run._Progress, "HEARTBEAT_S", 0.2)
    path = config_file(validation={"min_rows": 10**7})  # stops at validate: only ingest matters here
    assert main(["run", str(path), "--date", str(RUN_DATE), "--run-id", "slow"]) == 5
    err = capsys.readouterr().err
    assert re.search(r"  ingest    still running after 0s", err), err
    time.sleep(0.5)
    assert "still running" not in capsys.readouterr().err  # the heartbeat ends with the run
