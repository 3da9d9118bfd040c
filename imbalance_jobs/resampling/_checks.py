"""Checks that refuse, before any training, a strategy that cannot work on the training rows."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling._registry import STRATEGIES, build_strategy

if TYPE_CHECKING:
    import numpy as np

__all__ = ["check_strategy"]

_NEIGHBOUR_PARAMS = {"ADASYN": "n_neighbors"}  # default: k_neighbors; neighbours searched within one class


def check_strategy(candidate: CandidateConfig, features: FeatureSpec, y: np.ndarray, *, cv_folds: int) -> None:
    """Refuse, before any training, a strategy that cannot work on these training rows.

    Checks that every class fills ``cv_folds`` folds, that weighting and resampling are not combined, that the
    strategy accepts these feature kinds (its declared ``layouts``), that the sampler's parameters pass its own
    validation, that ``sampling_strategy`` is reachable, and that
    neighbour-based samplers have more rows per class and CV training fold than ``k_neighbors``.

    Raises
    ------
    StrategyError
        Naming the candidate, the key, the rule and the observed value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from imbalance_jobs.config import CandidateConfig
    >>> from imbalance_jobs.features import FeatureSpec
    >>> X, y = make_classification(n_samples=1000, weights=[0.95, 0.05], random_state=0)
    >>> cand = CandidateConfig(name="rf_smote", model="random_forest", imbalance="smote")
    >>> check_strategy(cand, FeatureSpec(numeric=("a",), categorical=()), y, cv_folds=5)
    >>> few = np.r_[np.zeros(97, dtype=int), np.ones(3, dtype=int)]
    >>> check_strategy(cand, FeatureSpec(numeric=("a",), categorical=()), few, cv_folds=3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    imbalance_jobs.errors.StrategyError: candidates 'rf_smote' > imbalance_params > k_neighbors: SMOTE needs ...; got k_neighbors=5 with 2 minority rows per fold (3 in the training rows, cv_folds=3)
    """
    import numpy as np

    y = np.asarray(y)
    fold_counts = _fold_counts(candidate, y, cv_folds)
    _check_double_correction(candidate)
    strategy = build_strategy(candidate, features, y, seed=0)
    if strategy.sampler is not None:
        sampler = getattr(strategy.sampler, "smote", None) or strategy.sampler
        _check_sampler(candidate, sampler, y, fold_counts, cv_folds)


def _fold_counts(candidate: CandidateConfig, y: np.ndarray, cv_folds: int) -> dict[int, int]:
    """Fewest rows of each class in any CV training fold (StratifiedKFold holds out at most ceil(n/k))."""
    import numpy as np

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise StrategyError(f"candidates '{candidate.name}': training rows hold one class {classes.tolist()}; need 2")
    for code, count in zip(classes, counts):
        if count < cv_folds:
            raise StrategyError(
                f"candidates '{candidate.name}': training rows hold {count} row(s) of class code {code}; "
                f"training.cv_folds={cv_folds} needs at least {cv_folds} per class"
            )
    return {int(c): int(n - math.ceil(n / cv_folds)) for c, n in zip(classes, counts)}


def _check_double_correction(candidate: CandidateConfig) -> None:
    where = f"candidates '{candidate.name}' > model_params"
    params, imbalance = candidate.model_params, candidate.imbalance
    resampling = STRATEGIES[imbalance].tags.resamples
    if "class_weight" in params:
        why = {
            True: f"weighting together with resampler '{imbalance}' corrects the imbalance twice; drop one",
            False: "set class weights with imbalance: class_weight and imbalance_params.class_weight, so "
            "calibration knows the model is weighted",
        }[resampling]
        raise StrategyError(f"{where} > class_weight: {why}")
    if resampling and candidate.is_torch:
        if params.get("loss") == "weighted_bce":
            raise StrategyError(
                f"{where} > loss: 'weighted_bce' weights the positive class and resampler '{imbalance}' also "
                f"rebalances it; use loss 'bce' or 'focal', or imbalance: none"
            )
        if params.get("balanced_batches"):
            raise StrategyError(
                f"{where} > balanced_batches: balanced batches oversample the positive class and resampler "
                f"'{imbalance}' also rebalances it; drop one"
            )


def _check_sampler(
    candidate: CandidateConfig, sampler: Any, y: np.ndarray, fold_counts: dict[int, int], cv_folds: int
) -> None:
    import numpy as np
    from imblearn.utils import check_sampling_strategy

    where = f"candidates '{candidate.name}' > imbalance_params"
    y_fold = np.repeat(list(fold_counts), list(fold_counts.values()))
    try:
        targets = check_sampling_strategy(sampler.sampling_strategy, y_fold, sampler._sampling_type)
    except ValueError as exc:
        raise StrategyError(
            f"{where} > sampling_strategy: {exc} (got {sampler.sampling_strategy!r}; rows per class and CV "
            f"training fold: {fold_counts})"
        ) from exc
    if sampler._sampling_type != "over-sampling":
        return
    key = _NEIGHBOUR_PARAMS.get(type(sampler).__name__, "k_neighbors")
    k = getattr(sampler, key, None)
    generated = [c for c, n in targets.items() if n > 0]
    if not isinstance(k, int) or not generated:
        return
    code = min(generated, key=lambda c: fold_counts[int(c)])
    rows = fold_counts[int(code)]
    if k >= rows:
        total = int(np.sum(y == code))
        raise StrategyError(
            f"{where} > {key}: {type(sampler).__name__} needs {key} < minority rows per CV training fold; "
            f"got {key}={k} with {rows} minority rows per fold ({total} in the training rows, cv_folds={cv_folds})"
        )
