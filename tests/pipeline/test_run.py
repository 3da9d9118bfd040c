"""Whole runs against the real local S3 server: verdict paths, what gets published, and what never changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import CandidateError, DataValidationError, IngestError, ModelArtifactError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.pipeline import run_pipeline
from imbalance_jobs.publishing import list_history, list_versions, read_champion
from imbalance_jobs.storage import ObjectStore
from tests.conftest import RUN_DATE, seed

pytestmark = pytest.mark.integration

VERSION_FILES = {
    "model.json",
    "metrics.json",
    "verdict.json",
    "model_card.md",
    "pr_curve.png",
    "roc_curve.png",
    "calibration.png",
    "score_hist.png",
    "validation/report.json",
    "validation/report.html",
    "config.json",
    "config.yaml",
    "snapshot.json",
    "split_spec.json",
    "probe.parquet",
    "probe_scores.json",
    "_COMPLETE.json",
}


def published_state(store: ObjectStore, layout: PipelineLayout) -> dict[str, bytes]:
    """Every published byte: champion pointer, versions, history (not staging, monitoring records or alert state)."""
    listed = store.list(layout.root + "/")
    return {o.uri: store.get_bytes(o.uri) for o in listed if o.uri.startswith(layout.published_prefixes)}


def test_first_run_promotes_and_publishes_a_complete_version(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config)
    summary = run(config, "first")
    layout = PipelineLayout(config)
    champion = read_champion(store, layout)
    assert summary.decision == "promote"
    assert champion is not None
    assert champion.version == summary.stages["publish"]["version"]
    names = {
        o.uri.removeprefix(layout.version_prefix(champion.version))
        for o in store.list(layout.version_prefix(champion.version))
    }
    assert names >= VERSION_FILES
    assert any(n.startswith("model/") for n in names)
    verdict = store.get_json(layout.version_uri(champion.version, "verdict.json"))
    assert verdict["champion"] is None
    metrics = verdict["candidate"]["metrics"]
    assert (
        metrics["average_precision_ci"]["low"]
        <= metrics["average_precision"]
        <= metrics["average_precision_ci"]["high"]
    )
    assert metrics["recall_ci"]["low"] <= metrics["recall"] <= metrics["recall_ci"]["high"]
    assert {r["name"]: r["passed"] for r in verdict["rules"]}["ap_gain"] is None
    history = list_history(store, layout)
    assert [(h["action"], h["previous"], h["version"]) for h in history] == [("promote", None, champion.version)]


def test_rerun_on_same_data_is_a_tie_and_keeps_champion(store, quick_config, run) -> None:
    config = quick_config(gate={"min_ap_gain": -0.05})
    seed(store, config)
    first = run(config, "first")
    second = run(config, "second")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    assert second.decision == "reject"
    assert verdict["reasons"][0].startswith("tie")
    assert verdict["ap_gain"]["delta"] == 0.0
    assert read_champion(store, PipelineLayout(config)).version == first.stages["publish"]["version"]


def test_champion_and_candidate_scored_on_identical_test_rows(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config, days=4)
    run(config, "first", run_date=RUN_DATE - dt.timedelta(days=1))
    second = run(config, "second")
    scores = store.get_frame(
        second.stages["evaluate"]["verdict_uri"].replace("verdict.json", "evaluation/scores.parquet")
    )
    test = store.get_frame(second.stages["split"]["test_uri"])
    assert scores[ROW_ID].tolist() == test[ROW_ID].tolist()
    assert scores["candidate_score"].notna().all()
    assert scores["champion_score"].notna().all()
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    assert verdict["champion"]["metrics"]["positives"] == verdict["candidate"]["metrics"]["positives"]
    assert verdict["test_rows"]["count"] == len(test)


@pytest.mark.parametrize("calibrate_on", ["oof", "validation"])
def test_select_never_reads_test_rows(store, quick_config, make_context, monkeypatch, calibrate_on) -> None:
    config = quick_config(training={"calibrate_on": calibrate_on})
    seed(store, config)
    ctx = make_context(config, run_id="spy")
    read: list[str] = []
    original = ObjectStore.get_frame

    def spy(self, uri, columns=None):
        read.append(uri)
        return original(self, uri, columns)

    from imbalance_jobs import pipeline

    for stage in ("ingest", "validate", "split", "train"):
        pipeline.run_stage(ctx, stage)
    monkeypatch.setattr(ObjectStore, "get_frame", spy)
    selection = pipeline.run_stage(ctx, "select")
    split = pipeline.load_summary(ctx, "split")
    (trained,) = pipeline.load_summary(ctx, "train")
    if calibrate_on == "oof":  # cross-fitting: every non-test row is fit on, and calibrated on out of fold
        assert read == [trained["oof_uri"]]
        non_test = split_rows(split, "train") + split_rows(split, "validation")
        assert selection.fit_rows == trained["fit_rows"] == non_test
        assert selection.validation_rows == non_test
        assert selection.calibrated_on.startswith("out-of-fold predictions (stratified 3-fold")
    else:
        assert read == [split["validation_uri"]]
        assert selection.fit_rows == split_rows(split, "train")
        assert selection.validation_rows == split_rows(split, "validation")


def split_rows(split: dict, part: str) -> int:
    return sum(split["counts"][part].values())


def test_threshold_and_calibration_are_unchanged_by_test_labels(store, quick_config, make_context) -> None:
    """Flip every test label after selection: evaluation changes, the fitted threshold/calibration do not."""
    config = quick_config()
    seed(store, config)
    ctx = make_context(config, run_id="flip")
    from imbalance_jobs import pipeline

    for stage in ("ingest", "validate", "split", "train", "select"):
        pipeline.run_stage(ctx, stage)
    before = store.get_json(ctx.staging_uri("selection", "model.json"))
    test_uri = pipeline.load_summary(ctx, "split")["test_uri"]
    test = store.get_frame(test_uri)
    test["is_fraud"] = 1 - test["is_fraud"]
    store.put_frame(test_uri, test)
    pipeline.run_stage(ctx, "evaluate")
    after = store.get_json(ctx.staging_uri("selection", "model.json"))
    assert (before["threshold"], before["calibration"]) == (after["threshold"], after["calibration"])


def test_too_few_test_positives_is_insufficient_evidence(store, quick_config, run) -> None:
    config = quick_config(gate={"min_test_positives": 10_000})
    seed(store, config)
    summary = run(config, "first")
    assert summary.decision == "insufficient_evidence"
    assert summary.stages["publish"]["published"] is False
    assert read_champion(store, PipelineLayout(config)) is None


def test_margin_fail_keeps_champion(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config, days=4)
    first = run(config, "first", run_date=RUN_DATE - dt.timedelta(days=1))
    strict = quick_config(gate={"min_ap_gain": 0.5})
    second = run(strict, "second")
    verdict = store.get_json(second.stages["evaluate"]["verdict_uri"])
    assert second.decision == "reject"
    assert verdict["reasons"][0].startswith("ap_gain")
    assert read_champion(store, PipelineLayout(config)).version == first.stages["publish"]["version"]


def test_recall_floor_fail_rejects_first_candidate(store, quick_config, run) -> None:
    config = quick_config(
        gate={"min_recall": 1.0}, threshold={"objective": "max_precision_at_recall", "min_recall": 0.2}
    )
    seed(store, config)
    summary = run(config, "first")
    verdict = store.get_json(summary.stages["evaluate"]["verdict_uri"])
    assert summary.decision == "reject"
    assert any(r.startswith("min_recall") for r in verdict["reasons"])
    assert read_champion(store, PipelineLayout(config)) is None


def test_force_promote_with_reason_is_recorded(store, quick_config, run) -> None:
    config = quick_config(gate={"min_test_positives": 10_000})
    seed(store, config)
    summary = run(config, "forced", force="promote", force_reason="incident 7: old model broken")
    layout = PipelineLayout(config)
    verdict = store.get_json(summary.stages["evaluate"]["verdict_uri"])
    assert summary.decision == "promote"
    assert verdict["forced"] is True
    assert verdict["force_reason"] == "incident 7: old model broken"
    assert "forced promote by operator: incident 7" in list_history(store, layout)[0]["reason"]


def test_dry_run_publishes_nothing(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config)
    summary = run(config, "dry", dry_run=True)
    layout = PipelineLayout(config)
    assert summary.decision == "promote"
    assert summary.stages["publish"]["note"] == "dry run: nothing published"
    assert published_state(store, layout) == {}


@pytest.mark.parametrize("failure", ["no_partitions", "validation", "all_candidates_fail", "tampered_champion"])
def test_failed_run_leaves_published_state_byte_for_byte(store, quick_config, run, failure) -> None:
    config = quick_config()
    seed(store, config, days=5)
    run(config, "first", run_date=RUN_DATE - dt.timedelta(days=1))
    layout = PipelineLayout(config)
    before = published_state(store, layout)
    bad_config, run_date, expected = config, RUN_DATE, ModelArtifactError
    if failure == "no_partitions":
        run_date, expected = RUN_DATE + dt.timedelta(days=30), IngestError
    elif failure == "validation":
        bad_config, expected = quick_config(validation={"min_rows": 10**7}), DataValidationError
    elif failure == "all_candidates_fail":
        expected = CandidateError
        bad_config = quick_config(
            training={"candidates": [{"name": "bad", "imbalance": "smote", "imbalance_params": {"k_neighbors": 10**6}}]}
        )
    else:
        champion = read_champion(store, layout)
        model_files = [
            o for o in store.list(layout.version_prefix(champion.version) + "model/") if o.uri.endswith(".skops")
        ]
        store.put_bytes(model_files[0].uri, store.get_bytes(model_files[0].uri) + b"x")
        before = published_state(store, layout)
    with pytest.raises(expected):
        run(bad_config, f"fail-{failure}", run_date=run_date)
    assert published_state(store, layout) == before


def test_versions_listed_with_champion(store, quick_config, run) -> None:
    config = quick_config()
    seed(store, config)
    run(config, "first")
    versions = list_versions(store, PipelineLayout(config))
    assert len(versions) == 1
    assert versions[0]["decision"] == "promote"
    assert set(versions[0]["files"]) >= VERSION_FILES - {"_COMPLETE.json"}


def test_same_inputs_and_seed_give_same_verdict_figures(store, quick_config, make_context) -> None:
    config = quick_config()
    seed(store, config)
    a = run_pipeline(make_context(config, run_id="a", dry_run=True))
    b = run_pipeline(make_context(config, run_id="b", dry_run=True))
    va = store.get_json(a.stages["evaluate"]["verdict_uri"])
    vb = store.get_json(b.stages["evaluate"]["verdict_uri"])
    assert va["candidate"]["metrics"] == vb["candidate"]["metrics"]
    assert [r["cv_scores"] for r in a.stages["train"]] == [r["cv_scores"] for r in b.stages["train"]]
    assert np.isfinite(va["candidate"]["metrics"]["average_precision"])


def test_gate_ap_is_computed_on_uncalibrated_scores(store, quick_config, run) -> None:
    """An isotonic calibrator ties rows the model had ordered; the gate's AP must not see those ties."""
    from imbalance_jobs.evaluation import average_precision

    config = quick_config(calibration={"method": "isotonic"})
    seed(store, config)
    summary = run(config, "isotonic", dry_run=True)
    verdict = store.get_json(summary.stages["evaluate"]["verdict_uri"])
    scores = store.get_frame(
        summary.stages["evaluate"]["verdict_uri"].replace("verdict.json", "evaluation/scores.parquet")
    )
    raw = average_precision(scores["label_code"], scores["raw_candidate_score"])
    calibrated = average_precision(scores["label_code"], scores["candidate_score"])
    assert scores["candidate_score"].nunique() < scores["raw_candidate_score"].nunique()  # isotonic tied rows
    assert verdict["candidate"]["metrics"]["average_precision"] == pytest.approx(raw)
    assert raw != pytest.approx(calibrated)
