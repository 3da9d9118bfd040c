"""Evaluate stage: score the candidate and the current champion on the same untouched test rows, then gate.

Stored metrics are never compared: the champion is loaded from its published version and re-scored here, in
this run, on exactly the rows the candidate is scored on (``evaluation/scores.parquet`` records them). Those rows
are today's test rows that the champion can never have seen, by its own split contract
(:mod:`imbalance_jobs.split_contract`); the verdict's ``comparison`` says which rows and why.

When ingest kept only a share ``beta`` of the negatives, every figure here (point values, bootstrap intervals,
the paired AP gain, plots) weights each kept negative ``1 / beta``: they estimate the unsampled population, and
the verdict says so (``population``). ``evaluation/scores.parquet`` then carries each row's ``weight``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.labels import encode_labels, positive_code
from imbalance_jobs.population import population_note, row_weights, run_beta
from imbalance_jobs.promotion import GateInputs, ModelFigures, Verdict, decide
from imbalance_jobs.publishing import Champion, read_champion
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.selection import SelectionSummary
from imbalance_jobs.split_contract import ComparedRows, SplitSpec, unseen_rows
from imbalance_jobs.summary import Summary

__all__ = ["EvaluationSummary", "evaluate"]

PLOTS = ("pr_curve.png", "roc_curve.png", "calibration.png", "score_hist.png")


class EvaluationSummary(Summary):
    decision: str
    summary: str
    verdict_uri: str
    candidate: str
    champion_version: str | None
    test_rows: int
    test_positives: int
    candidate_ap: float | None
    champion_ap: float | None
    compared_rows: int
    compare_rule: str


@dataclass(frozen=True)
class _Scored:
    """One model on every test row: ranking scores for AP/ROC, calibrated scores for decisions."""

    model: DeployedModel
    ranking: np.ndarray
    scores: np.ndarray


def evaluate(ctx: RunContext, selection: SelectionSummary, test_uri: str) -> EvaluationSummary:
    """Stage: both models on the test rows the champion never saw, paired bootstrap of the AP gain, gate, verdict."""
    config = ctx.config
    frame = ctx.store.get_frame(test_uri)
    y = encode_labels(frame[config.label.column], config.label, source=test_uri)
    watched = positive_code(config.label)
    today = SplitSpec.model_validate(ctx.store.get_json(ctx.staging_uri("split", "spec.json")))
    champion = read_champion(ctx.store, ctx.layout)
    compared = _compared_rows(ctx, champion, today, frame)
    scored = {"candidate": _score(DeployedModel.load(ctx.store, selection.bundle_prefix), frame)}
    if champion is not None and compared.mask is not None:
        scored["champion"] = _score(DeployedModel.load(ctx.store, ctx.layout.version_prefix(champion.version)), frame)
    rows = compared.mask if compared.mask is not None else np.ones(len(frame), dtype=bool)
    y_pos = y[rows] == watched
    beta = run_beta(ctx)
    weights = row_weights(config, y, beta)
    w = weights[rows] if weights is not None else None
    ranking = {k: _watched(m.ranking[rows], watched) for k, m in scored.items()}
    metrics = {k: _metrics(config, m, y[rows], m.scores[rows], m.ranking[rows], w) for k, m in scored.items()}
    _add_cis(config, metrics["candidate"], scored["candidate"], y_pos, rows, watched, w)
    paired = _paired(config, y_pos, ranking, w)
    inputs = GateInputs(
        candidate=_figures(metrics["candidate"]),
        champion=_figures(metrics["champion"]) if "champion" in metrics else None,
        test_positives=0 if compared.rule == "unverifiable" else int(y_pos.sum()),
        ap_delta=paired["delta"] if paired else None,
        ap_delta_ci=(paired["ci_low"], paired["ci_high"]) if paired else None,
        champion_version=champion.version if champion else None,
        evidence=compared.reason if champion else "",
    )
    verdict = decide(config.gate, inputs, force=ctx.options.force, force_reason=ctx.options.force_reason)
    if weights is not None:
        verdict = verdict.model_copy(update={"summary": f"{verdict.summary}; {population_note(beta)}"})
    _write_scores(ctx, frame, y, scored, rows, weights)
    calibrated = {k: _watched(m.scores[rows], watched) for k, m in scored.items()}
    _write_plots(ctx, y_pos, ranking, calibrated, scored, w)
    body = _verdict_body(ctx, selection, champion, metrics, paired, verdict, frame)
    if weights is not None:
        body["population"] = {"sample_beta": beta, "note": population_note(beta)}
    body["comparison"] = _comparison(compared, frame, rows, int(y_pos.sum()))
    body["split"] = {"spec": today.to_json_dict(), "warnings": today.warnings}
    body["warnings"] = today.warnings
    verdict_uri = ctx.staging_uri("verdict.json")
    ctx.store.put_json(verdict_uri, body)
    return EvaluationSummary(
        decision=verdict.decision,
        summary=verdict.summary,
        verdict_uri=verdict_uri,
        candidate=selection.candidate,
        champion_version=champion.version if champion else None,
        test_rows=len(frame),
        test_positives=int(y_pos.sum()),
        candidate_ap=inputs.candidate.average_precision,
        champion_ap=inputs.champion.average_precision if inputs.champion else None,
        compared_rows=body["comparison"]["rows"],
        compare_rule=compared.rule,
    )


def _compared_rows(ctx: RunContext, champion: Champion | None, today: SplitSpec, frame: Any) -> ComparedRows:
    """Which test rows the gate compares on: all without a champion, else those the champion never saw."""
    if champion is None:
        return ComparedRows(mask=None, rule="no_champion", reason="no champion yet: every test row is used")
    uri = ctx.layout.version_uri(champion.version, "split_spec.json")
    spec = SplitSpec.model_validate(ctx.store.get_json(uri)) if ctx.store.exists(uri) else None
    return unseen_rows(spec, today, frame, version=champion.version)


def _score(model: DeployedModel, frame: Any) -> _Scored:
    ranking, scores = model.ranking_and_scores(frame)
    return _Scored(model=model, ranking=ranking, scores=scores)


def _watched(values: np.ndarray, watched: int) -> np.ndarray:
    return values if values.ndim == 1 else values[:, watched]


def _metrics(
    config: PipelineConfig,
    model: _Scored,
    y: np.ndarray,
    scores: np.ndarray,
    ranking: np.ndarray,
    weights: np.ndarray | None = None,
) -> dict[str, Any]:
    """Threshold and probability figures from the calibrated scores; ranking figures from the raw ones.

    ``weights``: population weights of a negative sample (binary only), applied to every figure.
    """
    from imbalance_jobs.evaluation import binary_metrics, multiclass_metrics

    ev, deployed = config.evaluation, model.model
    if scores.ndim > 1:
        names = deployed.description["label"]["class_names"]
        return multiclass_metrics(y, scores, class_names=names, watched=positive_code(config.label)).to_json_dict()
    targets = {
        "recall_targets": ev.recall_targets,
        "precision_targets": ev.precision_targets,
        "sample_weight": weights,
    }
    result = binary_metrics(y, scores, threshold=deployed.threshold, **targets).to_json_dict()
    ranked = binary_metrics(y, ranking, threshold=deployed.threshold, **targets).to_json_dict()
    result.update({k: ranked[k] for k in _RANKING_METRICS})
    result["ranking_scores"] = "uncalibrated model scores"
    return result


_RANKING_METRICS = ("average_precision", "roc_auc", "precision_at_recall", "recall_at_precision")


def _add_cis(
    config: PipelineConfig,
    metrics: dict[str, Any],
    model: _Scored,
    y_pos: np.ndarray,
    rows: np.ndarray,
    watched: int,
    weights: np.ndarray | None = None,
) -> None:
    """The candidate's AP, recall, precision (and binary Brier) with bootstrap intervals, weighted like the
    points: the gate's first model and monitoring read them."""
    from imbalance_jobs.evaluation import bootstrap_cis

    y_int = y_pos.astype(np.int64)
    decision, threshold = model.model.operating_point(model.scores[rows], watched)
    requests = {
        "average_precision_ci": ("average_precision", _watched(model.ranking[rows], watched), None),
        "recall_ci": ("recall", decision, threshold),
        "precision_ci": ("precision", decision, threshold),
    }
    if model.model.binary:
        requests["brier_ci"] = ("brier", model.scores[rows], None)
    found = bootstrap_cis(  # one draw of resamples for all four: the same intervals as four separate calls
        y_int,
        list(requests.values()),
        n_resamples=config.evaluation.bootstrap_samples,
        confidence=config.evaluation.confidence,
        seed=config.seed,
        sample_weight=weights,
    )
    cis = dict(zip(requests, found, strict=True))
    for name, ci in cis.items():
        metrics[name] = {"low": ci.low, "high": ci.high, "confidence": ci.confidence}


def _figures(metrics: dict[str, Any]) -> ModelFigures:
    if "watched_recall" in metrics:  # multi-class
        return ModelFigures(
            average_precision=metrics.get("watched_average_precision"), recall=metrics["watched_recall"]
        )
    return ModelFigures(average_precision=metrics["average_precision"], recall=metrics["recall"])


def _paired(
    config: PipelineConfig, y_pos: np.ndarray, scores: dict[str, np.ndarray], weights: np.ndarray | None = None
) -> dict[str, Any] | None:
    if "champion" not in scores or y_pos.all() or not y_pos.any():
        return None
    from imbalance_jobs.evaluation import paired_bootstrap

    result = paired_bootstrap(
        y_pos.astype(np.int64),
        scores["champion"],
        scores["candidate"],
        metric="average_precision",
        n_resamples=config.evaluation.bootstrap_samples,
        confidence=config.evaluation.confidence,
        seed=config.seed,
        sample_weight=weights,
    )
    return result.to_json_dict()


def _comparison(compared: ComparedRows, frame: Any, rows: np.ndarray, positives: int) -> dict[str, Any]:
    """The verdict's account of the compared rows (none when the champion could not be compared)."""
    if compared.rule == "unverifiable":
        rows, positives = np.zeros(len(frame), dtype=bool), 0
    ids = np.ascontiguousarray(frame[ROW_ID].to_numpy(np.int64)[rows])
    return {
        "rule": compared.rule,
        "reason": compared.reason,
        "rows": int(rows.sum()),
        "positives": positives,
        "test_rows": len(frame),
        "row_ids_sha256": hashlib.sha256(ids.tobytes()).hexdigest(),
    }


def _write_scores(
    ctx: RunContext,
    frame: Any,
    y: np.ndarray,
    scored: dict[str, _Scored],
    compared: np.ndarray,
    weights: np.ndarray | None = None,
) -> None:
    """Every test row with each model's scores, whether the gate compared on it (``compared``) and, under
    negative sampling, the population rows it stands for (``weight``)."""
    import pandas as pd

    out = pd.DataFrame({ROW_ID: frame[ROW_ID].to_numpy(), "label_code": y, "compared": compared})
    if weights is not None:
        out["weight"] = weights
    for name, model in scored.items():
        if model.scores.ndim == 1:
            out[f"{name}_score"] = model.scores
            out[f"raw_{name}_score"] = model.ranking
        else:
            for k in range(model.scores.shape[1]):
                out[f"{name}_proba_{k}"] = model.scores[:, k]
    ctx.store.put_frame(ctx.staging_uri("evaluation", "scores.parquet"), out)


def _write_plots(
    ctx: RunContext,
    y_pos: np.ndarray,
    ranking: dict[str, np.ndarray],
    scores: dict[str, np.ndarray],
    models: dict[str, _Scored],
    weights: np.ndarray | None = None,
) -> None:
    """PR and ROC curves from the ranking scores (the gate's AP); calibration and histogram from decisions.

    Curves and reliability bins are weighted like the figures (the histogram is per class, where weights are
    constant, so it needs none)."""
    from imbalance_jobs.evaluation import plot_calibration, plot_pr_curves, plot_roc_curves, plot_score_histograms

    y_int = y_pos.astype(np.int64)
    curves = {name: (y_int, s) for name, s in ranking.items()}
    calibrated = {name: (y_int, s) for name, s in scores.items()}
    threshold = models["candidate"].model.threshold
    threshold = threshold if threshold is not None else 0.5
    name = ctx.config.name
    images = {
        "pr_curve.png": plot_pr_curves(curves, title=f"{name}: precision-recall on test rows", sample_weight=weights),
        "roc_curve.png": plot_roc_curves(curves, title=f"{name}: ROC on test rows", sample_weight=weights),
        "calibration.png": plot_calibration(calibrated, sample_weight=weights),
        "score_hist.png": plot_score_histograms(y_int, scores["candidate"], threshold=threshold, title="candidate"),
    }
    for name, png in images.items():
        ctx.store.put_bytes(ctx.staging_uri("evaluation", name), png, content_type="image/png")


def _verdict_body(
    ctx: RunContext,
    selection: SelectionSummary,
    champion: Champion | None,
    metrics: dict[str, Any],
    paired: dict[str, Any] | None,
    verdict: Verdict,
    frame: Any,
) -> dict[str, Any]:
    import datetime as dt

    rows_sha = hashlib.sha256(np.ascontiguousarray(frame[ROW_ID].to_numpy(np.int64)).tobytes()).hexdigest()
    return {
        "pipeline": ctx.config.name,
        "run_id": ctx.run_id,
        "run_date": ctx.run_date.isoformat(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "dry_run": ctx.options.dry_run,
        "triggered_by": ctx.options.triggered_by,
        "candidate": {"name": selection.candidate, "metrics": metrics["candidate"], "bundle": selection.bundle_prefix},
        "champion": (
            {"version": champion.version, "etag": champion.etag, "metrics": metrics.get("champion")}
            if champion
            else None
        ),
        "ap_gain": paired,
        "test_rows": {"count": len(frame), "row_ids_sha256": rows_sha},
        "leaderboard": selection.leaderboard,
        **verdict.to_json_dict(),
    }
