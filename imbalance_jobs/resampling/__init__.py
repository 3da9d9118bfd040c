"""Imbalance strategies: a registry from the config name to what goes into the training pipeline.

A strategy is either a *weighting* (``class_weight`` handed to the model) or a *sampler* (an imbalanced-learn
object placed in an ``imblearn.pipeline.Pipeline``). Samplers act in ``fit`` only, so cross-validation resamples
inside each training fold and the validation and test rows are never resampled; at predict time they do nothing
and are left out of the saved scoring pipeline (:func:`imbalance_jobs.models.scoring_pipeline`).

``imbalance_params`` are passed through to the sampler (``sampling_strategy: 0.5`` keeps a 1:2 ratio) and checked
with the sampler's own parameter validation; errors name the candidate and the key. ``random_state`` always comes
from the config seed.

Declared capabilities. Every registry entry carries :class:`StrategyTags`, data in the manner of scikit-learn's
estimator tags: ``resamples`` (``none`` and ``class_weight`` do not), ``interpolates`` (creates synthetic rows
between neighbours: the SMOTE family), ``layouts`` (the feature sets it accepts: ``numeric``, ``mixed``,
``categorical``) and ``encoding`` (how categorical columns must reach it). Checks read the tags, not lists of
names; :func:`layout_problem` gives the one wording used by ``config validate`` and by training.

Categorical features. The sampler sees the preprocessed matrix: numeric columns (imputed, scaled, optionally
compressed by PCA) first, then the categorical columns. ``encoding`` tells the model registry how:

``"ordinal"``  integer codes. ``smote``, ``smote_tomek`` and ``smote_enn`` switch to SMOTENC, which
               interpolates numbers and votes categories (``smote`` to SMOTEN when every feature is
               categorical); ``smotenc`` and ``smoten`` are those forms by name. The cleaning step of
               smote_tomek / smote_enn measures distances on the codes, so they need numeric features too.
``"onehot"``   0/1 indicator columns, so nearest-neighbour distances mean something: tomek, enn (they remove
               rows, never create them).
``"any"``      the sampler copies or drops whole rows (random_over, random_under) or there is no sampler; the
               model picks (native categories for hist_gradient_boosting, codes for torch_mlp, one-hot else).

borderline_smote, svm_smote and adasyn interpolate and have no categorical-aware form in imbalanced-learn: they
accept numeric features only, and are refused with categorical features (they would create fractional dummies).
"""

from imbalance_jobs.resampling._checks import check_strategy
from imbalance_jobs.resampling._params import make_estimator, reword_param_error
from imbalance_jobs.resampling._registry import (
    FEATURE_LAYOUTS,
    STRATEGIES,
    FeatureLayout,
    RegisteredStrategy,
    Strategy,
    StrategyBuilder,
    StrategyRequest,
    StrategyTags,
    build_strategy,
    feature_layout,
    layout_problem,
    listed_layout_problems,
)

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
    "check_strategy",
    "feature_layout",
    "layout_problem",
    "listed_layout_problems",
    "make_estimator",
    "reword_param_error",
]
