"""Estimator construction with the estimator's own parameter validation, errors re-worded to name the config key.

Shared by the strategy registry (``imbalance_params``) and the model registry (``model_params``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from imbalance_jobs.errors import StrategyError

__all__ = ["make_estimator", "reword_param_error"]

_INVALID = re.compile(r"The '(?P<key>\w+)' parameter of (?P<cls>\w+) must be (?P<rule>.*)\. Got (?P<got>.*) instead\.")


def make_estimator(cls: type, params: Mapping[str, Any], *, where: str, fixed: Mapping[str, Any] | None = None) -> Any:
    """``cls(**params, **fixed)`` validated by the estimator's own ``_validate_params``; errors name the key.

    ``fixed`` holds what the pipeline sets itself (``random_state`` from the seed, category positions); a user
    value for one of those keys is refused rather than silently overridden.
    """
    fixed = dict(fixed or {})
    clash = sorted(set(params) & set(fixed))
    if clash:
        raise StrategyError(f"{where} > {clash[0]}: set by the pipeline ({_owner(clash[0])}); remove it")
    known = set(cls._get_param_names())
    unknown = sorted(set(params) - known)
    if unknown:
        raise StrategyError(
            f"{where} > {unknown[0]}: not a parameter of {cls.__name__}; known: {sorted(known - set(fixed))}"
        )
    estimator = cls(**params, **fixed)
    validate = getattr(estimator, "_validate_params", None)
    if validate is not None:
        try:
            validate()
        except (TypeError, ValueError) as exc:  # sklearn's InvalidParameterError is both
            raise StrategyError(reword_param_error(exc, where)) from exc
    return estimator


def reword_param_error(exc: Exception, where: str) -> str:
    """``The 'k' parameter of SMOTE must be X. Got 0 instead.`` -> ``<where> > k: SMOTE needs X; got 0``."""
    match = _INVALID.search(str(exc))
    if not match:
        return f"{where}: {exc}"
    return f"{where} > {match['key']}: {match['cls']} needs {match['rule']}; got {match['got']}"


def _owner(key: str) -> str:
    return {
        "random_state": "from the config seed",
        "seed": "from the config seed",
        "categorical_features": "from the feature kinds",
        "n_categorical": "from the feature kinds",
        "class_weight": "use imbalance: class_weight with imbalance_params.class_weight",
    }.get(key, "derived from the config")
