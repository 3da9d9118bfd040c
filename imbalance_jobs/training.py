"""Train stage: cross-validate every candidate on its fit rows, keep its out-of-fold predictions, refit, save.

The fit rows are every non-test row (the split's training and validation parts) with ``training.calibrate_on:
oof``, the training part alone with ``validation``. Candidates are compared by ``training.selection_metric``
(Average Precision by default; macro one-vs-rest for multi-class labels) over the same folds for every candidate
(``StratifiedKFold(cv_folds, shuffle=True, random_state=seed)``, or an expanding-window ``TimeSeriesSplit`` when
the split is by time, so no future row predicts a past one), which makes fold-wise differences paired. Each fold
fits a fresh clone of the candidate's ``imblearn`` pipeline on the fold's training rows only, so preprocessing is
fit and resampling applied inside the fold, and the held-out rows are scored as they are; those out-of-fold
predictions are saved (``candidates/<name>/oof.parquet``) for calibration, the threshold and the blend. The
refit is ``Pipeline.fit`` on every fit row: the estimator that was cross-validated is the one that ships. The
same data, config and seed give the same scores.

A candidate that fails (a strategy that does not fit the data, an estimator error) is recorded with
``status="failed"`` and a one-line error; the others go on. Storage errors are not candidate failures: they
propagate so the task can be retried.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from imbalance_jobs.config import CandidateConfig, PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import CandidateError, StorageError, StrategyError
from imbalance_jobs.features import FeatureSpec, resolve_features
from imbalance_jobs.labels import encode_labels
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd
    from imblearn.pipeline import Pipeline
    from sklearn.pipeline import Pipeline as ScoringPipeline

log = logging.getLogger(__name__)

__all__ = [
    "CandidateResult",
    "CrossValidation",
    "FittedCandidate",
    "cross_validate_candidate",
    "cv_splitter",
    "fit_candidate",
    "fit_rows_frame",
    "score_predictions",
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
    oof_uri: str | None = None
    """Out-of-fold predictions: ``_row_id``, ``label_code``, ``fold``, ``proba_<k>`` (NaN where never held out)."""
    fit_rows: int = 0
    """Rows the shipped model was fit on (every non-test row with ``calibrate_on: oof``)."""
    folds: str = ""
    """The fold scheme, e.g. ``stratified 5-fold (seed 42)`` or ``time-ordered 5-fold (expanding window)``."""
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


@dataclass(frozen=True)
class CrossValidation:
    """Per-fold scores and the out-of-fold class probabilities (NaN rows were never held out)."""

    scores: list[float]
    oof: np.ndarray
    fold: np.ndarray
    scheme: str


def cross_validate_candidate(
    candidate: CandidateConfig, frame: pd.DataFrame, config: PipelineConfig, *, beta: float = 1.0
) -> CrossValidation:
    """Per-fold ``selection_metric`` and out-of-fold predictions of one candidate on its fit rows ``frame``.

    ``beta`` < 1: the rows are a negative sample (ingest kept that share of negatives); each fold is scored with
    kept negatives weighted ``1 / beta``, so CV scores estimate the population's (the fits are unweighted).
    Raises StrategyError before any fit when the strategy does not fit the data.
    """
    from imbalance_jobs.resampling import check_strategy

    data = _training_data(config, frame)
    check_strategy(candidate, data.features, data.y, cv_folds=config.training.cv_folds)
    _check_cost(candidate, data, config)
    return _cross_validate(candidate, data, config, beta=beta)


def _check_cost(candidate: CandidateConfig, data: _TrainingData, config: PipelineConfig) -> None:
    """Refuse before the first fit a candidate whose estimated cost passes the run timeout; warn when it is
    superlinear or takes over a quarter of it (:mod:`imbalance_jobs.costs`)."""
    from imbalance_jobs.costs import candidate_cost, judge_cost

    positive_share = float(np.mean(data.y == data.y.max())) if len(data.y) else 0.05
    cost = candidate_cost(
        candidate, len(data.y), cv_folds=config.training.cv_folds, positive_share=positive_share, fit_share=1.0
    )
    verdict, text = judge_cost(config, cost, len(data.y))
    if verdict == "refuse":
        raise StrategyError(f"candidates '{candidate.name}': refused before fitting: {text}")
    if verdict == "warn":
        log.warning("candidate %s: %s", candidate.name, text)


def fit_candidate(candidate: CandidateConfig, frame: pd.DataFrame, config: PipelineConfig) -> FittedCandidate:
    """Fit one candidate on every row of ``frame`` with ``Pipeline.fit`` (resampling those rows only)."""
    from imbalance_jobs.models import build_pipeline

    data = _training_data(config, frame)
    pipeline = _fast(build_pipeline(candidate, data.features, data.y, seed=config.seed), data.X)
    pipeline.fit(data.X, data.y)
    return FittedCandidate(
        pipeline=pipeline,
        features=data.features,
        class_counts_before=_counts(data.y),
        class_counts_after=_resampled_counts(pipeline, data.X, data.y),
    )


def cv_splitter(config: PipelineConfig) -> Any:
    """The folds every candidate shares: time-ordered (expanding window) for a time split, else stratified."""
    from sklearn.model_selection import StratifiedKFold, TimeSeriesSplit

    k = config.training.cv_folds
    if config.split.method == "time":
        return TimeSeriesSplit(n_splits=k)
    return StratifiedKFold(n_splits=k, shuffle=True, random_state=config.seed)


def fit_rows_frame(store: Any, train_uri: str, validation_uri: str | None, config: PipelineConfig) -> pd.DataFrame:
    """The rows candidates are fit on: the training part, plus the validation part with ``calibrate_on: oof``.

    The parts come in time order for a time split (validation after training), so the concatenation is too.
    """
    import pandas as pd

    frame = store.get_frame(train_uri)
    if config.training.calibrate_on == "oof" and validation_uri is not None:
        frame = pd.concat([frame, store.get_frame(validation_uri)], ignore_index=True)
    return frame


def train_candidate(
    ctx: RunContext, name: str, train_uri: str, *, validation_uri: str | None = None
) -> CandidateResult:
    """Stage (one candidate): check, cross-validate, refit, save; a failure is recorded, not raised."""
    candidate = _candidates(ctx.config, [name])[0]
    return _train(ctx, candidate, fit_rows_frame(ctx.store, train_uri, validation_uri, ctx.config))


def train_candidates(
    ctx: RunContext, train_uri: str, names: list[str] | None = None, *, validation_uri: str | None = None
) -> list[CandidateResult]:
    """Stage: train ``names`` (default: ``ctx.options.candidates``, else all) in config order."""
    wanted = names if names is not None else ctx.options.candidates
    candidates = _candidates(ctx.config, wanted)
    frame = fit_rows_frame(ctx.store, train_uri, validation_uri, ctx.config)
    return [_train(ctx, candidate, frame) for candidate in candidates]


def score_predictions(
    metric: str, y: np.ndarray, proba: np.ndarray, n_classes: int, *, sample_weight: np.ndarray | None = None
) -> float:
    """``metric`` of predicted probabilities; multi-class uses macro one-vs-rest (log loss is negated).

    ``sample_weight`` (binary; one per row) weights the score, e.g. population weights of a negative sample.
    """
    from sklearn.metrics import average_precision_score, log_loss, roc_auc_score
    from sklearn.preprocessing import label_binarize

    labels = np.arange(n_classes)
    if metric == "neg_log_loss":
        return -float(log_loss(y, proba, labels=labels, sample_weight=sample_weight))
    if n_classes == 2:
        fn = average_precision_score if metric == "average_precision" else roc_auc_score
        return float(fn(y, proba[:, 1], sample_weight=sample_weight))
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


def _fast(pipeline: Pipeline, X: pd.DataFrame) -> Pipeline:
    """The task's thread budget as forests' ``n_jobs`` and no no-op category cap (:func:`models.fit_settings`)."""
    from imbalance_jobs.models import fit_settings
    from imbalance_jobs.thread_budget import current_threads

    return fit_settings(pipeline, X, n_jobs=current_threads())


def _training_data(config: PipelineConfig, frame: pd.DataFrame, source: str = "training rows") -> _TrainingData:
    features = resolve_features(config, frame, source=source)
    y = encode_labels(frame[config.label.column], config.label, source=source)
    return _TrainingData(features=features, X=frame[features.columns], y=y)


def _cross_validate(
    candidate: CandidateConfig, data: _TrainingData, config: PipelineConfig, *, beta: float = 1.0
) -> CrossValidation:
    from sklearn.base import clone

    from imbalance_jobs.models import build_pipeline
    from imbalance_jobs.population import row_weights

    pipeline = _fast(build_pipeline(candidate, data.features, data.y, seed=config.seed), data.X)
    splitter = cv_splitter(config)
    n_classes = int(data.y.max()) + 1
    oof = np.full((len(data.y), n_classes), np.nan)
    fold = np.full(len(data.y), -1, dtype=np.int64)
    scores = []
    weights = row_weights(config, data.y, beta) if config.label.is_binary else None
    for k, (fit_rows, held_out) in enumerate(splitter.split(np.zeros(len(data.y)), data.y)):
        if np.unique(data.y[held_out]).size < 2:
            raise ValueError(f"fold {k + 1} of {splitter} holds one class only; lower training.cv_folds")
        started = time.perf_counter()
        model = clone(pipeline).fit(data.X.iloc[fit_rows], data.y[fit_rows])
        oof[held_out] = model.predict_proba(data.X.iloc[held_out])
        fold[held_out] = k
        held_weights = weights[held_out] if weights is not None else None
        metric = config.training.selection_metric
        scores.append(score_predictions(metric, data.y[held_out], oof[held_out], n_classes, sample_weight=held_weights))
        log.info(
            "candidate %s: fold %d/%d fit on %d rows in %.1fs, %s %.4f",
            candidate.name,
            k + 1,
            splitter.get_n_splits(),
            len(fit_rows),
            time.perf_counter() - started,
            config.training.selection_metric,
            scores[-1],
        )
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"cross-validation gave non-finite scores {scores}")
    scheme = (
        f"time-ordered {config.training.cv_folds}-fold (expanding window)"
        if config.split.method == "time"
        else f"stratified {config.training.cv_folds}-fold (seed {config.seed})"
    )
    return CrossValidation(scores=scores, oof=oof, fold=fold, scheme=scheme)


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
    from imbalance_jobs.population import run_beta

    cv = cross_validate_candidate(candidate, frame, ctx.config, beta=run_beta(ctx))
    started = time.perf_counter()
    fitted = fit_candidate(candidate, frame, ctx.config)
    log.info(
        "candidate %s: refit on all %d fit rows in %.1fs", candidate.name, len(frame), time.perf_counter() - started
    )
    save_model(ctx.store, prefix, fitted.scoring)
    oof_uri = ctx.staging_uri("candidates", candidate.name, "oof.parquet")
    ctx.store.put_frame(oof_uri, _oof_frame(ctx.config, frame, cv))
    return {
        "cv_scores": cv.scores,
        "cv_mean": float(np.mean(cv.scores)),
        "cv_std": float(np.std(cv.scores)),
        "model_uri": prefix,
        "oof_uri": oof_uri,
        "fit_rows": len(frame),
        "folds": cv.scheme,
        "class_counts_before": fitted.class_counts_before,
        "class_counts_after": fitted.class_counts_after,
        "features": {"numeric": list(fitted.features.numeric), "categorical": list(fitted.features.categorical)},
        "sampler": fitted.sampler,
    }


def _oof_frame(config: PipelineConfig, frame: pd.DataFrame, cv: CrossValidation) -> pd.DataFrame:
    import pandas as pd

    from imbalance_jobs.features import ROW_ID

    out = pd.DataFrame(
        {
            ROW_ID: frame[ROW_ID].to_numpy() if ROW_ID in frame else np.arange(len(frame)),
            "label_code": encode_labels(frame[config.label.column], config.label),
            "fold": cv.fold,
        }
    )
    for k in range(cv.oof.shape[1]):
        out[f"proba_{k}"] = cv.oof[:, k]
    return out


_EXACT_OVERSAMPLERS = frozenset({"SMOTE", "SMOTENC", "SMOTEN", "BorderlineSMOTE"})
"""Over-samplers that add exactly ``sampling_strategy_`` rows per class (ADASYN and SVMSMOTE may add fewer)."""


def _resampled_counts(pipeline: Pipeline, X: Any, y: np.ndarray) -> dict[str, int]:
    """Rows per class the fitted model saw, read from the fitted sampler where it records them.

    Samplers that keep or repeat rows record ``sample_indices_``; the SMOTE family records how many rows it added
    per class. For the rest (ADASYN, SVMSMOTE, SMOTE then cleaning) the fitted steps before the sampler are
    re-applied and the (seeded) sampler run once more, which repeats exactly what ``fit`` did.
    """
    sampler = pipeline.named_steps.get("sampler")
    if sampler is None:
        return _counts(y)
    kept = getattr(sampler, "sample_indices_", None)
    if kept is not None:
        return _counts(np.asarray(y)[kept])
    added = getattr(sampler, "sampling_strategy_", None)
    if type(sampler).__name__ in _EXACT_OVERSAMPLERS and added:
        counts = _counts(y)
        return {c: n + int(added.get(int(c), 0)) for c, n in counts.items()}
    Xt = X
    for name, step in pipeline.steps[:-1]:
        if name == "sampler":
            break
        Xt = step.transform(Xt)
    return _counts(np.asarray(sampler.fit_resample(Xt, y)[1]))


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
