"""Imbalance strategies: a registry from the config name to what goes into the training pipeline.

A strategy is either a *weighting* (``class_weight`` handed to the model) or a *sampler* (an imbalanced-learn
object placed in an ``imblearn.pipeline.Pipeline``). Samplers act in ``fit`` only, so cross-validation resamples
inside each training fold and the validation and test rows are never resampled; at predict time they do nothing
and are left out of the saved scoring pipeline (:func:`imbalance_jobs.models.scoring_pipeline`).

``imbalance_params`` are passed through to the sampler (``sampling_strategy: 0.5`` keeps a 1:2 ratio) and checked
with the sampler's own parameter validation; errors name the candidate and the key. ``random_state`` always comes
from the config seed.

Categorical features. The sampler sees the preprocessed matrix: numeric columns (imputed, scaled, optionally
compressed by PCA) first, then the categorical columns. :attr:`Strategy.categorical` tells the model registry how
it needs those categorical columns:

``"ordinal"``  integer codes (SMOTENC interpolates numbers and votes categories; SMOTEN is for categories only).
               ``smote`` switches to SMOTENC by itself when categorical features are present (SMOTEN when every
               feature is categorical).
``"onehot"``   0/1 indicator columns, so nearest-neighbour distances mean something: borderline_smote,
               svm_smote, adasyn, tomek, enn, smote_tomek, smote_enn. Synthetic rows then carry interpolated
               indicator values; prefer ``smote`` (SMOTENC) when categorical features matter.
``"any"``      the sampler copies or drops whole rows (random_over, random_under) or there is no sampler; the
               model picks (native categories for hist_gradient_boosting, codes for torch_mlp, one-hot else).
"""

from imbalance_jobs.resampling._checks import check_strategy
from imbalance_jobs.resampling._params import make_estimator, reword_param_error
from imbalance_jobs.resampling._registry import (
    STRATEGIES,
    Strategy,
    StrategyBuilder,
    StrategyRequest,
    build_strategy,
)

__all__ = [
    "STRATEGIES",
    "Strategy",
    "StrategyBuilder",
    "StrategyRequest",
    "build_strategy",
    "check_strategy",
    "make_estimator",
    "reword_param_error",
]
