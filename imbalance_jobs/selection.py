"""Select stage: pick a candidate on its CV evidence, then calibrate it and choose its operating threshold.

The pick is :func:`imbalance_jobs.model_choice.choose` (paired fold-wise gaps, one-standard-error rule, declared
preference). Calibration and threshold are fit on the chosen candidate's out-of-fold predictions over every
non-test row (``training.calibrate_on: oof``, as scikit-learn's ``TunedThresholdClassifierCV`` does) or on the
validation part (``validation``); the test rows stay untouched until the evaluate stage scores champion and
candidate side by side.

When ingest kept a share ``beta`` of the negatives, the calibrator is fit on the sampled rows and carries
``sample_beta`` (odds times beta), and the threshold and calibration report weight each kept negative
``1 / beta``: the shipped probabilities and the threshold's precision refer to the unsampled population.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from imbalance_jobs.blend import BLEND_NAME
from imbalance_jobs.config import TORCH_MODEL_NAMES, PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import CandidateError
from imbalance_jobs.labels import class_names, encode_labels
from imbalance_jobs.model_choice import Choice, choose
from imbalance_jobs.population import population_note, row_weights, run_beta
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.summary import Summary
from imbalance_jobs.training import CandidateResult

__all__ = ["SelectionSummary", "prior_correction_beta", "select"]


class SelectionSummary(Summary):
    candidate: str
    bundle_prefix: str
    threshold: float | None
    calibration: dict[str, Any]
    threshold_choice: dict[str, Any] | None
    leaderboard: list[dict[str, Any]]
    validation_rows: int
    """Rows the calibrator and threshold were fit on (out-of-fold rows with ``calibrate_on: oof``)."""
    validation_positives: int
    calibrated_on: str = "validation rows"
    fit_rows: int = 0
    """Rows the shipped model was fit on: every non-test row with ``calibrate_on: oof``."""
    selection_rule: str = "best_mean"
    selection_reason: str = ""
    blend: dict[str, Any] | None = None
    """The blend of the top candidates: members, CV mean, paired gain over the best single, entered or not."""
    sample_beta: float = 1.0
    """Share of negatives ingest kept (1.0: no sampling); figures here weight kept negatives by ``1 / beta``."""


def prior_correction_beta(result: CandidateResult) -> float | None:
    """Share of negative training rows kept by random undersampling (Dal Pozzolo et al. 2015)."""
    before = result.class_counts_before.get("0", 0)
    after = result.class_counts_after.get("0", 0)
    return after / before if before else None


def select(ctx: RunContext, results: list[CandidateResult], validation_uri: str) -> SelectionSummary:
    """Stage: choose a candidate -> calibrator + threshold on OOF or validation rows -> staged ``selection/``."""
    from imbalance_jobs.model_io import load_model, save_model

    config = ctx.config
    beta = run_beta(ctx)
    blend = _blend(ctx, results, beta)
    entered = [blend.result] if blend and blend.entered else []
    choice = _choose([*results, *entered], config)
    best = next(r for r in [*results, *entered] if r.name == choice.name)
    pipeline = blend.pipeline(ctx) if best.model == BLEND_NAME else load_model(ctx.store, best.model_uri)
    y_cal, raw, where = _calibration_rows(ctx, best, pipeline, validation_uri)
    calibration, threshold = _calibrate_and_threshold(config, best, y_cal, raw, where, beta)
    members = blend.summary["members"] if blend and best.model == BLEND_NAME else None
    description = _describe(config, best, calibration, threshold, members=members)
    prefix = ctx.staging_uri("selection") + "/"
    save_model(ctx.store, prefix + "model/", pipeline)
    ctx.store.put_json(prefix + "model.json", {**description, "run_id": ctx.run_id})
    return SelectionSummary(
        candidate=best.name,
        bundle_prefix=prefix,
        threshold=description["threshold"],
        calibration=calibration,
        threshold_choice=threshold,
        leaderboard=[_row(r, choice) for r in [*results, *entered]],
        validation_rows=len(y_cal),
        validation_positives=int(np.sum(y_cal == 1)) if config.label.is_binary else 0,
        calibrated_on=where,
        fit_rows=best.fit_rows,
        selection_rule=choice.rule,
        selection_reason=f"{choice.name}: {choice.reason}",
        blend=blend.summary if blend else None,
        sample_beta=beta,
    )


@dataclass(frozen=True)
class _Blend:
    """The blend of the top candidates, its evidence, and whether that evidence let it compete."""

    result: CandidateResult
    members: list[CandidateResult]
    entered: bool
    summary: dict[str, Any]

    def pipeline(self, ctx: RunContext) -> Any:
        from sklearn.pipeline import Pipeline

        from imbalance_jobs.blend import BlendClassifier
        from imbalance_jobs.model_io import load_model

        members = [load_model(ctx.store, m.model_uri) for m in self.members]
        return Pipeline([("blend", BlendClassifier(members=members, names=[m.name for m in self.members]))])


def _blend(ctx: RunContext, results: list[CandidateResult], beta: float = 1.0) -> _Blend | None:
    """Blend the ``training.blend_top_k`` best candidates by CV mean; it enters if its paired gain beats noise.

    Its fold scores weight kept negatives ``1 / beta``, as the candidates' own CV scores do.
    """
    from imbalance_jobs.blend import blend_evidence
    from imbalance_jobs.model_choice import paired_gap

    config = ctx.config
    pool = [r for r in results if r.status == "ok" and r.oof_uri and r.model not in TORCH_MODEL_NAMES]
    top = sorted(pool, key=lambda r: -(r.cv_mean or 0.0))[: config.training.blend_top_k]
    if len(top) < 2 or not config.label.is_binary or config.training.calibrate_on != "oof":
        return None
    oofs = {r.name: ctx.store.get_frame(r.oof_uri) for r in top}
    weights = row_weights(config, oofs[top[0].name]["label_code"].to_numpy(), beta)
    evidence = blend_evidence(oofs, metric=top[0].metric, sample_weight=weights)
    oof_uri = ctx.staging_uri("candidates", BLEND_NAME, "oof.parquet")
    ctx.store.put_frame(oof_uri, evidence.oof)
    gain, se = paired_gap(evidence.cv_scores, top[0].cv_scores)
    result = CandidateResult(
        name=BLEND_NAME,
        model=BLEND_NAME,
        imbalance="none" if all(r.imbalance == "none" for r in top) else BLEND_NAME,
        status="ok",
        cv_scores=evidence.cv_scores,
        cv_mean=float(np.mean(evidence.cv_scores)),
        cv_std=float(np.std(evidence.cv_scores)),
        oof_uri=oof_uri,
        fit_rows=top[0].fit_rows,
        folds=top[0].folds,
        features=top[0].features,
        metric=top[0].metric,
    )
    entered = gain - se > 0
    summary = {
        "members": [r.name for r in top],
        "cv_mean": result.cv_mean,
        "gain_over_best": gain,
        "gain_se": se,
        "entered": entered,
        "why": (
            f"mean of {[r.name for r in top]}: paired CV gain {gain:+.4f} over {top[0].name} (SE {se:.4f}) "
            + ("exceeds noise: it competes" if entered else "is within noise: not entered")
        ),
    }
    return _Blend(result=result, members=top, entered=entered, summary=summary)


def _choose(results: list[CandidateResult], config: PipelineConfig) -> Choice:
    ok = [r for r in results if r.status == "ok" and r.cv_mean is not None]
    if not ok:
        lines = "\n".join(f"  - {r.name}: {r.error}" for r in results) or "  (no candidates were trained)"
        raise CandidateError(f"no candidate trained successfully ({len(results)} tried):\n{lines}")
    return choose(ok, rule=config.training.selection_rule)


def _calibration_rows(
    ctx: RunContext, best: CandidateResult, pipeline: Any, validation_uri: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """``(labels, uncalibrated probabilities, where)`` the calibrator and threshold are fit on; never test rows."""
    config = ctx.config
    if config.training.calibrate_on == "oof" and best.oof_uri:
        oof = ctx.store.get_frame(best.oof_uri)
        columns = [c for c in oof.columns if c.startswith("proba_")]
        proba = oof[columns].to_numpy(dtype=np.float64)
        held_out = np.isfinite(proba).all(axis=1)
        where = f"out-of-fold predictions ({best.folds}) on {int(held_out.sum())} of {len(oof)} non-test rows"
        return oof["label_code"].to_numpy()[held_out], proba[held_out], where
    frame = ctx.store.get_frame(validation_uri)
    y_val = encode_labels(frame[config.label.column], config.label, source=validation_uri)
    raw = DeployedModel(pipeline=pipeline, description=_describe(config, best, None, None)).proba(frame)
    return y_val, raw, "validation rows"


def _calibrate_and_threshold(
    config: PipelineConfig, best: CandidateResult, y_val: np.ndarray, proba: np.ndarray, where: str, beta: float
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Calibrator (with ``sample_beta`` under negative sampling) and threshold, both for the population."""
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
    under_beta = prior_correction_beta(best) if method == "prior_correction" else None
    calibrator = fit_calibrator(method, y_val, raw, beta=under_beta, sample_beta=beta)
    weights = row_weights(config, y_val, beta)
    choice = choose_threshold(y_val, np.asarray(calibrator.apply(raw)), config.threshold, sample_weight=weights)
    report = calibration_report(calibrator, y_val, raw, sample_weight=weights)
    calibration = {"params": calibrator.to_dict(), "fit_on": where, **report.to_json_dict()}
    if weights is not None:
        calibration["population"] = population_note(beta)
    return calibration, choice.to_json_dict()


def _describe(
    config: PipelineConfig,
    best: CandidateResult,
    calibration: dict[str, Any] | None,
    choice: dict[str, Any] | None,
    *,
    members: list[str] | None = None,
) -> dict[str, Any]:
    extra = {"blend": {"members": members, "combine": "mean of probabilities"}} if members else {}
    return DeployedModel.describe(
        **extra,
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


def _row(result: CandidateResult, choice: Choice) -> dict[str, Any]:
    gap, se, within = choice.gaps.get(result.name, (None, None, False))
    return {
        "name": result.name,
        "model": result.model,
        "imbalance": result.imbalance,
        "status": result.status,
        "cv_mean": result.cv_mean,
        "cv_std": result.cv_std,
        "fit_seconds": result.fit_seconds,
        "error": result.error,
        "paired_gap": gap,
        "paired_se": se,
        "within_noise": within,
        "chosen": result.name == choice.name,
    }
