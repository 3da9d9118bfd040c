"""The strategy registry: config name -> builder of the pipeline parts (sampler, class weights, PCA)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling._params import make_estimator

__all__ = ["STRATEGIES", "Strategy", "StrategyBuilder", "StrategyRequest", "build_strategy"]

CategoricalNeed = Literal["any", "ordinal", "onehot"]


@dataclass(frozen=True)
class Strategy:
    """The pipeline parts of one imbalance strategy."""

    name: str
    sampler: Any | None = None
    class_weight: str | dict[int, float] | None = None
    pca: Any | None = None
    categorical: CategoricalNeed = "any"

    @property
    def sampler_name(self) -> str | None:
        """The imbalanced-learn class actually used (``"SMOTENC"`` when ``smote`` switched), or None."""
        return type(self.sampler).__name__ if self.sampler is not None else None


@dataclass(frozen=True)
class StrategyRequest:
    """What a builder may look at: the candidate, the feature kinds, the training labels and the seed."""

    candidate: CandidateConfig
    features: FeatureSpec
    y: np.ndarray
    seed: int

    @property
    def where(self) -> str:
        return f"candidates '{self.candidate.name}' > imbalance_params"

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.candidate.imbalance_params)

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of the categorical columns in the matrix the sampler sees (after numeric columns or PCA)."""
        width = self.candidate.pca_components or len(self.features.numeric)
        return list(range(width, width + len(self.features.categorical)))


StrategyBuilder = Callable[[StrategyRequest], Strategy]


# -- builders ---------------------------------------------------------------------------------------------------
def _imblearn(path: str) -> type:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _none(req: StrategyRequest) -> Strategy:
    if req.params:
        raise StrategyError(f"{req.where}: imbalance 'none' takes no parameters; got {sorted(req.params)}")
    return Strategy(name="none")


def _class_weight(req: StrategyRequest) -> Strategy:
    params = req.params
    unknown = sorted(set(params) - {"class_weight"})
    if unknown:
        raise StrategyError(f"{req.where} > {unknown[0]}: class_weight takes only 'class_weight'")
    weight = params.get("class_weight", "balanced")
    if isinstance(weight, Mapping):
        weight = _explicit_weights(weight, req)
    elif weight not in ("balanced", "balanced_subsample"):
        raise StrategyError(
            f"{req.where} > class_weight: must be 'balanced' or a mapping class code -> weight; got {weight!r}"
        )
    return Strategy(name="class_weight", class_weight=weight)


def _explicit_weights(weight: Mapping[Any, Any], req: StrategyRequest) -> dict[int, float]:
    """Keys are class codes (binary: 0 negative, 1 positive); classes left out keep weight 1."""
    present = sorted(int(c) for c in np.unique(req.y))
    out: dict[int, float] = {}
    for key, value in weight.items():
        try:
            code = int(key)
        except (TypeError, ValueError):
            code = None
        if code not in present:
            raise StrategyError(
                f"{req.where} > class_weight > {key}: keys are class codes {present} (binary: 0 negative, 1 positive)"
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise StrategyError(f"{req.where} > class_weight > {key}: must be a number > 0; got {value!r}")
        out[code] = float(value)
    return out


def _simple(path: str, categorical: CategoricalNeed, *, seeded: bool = True) -> StrategyBuilder:
    """A sampler whose params pass straight through."""

    def build(req: StrategyRequest) -> Strategy:
        fixed = {"random_state": req.seed} if seeded else {}
        sampler = make_estimator(_imblearn(path), req.params, where=req.where, fixed=fixed)
        return _with_pca(req, sampler, categorical if req.features.categorical else "any")

    return build


def _smote(req: StrategyRequest) -> Strategy:
    """SMOTE; SMOTENC when categorical features are present; SMOTEN when every feature is categorical."""
    if not req.features.categorical:
        return _simple("imblearn.over_sampling.SMOTE", "any")(req)
    if not req.features.numeric:
        return _smoten(req)
    return _smotenc(req)


def _smotenc(req: StrategyRequest) -> Strategy:
    if not req.features.categorical:
        raise StrategyError(
            f"candidates '{req.candidate.name}' > imbalance: smotenc needs categorical features; "
            f"every feature is numeric ({len(req.features.numeric)} columns): use smote"
        )
    if not req.features.numeric:
        raise StrategyError(
            f"candidates '{req.candidate.name}' > imbalance: smotenc needs at least one numeric feature; "
            f"every feature is categorical: use smoten"
        )
    fixed = {"random_state": req.seed, "categorical_features": req.categorical_indices}
    sampler = make_estimator(_imblearn("imblearn.over_sampling.SMOTENC"), req.params, where=req.where, fixed=fixed)
    return _with_pca(req, sampler, "ordinal")


def _smoten(req: StrategyRequest) -> Strategy:
    if req.features.numeric or not req.features.categorical:
        raise StrategyError(
            f"candidates '{req.candidate.name}' > imbalance: smoten needs categorical features only; got "
            f"{len(req.features.numeric)} numeric and {len(req.features.categorical)} categorical: use smotenc or smote"
        )
    sampler = make_estimator(
        _imblearn("imblearn.over_sampling.SMOTEN"), req.params, where=req.where, fixed={"random_state": req.seed}
    )
    return _with_pca(req, sampler, "ordinal")


def _combined(path: str, cleaner: str, cleaner_keys: tuple[str, ...]) -> StrategyBuilder:
    """SMOTE then a cleaning step; ``k_neighbors`` goes to the SMOTE part, ``cleaner_keys`` to the cleaner."""

    def build(req: StrategyRequest) -> Strategy:
        params = req.params
        outer_keys, smote_keys = ("sampling_strategy", "n_jobs"), ("k_neighbors",)
        unknown = sorted(set(params) - {*outer_keys, *smote_keys, *cleaner_keys})
        if unknown:
            raise StrategyError(
                f"{req.where} > {unknown[0]}: not a parameter of {req.candidate.imbalance}; "
                f"known: {sorted({*outer_keys, *smote_keys, *cleaner_keys})}"
            )
        ratio = {"sampling_strategy": params["sampling_strategy"]} if "sampling_strategy" in params else {}
        smote_params = {**ratio, **{k: params[k] for k in smote_keys if k in params}}
        smote = make_estimator(
            _imblearn("imblearn.over_sampling.SMOTE"), smote_params, where=req.where, fixed={"random_state": req.seed}
        )
        clean_params = {k: params[k] for k in cleaner_keys if k in params}
        clean = make_estimator(_imblearn(cleaner), {"sampling_strategy": "all", **clean_params}, where=req.where)
        outer = {k: params[k] for k in outer_keys if k in params}
        second = "tomek" if "Tomek" in path else "enn"
        fixed = {"random_state": req.seed, "smote": smote, second: clean}
        sampler = make_estimator(_imblearn(path), outer, where=req.where, fixed=fixed)
        return _with_pca(req, sampler, "onehot" if req.features.categorical else "any")

    return build


def _with_pca(req: StrategyRequest, sampler: Any, categorical: CategoricalNeed) -> Strategy:
    return Strategy(name=req.candidate.imbalance, sampler=sampler, pca=_pca_step(req), categorical=categorical)


def _pca_step(req: StrategyRequest) -> Any | None:
    """PCA on the numeric columns only (categorical columns pass through, after the components)."""
    k = req.candidate.pca_components
    if k is None:
        return None
    n_numeric = len(req.features.numeric)
    if k > n_numeric:
        raise StrategyError(
            f"candidates '{req.candidate.name}' > pca_components: PCA compresses the {n_numeric} numeric "
            f"feature(s); got pca_components={k}"
        )
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, random_state=req.seed)
    return ColumnTransformer([("pca", pca, list(range(n_numeric)))], remainder="passthrough", sparse_threshold=0)


STRATEGIES: dict[str, StrategyBuilder] = {
    "none": _none,
    "class_weight": _class_weight,
    "random_over": _simple("imblearn.over_sampling.RandomOverSampler", "any"),
    "random_under": _simple("imblearn.under_sampling.RandomUnderSampler", "any"),
    "smote": _smote,
    "borderline_smote": _simple("imblearn.over_sampling.BorderlineSMOTE", "onehot"),
    "svm_smote": _simple("imblearn.over_sampling.SVMSMOTE", "onehot"),
    "adasyn": _simple("imblearn.over_sampling.ADASYN", "onehot"),
    "smotenc": _smotenc,
    "smoten": _smoten,
    "tomek": _simple("imblearn.under_sampling.TomekLinks", "onehot", seeded=False),
    "enn": _simple("imblearn.under_sampling.EditedNearestNeighbours", "onehot", seeded=False),
    "smote_tomek": _combined("imblearn.combine.SMOTETomek", "imblearn.under_sampling.TomekLinks", ()),
    "smote_enn": _combined(
        "imblearn.combine.SMOTEENN", "imblearn.under_sampling.EditedNearestNeighbours", ("n_neighbors", "kind_sel")
    ),
}
"""Config name -> builder. Keys equal ``imbalance_jobs.config.STRATEGY_NAMES`` (tests/test_registries.py)."""


# -- public entry points ----------------------------------------------------------------------------------------
def build_strategy(candidate: CandidateConfig, features: FeatureSpec, y: np.ndarray, *, seed: int) -> Strategy:
    """The sampler, class weights and PCA step of ``candidate.imbalance``, seeded from ``seed``.

    Parameters
    ----------
    candidate : CandidateConfig
        ``imbalance`` picks the registry entry; ``imbalance_params`` pass through to it.
    features : FeatureSpec
        Feature kinds: categorical columns switch ``smote`` to SMOTENC and fix the SMOTENC column positions.
    y : ndarray of int
        Training label codes (checks explicit class weights against the classes present).
    seed : int
        The config seed, used as every ``random_state``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from imbalance_jobs.config import CandidateConfig
    >>> from imbalance_jobs.features import FeatureSpec
    >>> X, y = make_classification(n_samples=1000, weights=[0.95, 0.05], random_state=0)
    >>> cand = CandidateConfig(name="rf_smote", model="random_forest", imbalance="smote",
    ...                        imbalance_params={"sampling_strategy": 0.5})
    >>> strategy = build_strategy(cand, FeatureSpec(numeric=("a", "b"), categorical=()), y, seed=0)
    >>> strategy.sampler_name
    'SMOTE'
    >>> X_res, y_res = strategy.sampler.fit_resample(X, y)
    >>> int((y_res == 1).sum()) * 2 == int((y_res == 0).sum())
    True
    """
    try:
        builder = STRATEGIES[candidate.imbalance]
    except KeyError:
        raise StrategyError(
            f"candidates '{candidate.name}' > imbalance: unknown strategy '{candidate.imbalance}'; "
            f"known: {sorted(STRATEGIES)}"
        ) from None
    return builder(StrategyRequest(candidate=candidate, features=features, y=np.asarray(y), seed=seed))
