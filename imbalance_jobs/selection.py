"""Select stage: pick the best candidate by CV score, then calibrate it and choose its operating threshold.

Calibration and threshold are fit on the validation rows only; the test rows stay untouched until the
evaluate stage scores champion and candidate side by side.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.labels import class_names, encode_labels
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.summary import Summary
from imbalance_jobs.training import CandidateResult, select_best

__all__ = ["SelectionSummary", "prior_correction_beta", "select"]


class SelectionSummary(Summary):
    candidate: str
    bundle_prefix: str
    threshold: float | None
    calibration: dict[str, Any]
    threshold_choice: dict[str, Any] | None
    leaderboard: list[dict[str, Any]]
    validation_rows: int
    validation_positives: int


def prior_correction_beta(result: CandidateResult) -> float | None:
    """Share of negative training rows kept by random undersampling (Dal Pozzolo et al. 2015)."""
    before = result.class_counts_before.get("0", 0)
    after = result.class_counts_after.get("0", 0)
    return after / before if before else None


def select(ctx: RunContext, results: list[CandidateResult], validation_uri: str) -> SelectionSummary:
    """Stage: best candidate -> calibrator + threshold on validation rows -> staged ``selection/``."""
    from imbalance_jobs.model_io import load_model, save_model

    config = ctx.config
    best = select_best(results)
    pipeline = load_model(ctx.store, best.model_uri)
    frame = ctx.store.get_frame(validation_uri)
    y_val = encode_labels(frame[config.label.column], config.label, source=validation_uri)
    raw = DeployedModel(pipeline=pipeline, description=_describe(config, best, None, None)).proba(frame)
    calibration, choice = _calibrate_and_threshold(config, best, y_val, raw)
    description = _describe(config, best, calibration, choice)
    prefix = ctx.staging_uri("selection") + "/"
    save_model(ctx.store, prefix + "model/", pipeline)
    ctx.store.put_json(prefix + "model.json", {**description, "run_id": ctx.run_id})
    return SelectionSummary(
        candidate=best.name,
        bundle_prefix=prefix,
        threshold=description["threshold"],
        calibration=calibration,
        threshold_choice=choice,
        leaderboard=[_row(r) for r in results],
        validation_rows=len(frame),
        validation_positives=int(np.sum(y_val == 1)) if config.label.is_binary else 0,
    )


def _calibrate_and_threshold(
    config: PipelineConfig, best: CandidateResult, y_val: np.ndarray, proba: np.ndarray
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    from imbalance_jobs.evaluation import (
        calibration_report,
        choose_threshold,
        fit_calibrator,
        resolve_calibration_method,
    )

    binary = config.label.is_binary
    method = resolve_calibration_method(config.calibration.method, best.imbalance, binary=binary)
    if not binary:
        calibrator = fit_calibrator("none", y_val, np.zeros(len(y_val)))
        return {"method": "none", "params": calibrator.to_dict(), "note": "multi-class: argmax decisions"}, None
    raw = proba[:, 1]
    beta = prior_correction_beta(best) if method == "prior_correction" else None
    calibrator = fit_calibrator(method, y_val, raw, beta=beta)
    choice = choose_threshold(y_val, np.asarray(calibrator.apply(raw)), config.threshold)
    report = calibration_report(calibrator, y_val, raw)
    calibration = {"params": calibrator.to_dict(), "fit_on": "validation rows", **report.to_json_dict()}
    return calibration, choice.to_json_dict()


def _describe(
    config: PipelineConfig,
    best: CandidateResult,
    calibration: dict[str, Any] | None,
    choice: dict[str, Any] | None,
) -> dict[str, Any]:
    return DeployedModel.describe(
        pipeline=config.name,
        candidate=best.name,
        model=best.model,
        imbalance=best.imbalance,
        features=best.features,
        label={
            "column": config.label.column,
            "classes": list(config.label.classes),
            "positive": config.label.positive,
            "class_names": class_names(config.label),
        },
        cv={"metric": config.training.selection_metric, "mean": best.cv_mean, "std": best.cv_std},
        calibration=calibration or {"method": "none", "params": {"method": "none"}},
        threshold=(choice or {}).get("threshold"),
        threshold_choice=choice,
    )


def _row(result: CandidateResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "model": result.model,
        "imbalance": result.imbalance,
        "status": result.status,
        "cv_mean": result.cv_mean,
        "cv_std": result.cv_std,
        "fit_seconds": result.fit_seconds,
        "error": result.error,
    }
