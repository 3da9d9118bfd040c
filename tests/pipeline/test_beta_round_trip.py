"""The beta round trip: a run on a negative sample reports figures that estimate the unsampled population.

One real run (SeaweedFS, every stage) with ``source.negative_sample: {fraction: 0.1}``. The truth is the same
published model scored on *every* unsampled row of the window whose split part is test (the split is a salted
hash, so the run's own split contract says which rows those are). The run's reported test AP, precision and
Brier must hold the truth inside their bootstrap intervals, recall must be exactly the truth (every positive is
kept), and the shipped probabilities must average to the population's positive rate. The control: the same
sampled rows read without weights or without the prior correction give figures far from the truth.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout, RunContext, RunOptions
from imbalance_jobs.evaluation import average_precision, binary_metrics, reliability_curve
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.ingest import read_snapshot
from imbalance_jobs.labels import encode_labels
from imbalance_jobs.negative_sampling import prior_corrected
from imbalance_jobs.pipeline import RunSummary, run_pipeline
from imbalance_jobs.publishing import read_champion
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.split_contract import SplitSpec, hash_units
from imbalance_jobs.storage import ObjectStore
from tests.conftest import BASE_CONFIG, QUICK, RUN_DATE, merge, seed

pytestmark = pytest.mark.integration

FRACTION = 0.1
ROWS_PER_DAY = 20_000
POSITIVE_RATE = 0.02


@dataclass(frozen=True)
class RoundTrip:
    """The sampled run's report and the truth on every unsampled test row, for the same published model."""

    summary: RunSummary
    beta: float
    verdict: dict[str, Any]
    model: DeployedModel
    model_json: dict[str, Any]
    sampled: pd.DataFrame  # evaluation/scores.parquet of the run
    truth_y: np.ndarray
    truth_raw: np.ndarray
    truth_calibrated: np.ndarray
    full_test_ids: np.ndarray
    card: str

    @property
    def reported(self) -> dict[str, Any]:
        return self.verdict["candidate"]["metrics"]

    @property
    def truth(self) -> dict[str, Any]:
        metrics = binary_metrics(self.truth_y, self.truth_calibrated, threshold=self.model.threshold)
        return {**metrics.to_json_dict(), "average_precision": average_precision(self.truth_y, self.truth_raw)}


@pytest.fixture(scope="module")
def round_trip(store: ObjectStore) -> RoundTrip:
    suffix = uuid.uuid4().hex[:10]
    buckets = {"source": f"src-{suffix}", "artifacts": f"art-{suffix}"}
    for name in buckets.values():
        store.ensure_bucket(name)
    raw = merge(merge(BASE_CONFIG, QUICK), {"source": {"bucket": buckets["source"]}})
    raw = merge(raw, {"artifacts": {"bucket": buckets["artifacts"]}, "evaluation": {"bootstrap_samples": 400}})
    config = PipelineConfig.model_validate(merge(raw, {"source": {"negative_sample": {"fraction": FRACTION}}}))
    seed(store, config, rows=ROWS_PER_DAY, positive_rate=POSITIVE_RATE)
    ctx = RunContext(config=config, run_id="sampled", run_date=RUN_DATE, store=store, options=RunOptions())
    summary = run_pipeline(ctx)
    version = read_champion(store, PipelineLayout(config)).version
    prefix = ctx.layout.version_prefix(version)
    model = DeployedModel.load(store, prefix)
    full, _ = read_snapshot(ctx)  # every row of the window, unsampled
    spec = SplitSpec.model_validate(store.get_json(ctx.staging_uri("split", "spec.json")))
    test = full[hash_units(full, spec) < spec.test_range[1]].reset_index(drop=True)
    raw_scores, calibrated = model.ranking_and_scores(test)
    return RoundTrip(
        summary=summary,
        beta=store.get_json(ctx.staging_uri("ingest", "manifest.json"))["negative_sample"]["beta"],
        verdict=store.get_json(ctx.layout.version_uri(version, "verdict.json")),
        model=model,
        model_json=store.get_json(ctx.layout.version_uri(version, "model.json")),
        sampled=store.get_frame(ctx.staging_uri("evaluation", "scores.parquet")),
        truth_y=encode_labels(test[config.label.column], config.label),
        truth_raw=raw_scores,
        truth_calibrated=calibrated,
        full_test_ids=test[ROW_ID].to_numpy(),
        card=store.get_bytes(ctx.layout.version_uri(version, "model_card.md")).decode(),
    )


def _within(interval: dict[str, float], value: float) -> bool:
    return interval["low"] <= value <= interval["high"]


def test_negative_sample_run_tests_on_a_sample_of_the_unsampled_test_rows(round_trip) -> None:
    sampled, rt = round_trip.sampled, round_trip
    assert 0.08 < rt.beta < 0.12
    assert set(sampled[ROW_ID]) <= set(rt.full_test_ids)
    positives = rt.full_test_ids[rt.truth_y == 1]
    assert set(sampled.loc[sampled["label_code"] == 1, ROW_ID]) == set(positives)  # every positive kept
    assert len(sampled) < 0.2 * len(rt.full_test_ids)
    # Weights make the sample stand for the population: their sum estimates the unsampled test rows.
    assert sampled["weight"].sum() == pytest.approx(len(rt.full_test_ids), rel=0.05)


def test_negative_sample_reported_average_precision_holds_the_truth_in_its_interval(round_trip) -> None:
    reported, truth = round_trip.reported, round_trip.truth
    assert _within(reported["average_precision_ci"], truth["average_precision"])
    assert reported["average_precision"] == pytest.approx(truth["average_precision"], abs=0.05)


def test_negative_sample_reported_precision_holds_the_truth_in_its_interval(round_trip) -> None:
    reported, truth = round_trip.reported, round_trip.truth
    assert _within(reported["precision_ci"], truth["precision"])
    assert reported["precision"] == pytest.approx(truth["precision"], abs=0.06)


def test_negative_sample_reported_recall_is_exactly_the_truth(round_trip) -> None:
    reported, truth = round_trip.reported, round_trip.truth
    assert reported["recall"] == pytest.approx(truth["recall"], rel=1e-12)
    assert reported["positives"] == truth["positives"]


def test_negative_sample_reported_brier_holds_the_truth_in_its_interval(round_trip) -> None:
    reported, truth = round_trip.reported, round_trip.truth
    assert _within(reported["brier_ci"], truth["brier"])
    assert reported["brier"] == pytest.approx(truth["brier"], rel=0.15)


def test_negative_sample_shipped_probabilities_estimate_the_population_rate(round_trip) -> None:
    rt = round_trip
    prevalence = float(rt.truth_y.mean())
    assert float(rt.truth_calibrated.mean()) == pytest.approx(prevalence, rel=0.2)
    sampled = rt.sampled
    weighted_mean = np.average(sampled["candidate_score"], weights=sampled["weight"])
    assert weighted_mean == pytest.approx(float(rt.truth_calibrated.mean()), rel=0.1)
    curve = reliability_curve(rt.truth_y, rt.truth_calibrated, n_bins=5)
    big = np.asarray(curve.weight) >= 200
    assert np.all(np.abs(np.subtract(curve.mean_predicted, curve.observed_rate))[big] < 0.1)


def test_negative_sample_unweighted_figures_would_have_been_wrong(round_trip) -> None:
    """The control: the same sampled rows without weights overstate precision; without the prior correction
    the probabilities overstate the positive rate several times."""
    rt, sampled = round_trip, round_trip.sampled
    truth = rt.truth
    y, scores = sampled["label_code"].to_numpy(), sampled["candidate_score"].to_numpy()
    naive = binary_metrics(y, scores, threshold=rt.model.threshold)
    assert naive.precision > truth["precision"] + 0.15
    assert not _within(rt.reported["precision_ci"], naive.precision)
    assert naive.brier > 2 * truth["brier"]
    uncorrected = sampled["raw_candidate_score"].to_numpy()
    assert np.average(uncorrected, weights=sampled["weight"]) > 3 * rt.truth_y.mean()


def test_negative_sample_beta_is_stored_in_the_published_calibrator(round_trip) -> None:
    rt = round_trip
    params = rt.model_json["calibration"]["params"]
    assert params["sample_beta"] == pytest.approx(rt.beta, rel=1e-12)
    expected = prior_corrected(
        rt.model.calibrator().model_copy(update={"sample_beta": None}).apply(rt.truth_raw), rt.beta
    )
    np.testing.assert_allclose(rt.truth_calibrated, expected, rtol=1e-12)


def test_negative_sample_verdict_card_and_cli_say_figures_are_population_estimates(round_trip) -> None:
    from imbalance_jobs.cli._run import render_run

    rt = round_trip
    assert rt.verdict["population"]["sample_beta"] == pytest.approx(rt.beta)
    assert "population estimates" in rt.verdict["summary"]
    assert f"beta={rt.beta:.4g}" in rt.verdict["population"]["note"]
    assert "population estimates" in rt.summary.stages["select"]["calibration"]["population"]
    assert "population estimates" in render_run(rt.summary)
    assert "Negative sampling at ingest" in rt.card
    assert f"beta={rt.beta:.4g}" in rt.card
