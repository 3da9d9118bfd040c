"""Train stage: cross-validate every candidate on the training part, refit it on all training rows, save it.

Candidates are compared by ``training.selection_metric`` (Average Precision by default; macro one-vs-rest for
multi-class labels) over ``StratifiedKFold(cv_folds, shuffle=True, random_state=seed)``. Each fold fits a fresh
clone of the candidate's ``imblearn`` pipeline on the fold's training rows only, so preprocessing is fit and
resampling applied inside the fold, and the held-out rows are scored as they are. The same data, config and
seed give the same scores.

A candidate that fails (a strategy that does not fit the data, an estimator error) is recorded with
``status="failed"`` and a one-line error; the others go on. Storage errors are not candidate failures: they
propagate so the task can be retried.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from imbalance_jobs.config import CandidateConfig, PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import CandidateError, StorageError
from imbalance_jobs.features import FeatureSpec, resolve_features
from imbalance_jobs.labels import encode_labels
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd
    from imblearn.pipeline import Pipeline
    from sklearn.pipeline import Pipeline as ScoringPipeline

__all__ = [
    "CandidateResult",
    "FittedCandidate",
    "cross_validate_candidate",
    "fit_candidate",
    "score_predictions",
    "select_best",
    "train_candidate",
    "train_candidates",
]


class CandidateResult(Summary):
    name: str
    model: str
    imbalance: str
    status: Literal["ok", "failed"]
    error: str | None = None
    cv_scores: list[float] = []
    cv_mean: float | None = None
    cv_std: float | None = None
    fit_seconds: float = 0.0
    model_uri: str | None = None
    """Staging prefix of the saved scoring pipeline (``imbalance_jobs.model_io.load_model``)."""
    class_counts_before: dict[str, int] = {}
    """Training rows per class code before resampling (final refit)."""
    class_counts_after: dict[str, int] = {}
    """Rows per class code the model was fit on after resampling; equal to ``before`` without a sampler."""
    features: dict[str, list[str]] = {}
    sampler: str | None = None
    """The imbalanced-learn class used (``SMOTENC`` when ``smote`` switched for categorical features)."""
    metric: str = "average_precision"


@dataclass(frozen=True)
class _TrainingData:
    features: FeatureSpec
    X: pd.DataFrame
    y: np.ndarray


@dataclass(frozen=True)
class FittedCandidate:
    """A candidate refit on all training rows, with the class counts before and after resampling."""

    pipeline: Pipeline
    features: FeatureSpec
    class_counts_before: dict[str, int]
    class_counts_after: dict[str, int]

    @property
    def scoring(self) -> ScoringPipeline:
        """The fitted pipeline without its sampler: what predicts and what is saved."""
        from imbalance_jobs.models import scoring_pipeline

        return scoring_pipeline(self.pipeline)

    @property
    def sampler(self) -> str | None:
        step = self.pipeline.named_steps.get("sampler")
        return type(step).__name__ if step is not None else None


def cross_validate_candidate(candidate: CandidateConfig, frame: pd.DataFrame, config: PipelineConfig) -> list[float]:
    """Per-fold ``selection_metric`` of one candidate on the training part ``frame``.

    Raises StrategyError before any fit when the strategy does not fit the data.
    """
    from imbalance_jobs.resampling import check_strategy

    data = _training_data(config, frame)
    check_strategy(candidate, data.features, data.y, cv_folds=config.training.cv_folds)
    return _cv_scores(candidate, data, config)


def fit_candidate(candidate: CandidateConfig, frame: pd.DataFrame, config: PipelineConfig) -> FittedCandidate:
    """Fit one candidate on every row of the training part ``frame`` (resampling those rows only)."""
    from imbalance_jobs.models import build_pipeline

    data = _training_data(config, frame)
    pipeline = build_pipeline(candidate, data.features, data.y, seed=config.seed)
    y_fit = _fit_steps(pipeline, data.X, data.y)
    return FittedCandidate(
        pipeline=pipeline,
        features=data.features,
        class_counts_before=_counts(data.y),
        class_counts_after=_counts(y_fit),
    )


def train_candidate(ctx: RunContext, name: str, train_uri: str) -> CandidateResult:
    """Stage (one candidate): check, cross-validate, refit, save; a failure is recorded, not raised."""
    candidate = _candidates(ctx.config, [name])[0]
    frame = ctx.store.get_frame(train_uri)
    return _train(ctx, candidate, frame)


def train_candidates(ctx: RunContext, train_uri: str, names: list[str] | None = None) -> list[CandidateResult]:
    """Stage: train ``names`` (default: ``ctx.options.candidates``, else all) in config order."""
    wanted = names if names is not None else ctx.options.candidates
    candidates = _candidates(ctx.config, wanted)
    frame = ctx.store.get_frame(train_uri)
    return [_train(ctx, candidate, frame) for candidate in candidates]


def select_best(results: list[CandidateResult]) -> CandidateResult:
    """The successful candidate with the highest ``cv_mean``; ties go to the first in config order."""
    ok = [r for r in results if r.status == "ok" and r.cv_mean is not None]
    if not ok:
        lines = "\n".join(f"  - {r.name}: {r.error}" for r in results) or "  (no candidates were trained)"
        raise CandidateError(f"no candidate trained successfully ({len(results)} tried):\n{lines}")
    return max(ok, key=lambda r: r.cv_mean)  # max keeps the first of equal keys


def score_predictions(metric: str, y: np.ndarray, proba: np.ndarray, n_classes: int) -> float:
    """``metric`` of predicted probabilities; multi-class uses macro one-vs-rest (log loss is negated)."""
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
    from sklearn.preprocessing import label_binarize

    labels = np.arange(n_classes)
    if metric == "neg_log_loss":
        return -float(log_loss(y, proba, labels=labels))
    if n_classes == 2:
        fn = average_precision_score if metric == "average_precision" else roc_auc_score
        return float(fn(y, proba[:, 1]))
    if metric == "average_precision":
        return float(average_precision_score(label_binarize(y, classes=labels), proba, average="macro"))
    return float(roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=labels))


# -- internals --------------------------------------------------------------------------------------------------
def _candidates(config: PipelineConfig, names: list[str] | tuple[str, ...] | None) -> list[CandidateConfig]:
    known = [c.name for c in config.training.candidates]
    if names is None:
        return list(config.training.candidates)
    unknown = [n for n in names if n not in known]
    if unknown or not names:
        raise CandidateError(
            f"{config.name}: unknown candidate(s) {unknown or list(names)}; training.candidates are: {known}"
        )
    return [c for c in config.training.candidates if c.name in set(names)]


def _training_data(config: PipelineConfig, frame: pd.DataFrame, source: str = "training rows") -> _TrainingData:
    features = resolve_features(config, frame, source=source)
    y = encode_labels(frame[config.label.column], config.label, source=source)
    return _TrainingData(features=features, X=frame[features.columns], y=y)


def _cv_scores(candidate: CandidateConfig, data: _TrainingData, config: PipelineConfig) -> list[float]:
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold

    from imbalance_jobs.models import build_pipeline

    pipeline = build_pipeline(candidate, data.features, data.y, seed=config.seed)
    folds = StratifiedKFold(n_splits=config.training.cv_folds, shuffle=True, random_state=config.seed)
    n_classes = int(data.y.max()) + 1
    scores = []
    for fit_rows, held_out in folds.split(np.zeros(len(data.y)), data.y):
        fold = clone(pipeline).fit(data.X.iloc[fit_rows], data.y[fit_rows])
        proba = fold.predict_proba(data.X.iloc[held_out])
        scores.append(score_predictions(config.training.selection_metric, data.y[held_out], proba, n_classes))
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"cross-validation gave non-finite scores {scores}")
    return scores


def _train(ctx: RunContext, candidate: CandidateConfig, frame: pd.DataFrame) -> CandidateResult:
    model_prefix = ctx.staging_uri("candidates", candidate.name, "model") + "/"
    ctx.store.delete_prefix(model_prefix)  # a re-run never leaves an older model behind a failed result
    start = time.perf_counter()
    base: dict[str, Any] = {
        "name": candidate.name,
        "model": candidate.model,
        "imbalance": candidate.imbalance,
        "metric": ctx.config.training.selection_metric,
    }
    try:
        fields = _fit_and_save(ctx, candidate, frame, model_prefix)
        result = CandidateResult(**base, **fields, status="ok", fit_seconds=_since(start))
    except StorageError:
        raise
    except Exception as exc:  # any candidate failure is recorded; the other candidates go on
        result = CandidateResult(**base, status="failed", error=_one_line(candidate, exc), fit_seconds=_since(start))
    ctx.store.put_json(ctx.staging_uri("candidates", candidate.name, "result.json"), result.to_json_dict())
    return result


def _fit_and_save(ctx: RunContext, candidate: CandidateConfig, frame: pd.DataFrame, prefix: str) -> dict[str, Any]:
    from imbalance_jobs.model_io import save_model

    scores = cross_validate_candidate(candidate, frame, ctx.config)
    fitted = fit_candidate(candidate, frame, ctx.config)
    save_model(ctx.store, prefix, fitted.scoring)
    return {
        "cv_scores": scores,
        "cv_mean": float(np.mean(scores)),
        "cv_std": float(np.std(scores)),
        "model_uri": prefix,
        "class_counts_before": fitted.class_counts_before,
        "class_counts_after": fitted.class_counts_after,
        "features": {"numeric": list(fitted.features.numeric), "categorical": list(fitted.features.categorical)},
        "sampler": fitted.sampler,
    }


def _fit_steps(pipeline: Pipeline, X: Any, y: np.ndarray) -> np.ndarray:
    """Fit the pipeline step by step, as ``Pipeline.fit`` does, and return the labels the model was fit on."""
    Xt, yt = X, y
    for _, step in pipeline.steps[:-1]:
        if hasattr(step, "fit_resample"):
            Xt, yt = step.fit_resample(Xt, yt)
        else:
            Xt = step.fit_transform(Xt, yt)
    pipeline.steps[-1][1].fit(Xt, yt)
    return np.asarray(yt)


def _counts(y: np.ndarray) -> dict[str, int]:
    codes, counts = np.unique(y, return_counts=True)
    return {str(int(c)): int(n) for c, n in zip(codes, counts)}


def _one_line(candidate: CandidateConfig, exc: Exception) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    if f"'{candidate.name}'" in message:
        return message
    return f"candidate '{candidate.name}' ({candidate.model} + {candidate.imbalance}): {type(exc).__name__}: {message}"


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 3)
