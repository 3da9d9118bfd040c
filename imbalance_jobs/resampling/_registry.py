"""The strategy registry: config name -> declared capabilities (tags) + builder of the pipeline parts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from imbalance_jobs.config import CandidateConfig, FeaturesConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling._params import make_estimator

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "FEATURE_LAYOUTS",
    "STRATEGIES",
    "FeatureLayout",
    "RegisteredStrategy",
    "Strategy",
    "StrategyBuilder",
    "StrategyRequest",
    "StrategyTags",
    "build_strategy",
    "feature_layout",
    "layout_problem",
    "listed_layout_problems",
]

CategoricalNeed = Literal["any", "ordinal", "onehot"]
FeatureLayout = Literal["numeric", "mixed", "categorical"]
FEATURE_LAYOUTS: frozenset[FeatureLayout] = frozenset(("numeric", "mixed", "categorical"))
"""Feature sets by kind: numeric only, numeric and categorical together, categorical only."""


@dataclass(frozen=True)
class StrategyTags:
    """What a strategy does, declared as data next to its builder (as scikit-learn's estimator tags).

    Checks read these instead of lists of names, so a new strategy is judged by what it declares.

    Attributes
    ----------
    resamples : bool
        Puts a sampler in the pipeline (``none`` and ``class_weight`` do not).
    interpolates : bool
        Creates synthetic rows between neighbours (the SMOTE family). SMOTEN does not: it votes each feature's
        most frequent category among the neighbours, so no value lies between two others.
    layouts : frozenset of {"numeric", "mixed", "categorical"}
        The feature sets it accepts. An interpolating sampler without a categorical-aware form in
        imbalanced-learn (BorderlineSMOTE, SVMSMOTE, ADASYN) accepts numeric features only: on one-hot columns
        it would create fractional dummies such as [0.4, 0.6].
    encoding : {"any", "ordinal", "onehot"}
        How categorical columns must reach it: category codes (SMOTENC, SMOTEN vote categories), one-hot
        indicators (distance-based cleaning), or the model's choice (whole rows copied or dropped).
    """

    resamples: bool = True
    interpolates: bool = False
    layouts: frozenset[FeatureLayout] = FEATURE_LAYOUTS
    encoding: CategoricalNeed = "any"


@dataclass(frozen=True)
class Strategy:
    """The pipeline parts of one imbalance strategy, with the capabilities its registry entry declares."""

    name: str
    sampler: Any | None = None
    class_weight: str | dict[int, float] | None = None
    pca: Any | None = None
    categorical: CategoricalNeed = "any"
    tags: StrategyTags = field(default_factory=StrategyTags)

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
    import numpy as np

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


def _simple(path: str, *, seeded: bool = True) -> StrategyBuilder:
    """A sampler whose params pass straight through."""

    def build(req: StrategyRequest) -> Strategy:
        fixed = {"random_state": req.seed} if seeded else {}
        sampler = make_estimator(_imblearn(path), req.params, where=req.where, fixed=fixed)
        return _with_pca(req, sampler)

    return build


def _smote(req: StrategyRequest) -> Strategy:
    """SMOTE; SMOTENC when categorical features are present; SMOTEN when every feature is categorical."""
    return _with_pca(req, _smote_like(req, req.params))


def _smote_like(req: StrategyRequest, params: Mapping[str, Any]) -> Any:
    """The categorical-aware SMOTE for these feature kinds: SMOTE, SMOTENC (mixed) or SMOTEN (categorical only)."""
    fixed: dict[str, Any] = {"random_state": req.seed}
    path = {"numeric": "SMOTE", "mixed": "SMOTENC", "categorical": "SMOTEN"}[feature_layout(req.features)]
    if path == "SMOTENC":
        fixed["categorical_features"] = req.categorical_indices
    return make_estimator(_imblearn(f"imblearn.over_sampling.{path}"), params, where=req.where, fixed=fixed)


def _combined(path: str, cleaner: str, cleaner_keys: tuple[str, ...]) -> StrategyBuilder:
    """SMOTE (SMOTENC with categorical features) then a cleaning step; ``k_neighbors`` goes to the SMOTE part,
    ``cleaner_keys`` to the cleaner. The cleaner measures distances on the category codes."""

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
        smote = _smote_like(req, {**ratio, **{k: params[k] for k in smote_keys if k in params}})
        clean_params = {k: params[k] for k in cleaner_keys if k in params}
        clean = make_estimator(_imblearn(cleaner), {"sampling_strategy": "all", **clean_params}, where=req.where)
        outer = {k: params[k] for k in outer_keys if k in params}
        second = "tomek" if "Tomek" in path else "enn"
        fixed = {"random_state": req.seed, "smote": smote, second: clean}
        sampler = make_estimator(_imblearn(path), outer, where=req.where, fixed=fixed)
        return _with_pca(req, sampler)

    return build


def _with_pca(req: StrategyRequest, sampler: Any) -> Strategy:
    return Strategy(name=req.candidate.imbalance, sampler=sampler, pca=_pca_step(req))


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


@dataclass(frozen=True)
class RegisteredStrategy:
    """One registry entry: what the strategy declares it does, and how to build it."""

    build: StrategyBuilder
    tags: StrategyTags


_WEIGHTING = StrategyTags(resamples=False)
_COPIES = StrategyTags()  # copies or drops whole rows: any layout, categorical columns as the model wants them
_VOTES = StrategyTags(interpolates=True, encoding="ordinal")  # SMOTENC / SMOTEN with categorical features
# SMOTENC inside, then a cleaner that measures distances on category codes: numeric features must carry them
_VOTES_THEN_CLEANS = replace(_VOTES, layouts=frozenset({"numeric", "mixed"}))
_NUMERIC_ONLY = StrategyTags(interpolates=True, layouts=frozenset({"numeric"}))  # no categorical-aware form
_DISTANCES = StrategyTags(encoding="onehot")  # removes rows by nearest-neighbour distances

STRATEGIES: dict[str, RegisteredStrategy] = {
    "none": RegisteredStrategy(_none, _WEIGHTING),
    "class_weight": RegisteredStrategy(_class_weight, _WEIGHTING),
    "random_over": RegisteredStrategy(_simple("imblearn.over_sampling.RandomOverSampler"), _COPIES),
    "random_under": RegisteredStrategy(_simple("imblearn.under_sampling.RandomUnderSampler"), _COPIES),
    "smote": RegisteredStrategy(_smote, _VOTES),
    "borderline_smote": RegisteredStrategy(_simple("imblearn.over_sampling.BorderlineSMOTE"), _NUMERIC_ONLY),
    "svm_smote": RegisteredStrategy(_simple("imblearn.over_sampling.SVMSMOTE"), _NUMERIC_ONLY),
    "adasyn": RegisteredStrategy(_simple("imblearn.over_sampling.ADASYN"), _NUMERIC_ONLY),
    "smotenc": RegisteredStrategy(_smote, replace(_VOTES, layouts=frozenset({"mixed"}))),
    "smoten": RegisteredStrategy(
        _smote, StrategyTags(interpolates=False, layouts=frozenset({"categorical"}), encoding="ordinal")
    ),
    "tomek": RegisteredStrategy(_simple("imblearn.under_sampling.TomekLinks", seeded=False), _DISTANCES),
    "enn": RegisteredStrategy(_simple("imblearn.under_sampling.EditedNearestNeighbours", seeded=False), _DISTANCES),
    "smote_tomek": RegisteredStrategy(
        _combined("imblearn.combine.SMOTETomek", "imblearn.under_sampling.TomekLinks", ()), _VOTES_THEN_CLEANS
    ),
    "smote_enn": RegisteredStrategy(
        _combined(
            "imblearn.combine.SMOTEENN", "imblearn.under_sampling.EditedNearestNeighbours", ("n_neighbors", "kind_sel")
        ),
        _VOTES_THEN_CLEANS,
    ),
}
"""Config name -> tags + builder. Keys equal ``imbalance_jobs.config.STRATEGY_NAMES`` (tests/test_registries.py)."""


# -- public entry points ----------------------------------------------------------------------------------------
def feature_layout(features: FeatureSpec) -> FeatureLayout:
    """``numeric``, ``mixed`` or ``categorical``: which kinds of feature the sampler will see."""
    if not features.categorical:
        return "numeric"
    return "mixed" if features.numeric else "categorical"


def layout_problem(
    candidate: CandidateConfig, layouts: Collection[FeatureLayout], categorical: Sequence[str]
) -> str | None:
    """Why ``candidate.imbalance`` cannot take features of these ``layouts``, or None when one of them fits.

    One wording for both places that judge it: ``config validate`` (``layouts`` are those the listed features
    allow) and training (the one layout of the resolved features).

    Examples
    --------
    >>> from imbalance_jobs.config import CandidateConfig, FeaturesConfig
    >>> cand = CandidateConfig(name="bsmote", imbalance="borderline_smote")
    >>> print(layout_problem(cand, {"mixed"}, ["channel"]))  # doctest: +NORMALIZE_WHITESPACE
    candidates 'bsmote' > imbalance: borderline_smote needs numeric features only; got numeric features and
    categorical features ['channel']: it interpolates between neighbours and imbalanced-learn has no categorical-aware form of it, so
    their one-hot columns would get fractional values; interpolating strategies that accept them: smote,
    smote_enn, smote_tomek, smotenc
    >>> layout_problem(cand, {"numeric"}, []) is None
    True
    """
    tags = STRATEGIES[candidate.imbalance].tags
    layouts = frozenset(layouts)
    if tags.layouts & layouts:
        return None
    got = _describe_features(layouts, categorical)
    why = (
        ": it interpolates between neighbours and imbalanced-learn has no categorical-aware form of it, so their "
        "one-hot columns would get fractional values"
        if tags.interpolates and "numeric" in tags.layouts and "numeric" not in layouts
        else ""
    )
    fits = sorted(name for name, e in STRATEGIES.items() if e.tags.interpolates and e.tags.layouts & layouts)
    return (
        f"candidates '{candidate.name}' > imbalance: {candidate.imbalance} needs {_describe_layouts(tags.layouts)}; "
        f"got {got}{why}; interpolating strategies that accept them: {', '.join(fits) or 'none'}"
    )


def listed_layout_problems(features: FeaturesConfig, candidates: Sequence[CandidateConfig]) -> list[str]:
    """:func:`layout_problem` of each candidate against the feature kinds the config lists, for config validation.

    A list left out (``None``) may be inferred either way, so only a strategy that fits none of the possible
    layouts is refused; training judges the rest once the data's feature kinds are known.
    """
    kinds = [None if listed is None else bool(listed) for listed in (features.numeric, features.categorical)]
    numeric, categorical = ([True, False] if kind is None else [kind] for kind in kinds)
    layouts = {
        feature_layout(FeatureSpec(numeric=("n",) * has_num, categorical=("c",) * has_cat))
        for has_num in numeric
        for has_cat in categorical
        if has_num or has_cat
    }
    problems = [(i, layout_problem(cand, layouts, features.categorical or [])) for i, cand in enumerate(candidates)]
    return [f"training.candidates[{i}]: {problem}" for i, problem in problems if problem]


def _describe_layouts(layouts: frozenset[FeatureLayout]) -> str:
    words = {"numeric": "numeric features only", "mixed": "numeric and categorical features together"}
    words["categorical"] = "categorical features only"
    return " or ".join(words[layout] for layout in sorted(layouts, key=["numeric", "mixed", "categorical"].index))


def _describe_features(layouts: frozenset[FeatureLayout], categorical: Sequence[str]) -> str:
    if "numeric" in layouts:
        return "numeric features only (no categorical features)" if len(layouts) == 1 else "numeric features"
    if layouts == {"mixed"}:
        return f"numeric features and categorical features {list(categorical)}"
    only = " only" if layouts == {"categorical"} else ""
    return f"categorical features{only} {list(categorical)}"


def build_strategy(candidate: CandidateConfig, features: FeatureSpec, y: np.ndarray, *, seed: int) -> Strategy:
    """The sampler, class weights and PCA step of ``candidate.imbalance``, seeded from ``seed``.

    Parameters
    ----------
    candidate : CandidateConfig
        ``imbalance`` picks the registry entry; ``imbalance_params`` pass through to it.
    features : FeatureSpec
        Feature kinds: categorical columns switch ``smote``, ``smote_tomek`` and ``smote_enn`` to SMOTENC (SMOTEN
        when every feature is categorical) and fix the SMOTENC column positions.
    y : ndarray of int
        Training label codes (checks explicit class weights against the classes present).
    seed : int
        The config seed, used as every ``random_state``.

    Raises
    ------
    StrategyError
        If the strategy does not accept these feature kinds (see :func:`layout_problem`) or refuses its params.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from imbalance_jobs.config import CandidateConfig, FeaturesConfig
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
    import numpy as np

    try:
        entry = STRATEGIES[candidate.imbalance]
    except KeyError:
        raise StrategyError(
            f"candidates '{candidate.name}' > imbalance: unknown strategy '{candidate.imbalance}'; "
            f"known: {sorted(STRATEGIES)}"
        ) from None
    problem = layout_problem(candidate, {feature_layout(features)}, features.categorical)
    if problem:
        raise StrategyError(problem)
    strategy = entry.build(StrategyRequest(candidate=candidate, features=features, y=np.asarray(y), seed=seed))
    encoding = entry.tags.encoding if features.categorical else "any"
    return replace(strategy, categorical=encoding, tags=entry.tags)
