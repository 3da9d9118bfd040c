"""Evaluate stage: score the candidate and the current champion on the same untouched test rows, then gate.

Stored metrics are never compared: the champion is loaded from its published version and re-scored here, in
this run, on exactly the rows the candidate is scored on (``evaluation/scores.parquet`` records them).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.labels import encode_labels, positive_code
from imbalance_jobs.promotion import GateInputs, ModelFigures, Verdict, decide
from imbalance_jobs.publishing import Champion, read_champion
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.selection import SelectionSummary
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


def evaluate(ctx: RunContext, selection: SelectionSummary, test_uri: str) -> EvaluationSummary:
    """Stage: metrics for both models on the test rows, paired bootstrap of the AP gain, gate, verdict.json."""
    config = ctx.config
    frame = ctx.store.get_frame(test_uri)
    y = encode_labels(frame[config.label.column], config.label, source=test_uri)
    watched = positive_code(config.label)
    candidate = DeployedModel.load(ctx.store, selection.bundle_prefix)
    champion = read_champion(ctx.store, ctx.layout)
    champ_model = DeployedModel.load(ctx.store, ctx.layout.version_prefix(champion.version)) if champion else None
    scored = {"candidate": candidate.scores(frame)}
    if champ_model is not None:
        scored["champion"] = champ_model.scores(frame)
    models = {"candidate": candidate, "champion": champ_model}
    metrics = {k: _metrics(config, models[k], y, s) for k, s in scored.items()}
    gate_scores = {k: (s if s.ndim == 1 else s[:, watched]) for k, s in scored.items()}
    paired = _paired(config, y == watched, gate_scores)
    inputs = GateInputs(
        candidate=_figures(metrics["candidate"]),
        champion=_figures(metrics["champion"]) if "champion" in metrics else None,
        test_positives=int(np.sum(y == watched)),
        ap_delta=paired["delta"] if paired else None,
        ap_delta_ci=(paired["ci_low"], paired["ci_high"]) if paired else None,
    )
    verdict = decide(config.gate, inputs, force=ctx.options.force, force_reason=ctx.options.force_reason)
    _write_scores(ctx, frame, y, scored)
    _write_plots(ctx, y == watched, gate_scores, candidate)
    body = _verdict_body(ctx, selection, champion, metrics, paired, verdict, frame)
    verdict_uri = ctx.staging_uri("verdict.json")
    ctx.store.put_json(verdict_uri, body)
    return EvaluationSummary(
        decision=verdict.decision,
        summary=verdict.summary,
        verdict_uri=verdict_uri,
        candidate=selection.candidate,
        champion_version=champion.version if champion else None,
        test_rows=len(frame),
        test_positives=inputs.test_positives,
        candidate_ap=inputs.candidate.average_precision,
        champion_ap=inputs.champion.average_precision if inputs.champion else None,
    )


def _metrics(config: PipelineConfig, model: DeployedModel, y: np.ndarray, scores: np.ndarray) -> dict[str, Any]:
    from imbalance_jobs.evaluation import binary_metrics, multiclass_metrics

    ev = config.evaluation
    if scores.ndim == 1:
        result = binary_metrics(
            y,
            scores,
            threshold=model.threshold,
            recall_targets=ev.recall_targets,
            precision_targets=ev.precision_targets,
        )
    else:
        names = model.description["label"]["class_names"]
        result = multiclass_metrics(y, scores, class_names=names, watched=positive_code(config.label))
    return result.to_json_dict()


def _figures(metrics: dict[str, Any]) -> ModelFigures:
    if "watched_recall" in metrics:  # multi-class
        return ModelFigures(
            average_precision=metrics.get("watched_average_precision"), recall=metrics["watched_recall"]
        )
    return ModelFigures(average_precision=metrics["average_precision"], recall=metrics["recall"])


def _paired(config: PipelineConfig, y_pos: np.ndarray, scores: dict[str, np.ndarray]) -> dict[str, Any] | None:
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
    )
    return result.to_json_dict()


def _write_scores(ctx: RunContext, frame: Any, y: np.ndarray, scored: dict[str, np.ndarray]) -> None:
    import pandas as pd

    out = pd.DataFrame({ROW_ID: frame[ROW_ID].to_numpy(), "label_code": y})
    for name, scores in scored.items():
        if scores.ndim == 1:
            out[f"{name}_score"] = scores
        else:
            for k in range(scores.shape[1]):
                out[f"{name}_proba_{k}"] = scores[:, k]
    ctx.store.put_frame(ctx.staging_uri("evaluation", "scores.parquet"), out)


def _write_plots(ctx: RunContext, y_pos: np.ndarray, scores: dict[str, np.ndarray], candidate: DeployedModel) -> None:
    from imbalance_jobs.evaluation import plot_calibration, plot_pr_curves, plot_roc_curves, plot_score_histograms

    y_int = y_pos.astype(np.int64)
    curves = {name: (y_int, s) for name, s in scores.items()}
    threshold = candidate.threshold if candidate.threshold is not None else 0.5
    images = {
        "pr_curve.png": plot_pr_curves(curves, title=f"{ctx.config.name}: precision-recall on test rows"),
        "roc_curve.png": plot_roc_curves(curves, title=f"{ctx.config.name}: ROC on test rows"),
        "calibration.png": plot_calibration(curves),
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
            {"version": champion.version, "etag": champion.etag, "metrics": metrics["champion"]} if champion else None
        ),
        "ap_gain": paired,
        "test_rows": {"count": len(frame), "row_ids_sha256": rows_sha},
        "leaderboard": selection.leaderboard,
        **verdict.to_json_dict(),
    }
