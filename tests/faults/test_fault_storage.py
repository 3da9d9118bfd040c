"""The real local S3 server killed (SIGKILL) during each stage and restarted, killed mid-publish, SIGINT in
train and publish, the store dying after a promotion, and an endpoint that accepts but never answers.

After each fault: the command exits with the expected code and no traceback, the error names an object, the
store is consistent (no published version changed, champion complete, history one chain), and the work
completes once the server is back.
"""

from __future__ import annotations

import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from imbalance_jobs import pipeline, versions
from imbalance_jobs.cli import _run, main
from imbalance_jobs.config import load_config
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.pipeline import STAGES
from imbalance_jobs.publishing import incomplete_versions, read_champion
from tests.conftest import BASE_CONFIG, QUICK, RUN_DATE, merge, seed, write_yaml
from tests.faults.conftest import assert_store_consistent, published_state

pytestmark = pytest.mark.integration
DATE = ["--date", str(RUN_DATE)]
FAULT = merge(
    QUICK,
    {
        "training": {"cv_folds": 2, "candidates": [{"name": "lr", "model": "logistic_regression"}]},
        "evaluation": {"bootstrap_samples": 50},
        "monitoring": {"bootstrap_samples": 50},
    },
)
"""The cheapest whole pipeline: the faults are in storage and signals, not in the model."""


@pytest.fixture
def pipeline_file(own_store, own_server, monkeypatch, tmp_path) -> Path:
    """A quick pipeline on fresh buckets of the killable server, seeded; the CLI pointed at that server."""
    suffix = uuid.uuid4().hex[:8]
    buckets = {"source": {"bucket": f"fsrc-{suffix}"}, "artifacts": {"bucket": f"fart-{suffix}"}}
    for spec in buckets.values():
        own_store.ensure_bucket(spec["bucket"])
    path = write_yaml(tmp_path / "fraud_test.yaml", merge(merge(BASE_CONFIG, FAULT), buckets))
    seed(own_store, load_config(path))
    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", own_server.settings.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", own_server.settings.access_key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", own_server.settings.secret_access_key)
    monkeypatch.setenv("IMBALANCE_S3_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("IMBALANCE_CONFIGS_DIR", str(tmp_path))
    return path


def _layout(path: Path) -> PipelineLayout:
    return PipelineLayout(load_config(path))


def _failed_cleanly(capsys, code: int, expected: int = 1) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == expected, err
    return err


def _before_stage(monkeypatch, stage: str, action: Callable[[], Any]) -> None:
    original = pipeline._RUNNERS[stage]

    def hooked(ctx):
        action()
        return original(ctx)

    monkeypatch.setitem(pipeline._RUNNERS, stage, hooked)


def test_server_killed_during_each_stage_then_restarted(pipeline_file, own_server, own_store, monkeypatch,
                                                        capsys, tally) -> None:  # fmt: skip
    layout = _layout(pipeline_file)
    for stage in STAGES:
        before = published_state(own_store, layout)
        with monkeypatch.context() as patch:
            _before_stage(patch, stage, own_server.kill)
            code = main(["stage", stage, str(pipeline_file), *DATE, "--run-id", "nightly"])
        tally["faults_injected"] += 1
        err = _failed_cleanly(capsys, code)
        assert "error: s3://" in err, err  # the object the stage was touching is named
        own_server.start()
        assert_store_consistent(own_store, layout, before, tally)
        assert main(["stage", stage, str(pipeline_file), *DATE, "--run-id", "nightly"]) == 0
        capsys.readouterr()
        tally["faults_survived"] += 1
    champion = read_champion(own_store, layout)
    assert champion is not None
    assert_store_consistent(own_store, layout, {}, tally)


def test_server_killed_mid_publish_leaves_an_orphan_the_rerun_sweeps(pipeline_file, own_server, own_store,
                                                                    monkeypatch, capsys, tally) -> None:  # fmt: skip
    layout = _layout(pipeline_file)
    writes = {"n": 0}
    original = versions._put_once

    def put_then_crash(store, uri, data):
        writes["n"] += 1
        if writes["n"] == 4:
            own_server.kill()
        return original(store, uri, data)

    with monkeypatch.context() as patch:
        patch.setattr(versions, "_put_once", put_then_crash)
        code = main(["run", str(pipeline_file), *DATE, "--run-id", "crashy"])
    tally["faults_injected"] += 1
    err = _failed_cleanly(capsys, code)
    assert "/versions/" in err.split("error: ", 1)[1]
    own_server.start()
    assert read_champion(own_store, layout) is None
    (orphan,) = incomplete_versions(own_store, layout)
    assert main(["models", "show", str(pipeline_file), "--version", orphan]) == 1
    assert "never completely published" in capsys.readouterr().err
    assert main(["run", str(pipeline_file), *DATE, "--run-id", "crashy"]) == 0
    assert incomplete_versions(own_store, layout) == {}
    assert read_champion(own_store, layout) is not None
    assert_store_consistent(own_store, layout, {}, tally)
    tally["faults_survived"] += 1


@pytest.fixture
def ctrl_c() -> Iterator[None]:
    """Python's Ctrl-C handler for the test: a Python started with SIGINT ignored (a background job of a shell
    without job control, as a CI runner may start it) keeps it ignored, and the test would not see the signal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c")
@pytest.mark.parametrize("stage", ["train", "publish"])
def test_sigint_in_train_or_publish_exits_130_and_publishes_nothing(stage, pipeline_file, own_store, monkeypatch,
                                                                    capsys, tally) -> None:  # fmt: skip
    layout = _layout(pipeline_file)
    with monkeypatch.context() as patch:
        if stage == "train":
            _before_stage(patch, "train", lambda: signal.raise_signal(signal.SIGINT))
        else:
            original = versions._put_once
            calls = {"n": 0}

            def put_then_interrupt(store, uri, data):
                calls["n"] += 1
                if calls["n"] == 3:
                    signal.raise_signal(signal.SIGINT)
                return original(store, uri, data)

            patch.setattr(versions, "_put_once", put_then_interrupt)
        code = main(["run", str(pipeline_file), *DATE, "--run-id", f"int-{stage}"])
    tally["faults_injected"] += 1
    _failed_cleanly(capsys, code, expected=130)
    assert read_champion(own_store, layout) is None
    assert list(published_state(own_store, layout)) == []
    assert main(["run", str(pipeline_file), *DATE, "--run-id", f"int-{stage}"]) == 0
    assert incomplete_versions(own_store, layout) == {}
    assert_store_consistent(own_store, layout, {}, tally)
    tally["faults_survived"] += 1


def test_server_killed_after_promotion_keeps_exit_0_and_says_promoted(pipeline_file, own_server, own_store,
                                                                      monkeypatch, capsys, tally) -> None:  # fmt: skip
    real = _run.report_run_outcome

    def store_dies_first(ctx, **kwargs):
        own_server.kill()
        return real(ctx, **kwargs)

    monkeypatch.setattr(_run, "report_run_outcome", store_dies_first)
    code = main(["run", str(pipeline_file), *DATE, "--run-id", "late-crash"])
    tally["faults_injected"] += 1
    err = _failed_cleanly(capsys, code, expected=0)
    own_server.start()
    champion = read_champion(own_store, _layout(pipeline_file))
    assert f"version {champion.version} was published and is now champion" in err
    assert_store_consistent(own_store, _layout(pipeline_file), {}, tally)
    tally["faults_survived"] += 1


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_hanging_endpoint_fails_within_the_deadline_naming_the_object(pipeline_file, hanging_endpoint, monkeypatch,
                                                                      capsys, tally) -> None:  # fmt: skip
    monkeypatch.setenv("IMBALANCE_S3_ENDPOINT_URL", hanging_endpoint)
    monkeypatch.setenv("IMBALANCE_S3_READ_TIMEOUT", "1")
    monkeypatch.setenv("IMBALANCE_S3_DEADLINE", "2.5")
    monkeypatch.setenv("IMBALANCE_S3_MAX_ATTEMPTS", "5")
    start = time.monotonic()
    code = main(["models", "list", str(pipeline_file)])
    elapsed = time.monotonic() - start
    tally["faults_injected"] += 1
    err = _failed_cleanly(capsys, code)
    assert elapsed < 10
    assert "champion.json: cannot read: GetObject: no answer from the object store" in err
    assert "within the 2.5s deadline" in err
    tally["faults_survived"] += 1
