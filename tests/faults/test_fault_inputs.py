"""Bad inputs against a published pipeline on the real local S3 server: every bad file `predict` may meet,
corrupt / zero-byte / wrong-format / drifting partitions, tampered and incomplete versions, and 8 processes
promoting at once (3 rounds). Each ends in a named error or a stated rule, never a traceback."""

from __future__ import annotations

import io
import multiprocessing
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs import pipeline
from imbalance_jobs.cli import main
from imbalance_jobs.config import load_config
from imbalance_jobs.context import PipelineLayout, RunContext, RunOptions
from imbalance_jobs.publishing import read_champion
from imbalance_jobs.storage import ObjectStore
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import BASE_CONFIG, REPO, RUN_DATE, merge, seed, write_yaml
from tests.faults import racer
from tests.faults.conftest import assert_store_consistent, published_state
from tests.faults.test_fault_storage import DATE, FAULT

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def published(s3_server, store, tmp_path_factory) -> dict[str, Any]:
    """One pipeline run to a champion, shared by the bad-input cases (none of them writes to it)."""
    folder = tmp_path_factory.mktemp("published")
    suffix = uuid.uuid4().hex[:8]
    buckets = {"source": {"bucket": f"psrc-{suffix}"}, "artifacts": {"bucket": f"part-{suffix}"}}
    for spec in buckets.values():
        store.ensure_bucket(spec["bucket"])
    path = write_yaml(folder / "fraud_test.yaml", merge(merge(BASE_CONFIG, FAULT), buckets))
    config = load_config(path)
    seed(store, config)
    ctx = RunContext(config=config, run_id="base", run_date=RUN_DATE, store=store, options=RunOptions())
    pipeline.run_pipeline(ctx)
    test_rows = store.get_frame(pipeline.load_summary(ctx, "split")["test_uri"])
    return {"path": path, "config": config, "rows": test_rows.head(20), "folder": folder}


@pytest.fixture
def cli_env(published, s3_server, monkeypatch) -> dict[str, str]:
    env = {
        "IMBALANCE_S3_ENDPOINT_URL": s3_server.endpoint_url,
        "AWS_ACCESS_KEY_ID": s3_server.settings.access_key_id,
        "AWS_SECRET_ACCESS_KEY": s3_server.settings.secret_access_key,
        "IMBALANCE_CONFIGS_DIR": str(published["folder"]),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode()


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _with(rows: pd.DataFrame, col: str, at: int, value: object) -> pd.DataFrame:
    out = rows.copy()
    out[col] = out[col].astype(object)
    out.loc[out.index[at], col] = value
    return out


# name -> (file suffix, bytes from the published test rows, expected exit, stderr pattern)
BAD_INPUTS: dict[str, tuple[str, Any, int, str]] = {
    "text_in_numeric": (".csv", lambda r: _csv(_with(r, "f0", 2, "abc")), 1,
                        r"numeric feature 'f0' has 1 value\(s\) that are not numbers \(rows 3: \['abc'\]\)"),
    "inf_in_numeric": (".parquet", lambda r: _parquet(_with(r, "amount", 4, np.inf).astype({"amount": float})), 1,
                       r"numeric feature 'amount' has 1 infinite value\(s\) \(rows 5\)"),
    "minus_inf_csv": (".csv", lambda r: _csv(_with(r, "f1", 0, "-inf")), 1, r"'f1' has 1 infinite value\(s\) \(rows 1\)"),
    "ints_in_categorical": (".parquet", lambda r: _parquet(r.assign(channel=np.arange(len(r)) % 3)), 0,
                            r"note: .*column 'channel': \d+ non-text category value\(s\) matched as text"),
    "all_features_missing_row": (".parquet", lambda r: _parquet(_blank_row(r, 3)), 0,
                                 r"note: .*1 row\(s\) have every feature missing \(rows 4\)"),
    "zero_rows_parquet": (".parquet", lambda r: _parquet(r.head(0)), 1, r"no data rows \(a header only\?\)"),
    "header_only_csv": (".csv", lambda r: _csv(r.head(0)), 1, r"no data rows"),
    "empty_csv": (".csv", lambda r: b"", 1, r"the file is empty; nothing to score"),
    "csv_bytes_as_parquet": (".parquet", lambda r: _csv(r), 1, r"cannot read input file as parquet"),
    "garbage_parquet": (".parquet", lambda r: b"PAR1\x00\x01garbage", 1, r"cannot read input file as parquet"),
    "missing_feature": (".csv", lambda r: _csv(r.drop(columns=["f2"])), 1, r"missing feature column\(s\) \['f2'\]"),
    "semicolon_csv": (".csv", lambda r: r.to_csv(index=False, sep=";").encode(), 1, r"missing feature column\(s\)"),
}  # fmt: skip


def _blank_row(rows: pd.DataFrame, at: int) -> pd.DataFrame:
    out = rows.copy()
    feats = [c for c in out.columns if c.startswith("f") or c in ("amount", "merchant_category", "channel")]
    for col in feats:
        out[col] = out[col].astype(object) if out[col].dtype == object or str(out[col].dtype) == "str" else out[col]
        out.loc[out.index[at], col] = None
    return out


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_predict_bad_input_is_refused_by_name_or_scored_by_rule(case, published, cli_env, tmp_path, capsys,
                                                                tally) -> None:  # fmt: skip
    suffix, build, expected, pattern = BAD_INPUTS[case]
    path = tmp_path / f"input{suffix}"
    path.write_bytes(build(published["rows"]))
    out = tmp_path / "scored.csv"
    tally["bad_inputs_tried"] += 1
    code = main(["predict", str(published["path"]), str(path), "--output", str(out)])
    err = capsys.readouterr().err
    tally["tracebacks"] += "Traceback" in err
    assert "Traceback" not in err
    assert code == expected, err
    assert re.search(pattern, err), err
    if expected == 0:
        assert len(pd.read_csv(out)) == len(published["rows"])
    else:
        assert str(path) in err
        tally["bad_inputs_refused"] += 1


def test_predict_into_a_closed_pipe_ends_quietly(published, cli_env, tmp_path, tally) -> None:
    rows = pd.concat([published["rows"]] * 200, ignore_index=True)
    path = tmp_path / "many.parquet"
    rows.to_parquet(path, index=False)
    command = Path(sys.executable).parent / "imbalance-jobs"
    cmd = f"{command} predict {published['path']} {path} | head -n 2"
    env = {**os.environ, **cli_env}
    done = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=120)  # fmt: skip
    tally["bad_inputs_tried"] += 1
    tally["tracebacks"] += "Traceback" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2
    assert "output closed by the reader" in done.stderr


def test_models_list_flags_a_tampered_version_and_readers_refuse_incomplete(published, cli_env, store, capsys,
                                                                           tally) -> None:  # fmt: skip
    layout = PipelineLayout(published["config"])
    champion = read_champion(store, layout)
    card = layout.version_uri(champion.version, "model_card.md")
    original = store.get_bytes(card)
    store.put_bytes(card, original + b"\nThis model is great.\n")
    store.put_bytes(layout.version_uri("20990101T000000Z-abcdef", "model.json"), b"{}")
    tally["faults_injected"] += 2
    try:
        assert main(["models", "list", str(published["path"])]) == 0
        out = capsys.readouterr().out
        assert f"{champion.version}" in out
        assert "TAMPERED: model_card.md: content changed since publishing" in out
        assert "20990101T000000Z-abcdef  INCOMPLETE" in out
        for argv in (["models", "show"], ["predict"]):
            extra = [str(published["folder"] / "x.csv")] if argv == ["predict"] else []
            code = main([*argv, str(published["path"]), *extra, "--version", "20990101T000000Z-abcdef"])
            err = capsys.readouterr().err
            assert code == 1
            assert "version 20990101T000000Z-abcdef was never completely published" in err
    finally:
        store.put_bytes(card, original)
        store.delete_prefix(layout.version_prefix("20990101T000000Z-abcdef"))
    tally["faults_survived"] += 2


def _partition(frame: pd.DataFrame) -> bytes:
    return _parquet(frame)


PARTITION_FAULTS: dict[str, tuple[Any, int, str]] = {
    "corrupt": (lambda day: b"PAR1 this is not parquet", 1, r"part-0.parquet: cannot read parquet file"),
    "zero_byte": (lambda day: b"", 1, r"no parquet files in any partition"),
    "csv_named_parquet": (lambda day: _csv(make_frame(SyntheticSpec(rows=50), seed=1, day=day)), 1,
                          r"part-0.parquet: cannot read parquet file"),
    "schema_drift": (lambda day: _partition(_drifted(day)), 5, r"column 'f3' changes type between days"),
}  # fmt: skip


def _drifted(day) -> pd.DataFrame:
    frame = make_frame(SyntheticSpec(rows=400, positive_rate=0.08), seed=3, day=day)
    frame["f3"] = frame["f3"].map(lambda v: f"~{v:.2f}")
    return frame


@pytest.mark.parametrize("case", sorted(PARTITION_FAULTS))
def test_bad_partition_fails_the_run_by_name_and_publishes_nothing(case, cli_env, store, buckets, tmp_path, capsys,
                                                                   tally) -> None:  # fmt: skip
    build, expected, pattern = PARTITION_FAULTS[case]
    overrides = {"source": {"bucket": buckets["source"]}, "artifacts": {"bucket": buckets["artifacts"]}}
    path = write_yaml(tmp_path / "fraud_test.yaml", merge(merge(BASE_CONFIG, FAULT), overrides))
    config = load_config(path)
    if case == "schema_drift":
        seed(store, config, days=2, end=RUN_DATE - pd.Timedelta(days=1).to_pytimedelta())
    data = build(RUN_DATE)
    store.put_bytes(f"s3://{buckets['source']}/fraud/dt={RUN_DATE}/part-0.parquet", data)
    tally["faults_injected"] += 1
    code = main(["run", str(path), *DATE, "--run-id", f"bad-{case}"])
    err = capsys.readouterr().err
    tally["tracebacks"] += "Traceback" in err
    assert "Traceback" not in err
    assert code == expected, err
    assert re.search(pattern, err), err
    assert_store_consistent(store, PipelineLayout(config), {}, tally)
    assert published_state(store, PipelineLayout(config)) == {}
    tally["faults_survived"] += 1


# -- concurrent promotions: 8 processes, 3 rounds -----------------------------------------------------------------
def test_eight_processes_promote_at_once_one_winner_per_round(store, s3_server, make_config, make_context,
                                                              tally) -> None:  # fmt: skip
    config = make_config(**FAULT)
    seed(store, config)
    layout = PipelineLayout(config)
    base = make_context(config, run_id="base", force="promote", force_reason="race")
    for stage in ("ingest", "validate", "split", "train", "select", "evaluate"):
        pipeline.run_stage(base, stage)
    procs = multiprocessing.get_context("forkserver")
    procs.set_forkserver_preload(["tests.faults.racer"])
    for round_no in range(3):
        before = published_state(store, layout)
        champion = read_champion(store, layout)
        run_ids = [f"r{round_no}-{i}" for i in range(8)]
        for run_id in run_ids:
            _clone_run(store, base, run_id, champion)
        with procs.Pool(8) as pool:
            work = [(s3_server.settings, config.model_dump(mode="json"), r, RUN_DATE) for r in run_ids]
            outcomes = pool.map(racer.race, work)
        tally["faults_injected"] += 1
        winners = [o for o in outcomes if not o.startswith("rejected")]
        assert len(winners) == 1, outcomes
        assert all("champion changed from" in o for o in outcomes if o.startswith("rejected"))
        assert read_champion(store, layout).version == winners[0]
        assert_store_consistent(store, layout, before, tally)
        tally["faults_survived"] += 1


def _clone_run(store: ObjectStore, base: RunContext, run_id: str, champion) -> None:
    """A copy of the evaluated run under another run id, judged against the champion of now."""
    src, dst = base.layout.run_prefix(base.run_id), base.layout.run_prefix(run_id)
    for obj in store.list(src):
        store.put_bytes(obj.uri.replace(src, dst), store.get_bytes(obj.uri))
    for name in ("summaries/evaluate.json",):
        summary = store.get_json(dst + name)
        summary["verdict_uri"] = summary["verdict_uri"].replace(src, dst)
        store.put_json(dst + name, summary)
    verdict_uri = store.get_json(dst + "summaries/evaluate.json")["verdict_uri"]
    verdict = store.get_json(verdict_uri)
    verdict["champion"] = {"version": champion.version, "etag": champion.etag, "metrics": {}} if champion else None
    store.put_json(verdict_uri, verdict)
