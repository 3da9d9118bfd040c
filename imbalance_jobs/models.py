"""Model registry and training pipelines: ``preprocess -> [pca] -> [sampler] -> [encode] -> model``.

Every candidate trains inside one ``imblearn.pipeline.Pipeline`` so that preprocessing is fit, and resampling
applied, on the rows ``fit`` sees and nothing else: the training fold in cross-validation, the training part in
the final refit. :func:`scoring_pipeline` drops the sampler (it does nothing at predict time) and is what gets
saved and deployed; it takes a DataFrame holding the feature columns.

Preprocessing, by step:

``preprocess``  numeric columns: median imputation (all-missing columns kept, as 0) + standard scaling, always
                first; categorical columns after them, either one-hot (unknown -> all zeros, missing -> its
                own column) or ordinal codes (unknown and missing -> -1). ``hist_gradient_boosting`` with
                no sampler and no PCA takes its numeric columns as they are: it bins them by quantiles (so
                scaling changes nothing) and routes missing values itself, and the median imputation was the
                slowest step of its fits (2.5 s of a 240k-row refit, more than half the tree fitting).
``pca``         optional, compresses the numeric columns only (categorical columns pass through, still last).
``sampler``     see :mod:`imbalance_jobs.resampling`; its declared ``encoding`` picks one-hot or codes.
``encode``      one-hot of the category codes, only when a code-needing sampler (SMOTENC, SMOTEN) feeds a model
                that wants one-hot columns.

Categorical columns per model, when the sampler leaves the choice ("any"):

* ``logistic_regression``, ``random_forest``, ``extra_trees`` -- one-hot.
* ``hist_gradient_boosting`` -- native categorical support: codes plus ``categorical_features`` positions;
  codes are capped at ``max_bins`` categories (rarer ones grouped); -1 is treated as missing by the model.
* ``torch_mlp`` -- codes in the last ``n_categorical`` columns (embeddings); -1 for unknown or missing.

With a sampler whose tags declare ``encoding="onehot"`` (tomek, enn: they measure distances) every model gets
one-hot columns (hist_gradient_boosting then splits them as numbers, torch_mlp gets
``n_categorical=0``). ``random_state`` (``seed`` for torch) always comes from the config seed; class weights only
from ``imbalance: class_weight``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling import Strategy, build_strategy, make_estimator

if TYPE_CHECKING:
    from imblearn.pipeline import Pipeline
    from sklearn.pipeline import Pipeline as ScoringPipeline

__all__ = ["MODELS", "ModelBuilder", "build_pipeline", "categorical_layout", "fit_settings", "scoring_pipeline"]

CategoricalStyle = Literal["onehot", "native", "codes"]
Layout = Literal["numeric", "onehot", "ordinal"]
HGB_MAX_BINS = 255


@dataclass(frozen=True)
class ModelBuilder:
    """How one model name becomes an estimator; the class is imported only when a candidate uses it."""

    path: str
    categorical: CategoricalStyle
    seed_param: str = "random_state"
    weighted: bool = True
    defaults: Mapping[str, Any] = field(default_factory=dict)

    def estimator_class(self) -> type:
        module, _, name = self.path.rpartition(".")
        return getattr(importlib.import_module(module), name)

    def build(self, candidate: CandidateConfig, *, seed: int, strategy: Strategy, categorical: list[int]) -> Any:
        """The estimator with ``model_params`` passed through; seed, class weights and categories set here."""
        fixed: dict[str, Any] = {self.seed_param: seed}
        if self.weighted:
            fixed["class_weight"] = strategy.class_weight
        elif strategy.class_weight is not None:
            raise StrategyError(
                f"candidates '{candidate.name}' > imbalance: model '{candidate.model}' takes no class_weight"
            )
        if self.categorical == "native":
            fixed["categorical_features"] = categorical or None
        elif self.categorical == "codes":
            fixed["n_categorical"] = len(categorical)
        params = {**self.defaults, **candidate.model_params}
        where = f"candidates '{candidate.name}' > model_params"
        return make_estimator(self.estimator_class(), params, where=where, fixed=fixed)


MODELS: dict[str, ModelBuilder] = {
    "logistic_regression": ModelBuilder(
        "sklearn.linear_model.LogisticRegression", "onehot", defaults={"max_iter": 1000}
    ),
    "random_forest": ModelBuilder("sklearn.ensemble.RandomForestClassifier", "onehot"),
    "extra_trees": ModelBuilder("sklearn.ensemble.ExtraTreesClassifier", "onehot"),
    # early_stopping explicit: scikit-learn's "auto" switches it on above 10,000 rows, so CV folds and the refit
    # (more rows) would fit different estimators; set it in model_params to have it in both.
    "hist_gradient_boosting": ModelBuilder(
        "sklearn.ensemble.HistGradientBoostingClassifier", "native", defaults={"early_stopping": False}
    ),
    # Implemented in imbalance_jobs.torch_models (imports torch, so only when a torch candidate is built).
    "torch_mlp": ModelBuilder(
        "imbalance_jobs.torch_models.TorchMLPClassifier", "codes", seed_param="seed", weighted=False
    ),
}
"""Config name -> builder. Keys equal ``imbalance_jobs.config.MODEL_NAMES`` (tests/test_registries.py)."""


def categorical_layout(model: str, strategy: Strategy, features: FeatureSpec) -> Layout:
    """How categorical columns reach the sampler: ``numeric`` (there are none), ``onehot`` or ``ordinal`` codes."""
    if not features.categorical:
        return "numeric"
    if strategy.categorical != "any":
        return strategy.categorical
    return "onehot" if MODELS[model].categorical == "onehot" else "ordinal"


def build_pipeline(candidate: CandidateConfig, features: FeatureSpec, y: np.ndarray, *, seed: int) -> Pipeline:
    """The unfitted training pipeline of one candidate.

    Parameters
    ----------
    candidate : CandidateConfig
        Model, imbalance strategy and their parameters.
    features : FeatureSpec
        Numeric and categorical column names; the pipeline reads them by name from a DataFrame.
    y : ndarray of int
        Training label codes (explicit class weights are checked against them).
    seed : int
        The config seed; every ``random_state`` in the pipeline.

    Returns
    -------
    imblearn.pipeline.Pipeline
        Steps ``preprocess``, then ``pca``, ``sampler`` and ``encode`` where needed, then ``model``.

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.datasets import make_classification
    >>> from imbalance_jobs.config import CandidateConfig
    >>> X, y = make_classification(n_samples=1000, weights=[0.95, 0.05], random_state=0)
    >>> frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
    >>> cand = CandidateConfig(name="lr_smote", model="logistic_regression", imbalance="smote")
    >>> pipe = build_pipeline(cand, FeatureSpec(numeric=("a", "b", "c"), categorical=()), y, seed=0)
    >>> [name for name, _ in pipe.steps]
    ['preprocess', 'sampler', 'model']
    >>> pipe.fit(frame, y).predict_proba(frame).shape
    (1000, 2)
    """
    from imblearn.pipeline import Pipeline

    if candidate.model not in MODELS:
        raise StrategyError(
            f"candidates '{candidate.name}' > model: unknown model '{candidate.model}'; known: {sorted(MODELS)}"
        )
    builder = MODELS[candidate.model]
    strategy = build_strategy(candidate, features, y, seed=seed)
    layout = categorical_layout(candidate.model, strategy, features)
    max_categories = candidate.model_params.get("max_bins", HGB_MAX_BINS) if builder.categorical == "native" else None
    as_is = builder.categorical == "native" and strategy.sampler is None and strategy.pca is None
    steps: list[tuple[str, Any]] = [("preprocess", _preprocess(features, layout, max_categories, numeric_as_is=as_is))]
    if strategy.pca is not None:
        steps.append(("pca", strategy.pca))
    if strategy.sampler is not None:
        steps.append(("sampler", strategy.sampler))
    codes = _code_positions(candidate, features) if layout == "ordinal" else []
    if codes and builder.categorical == "onehot":
        steps.append(("encode", _onehot_codes(codes)))
        codes = []
    steps.append(("model", builder.build(candidate, seed=seed, strategy=strategy, categorical=codes)))
    return Pipeline(steps)


def scoring_pipeline(fitted: Pipeline) -> ScoringPipeline:
    """The fitted pipeline without its sampler: what predicts, and what is saved.

    Samplers only act in ``fit``; leaving them out keeps the saved artifact to plain scikit-learn types.
    """
    from sklearn.pipeline import Pipeline as SkPipeline

    steps = [(name, step) for name, step in fitted.steps if not hasattr(step, "fit_resample")]
    return SkPipeline(steps)


def _code_positions(candidate: CandidateConfig, features: FeatureSpec) -> list[int]:
    width = candidate.pca_components or len(features.numeric)
    return list(range(width, width + len(features.categorical)))


def _preprocess(features: FeatureSpec, layout: Layout, max_categories: int | None, *, numeric_as_is: bool) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline as SkPipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    parts: list[tuple[str, Any, list[str]]] = []
    if features.numeric and numeric_as_is:
        parts.append(("numeric", "passthrough", list(features.numeric)))
    elif features.numeric:
        imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        parts.append(
            ("numeric", SkPipeline([("impute", imputer), ("scale", StandardScaler())]), list(features.numeric))
        )
    if features.categorical and layout == "onehot":
        parts.append(
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), list(features.categorical))
        )
    elif features.categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=-1,
            encoded_missing_value=-1,
            max_categories=max_categories,
        )
        parts.append(("categorical", encoder, list(features.categorical)))
    return ColumnTransformer(parts, remainder="drop", sparse_threshold=0)


def _onehot_codes(positions: list[int]) -> Any:
    """One-hot of category codes produced by the ``preprocess`` step, after a code-needing sampler."""
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return ColumnTransformer([("onehot", onehot, positions)], remainder="passthrough", sparse_threshold=0)


def fit_settings(pipeline: Pipeline, X: Any, *, n_jobs: int | None) -> Pipeline:
    """Settings that change how fast ``pipeline`` fits on ``X`` (or on any subset of its rows), never what it learns.

    * Forests get the task's thread budget as ``n_jobs`` (a seeded forest is the same for any ``n_jobs``); a
      value in ``model_params`` is capped by it, ``-1`` means the budget. None (no budget in force): left as
      configured.
    * The ordinal encoder's ``max_categories`` is dropped when no categorical column of ``X`` reaches it: it
      changes nothing then, and makes scikit-learn count values in Python (0.78 s instead of 0.25 s per fit on
      two columns of 240k rows).
    """
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.preprocessing import OrdinalEncoder

    if n_jobs is not None:
        model = pipeline.steps[-1][1]
        if isinstance(model, RandomForestClassifier | ExtraTreesClassifier):
            asked = model.n_jobs
            model.set_params(n_jobs=n_jobs if asked is None or asked < 1 else min(asked, n_jobs))
    preprocess = pipeline.named_steps.get("preprocess")
    for name, encoder, columns in getattr(preprocess, "transformers", []):
        capped = isinstance(encoder, OrdinalEncoder) and encoder.max_categories is not None
        if capped and all(X[c].nunique(dropna=True) + 1 < encoder.max_categories for c in columns):
            pipeline.set_params(**{f"preprocess__{name}__max_categories": None})
    return pipeline
