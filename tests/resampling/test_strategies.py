"""The common check every strategy in the registry passes: build, fit, predict_proba, no sampler at scoring."""

from __future__ import annotations

import numpy as np
import pytest

from imbalance_jobs.config import RESAMPLER_NAMES, STRATEGY_NAMES, CandidateConfig
from imbalance_jobs.models import build_pipeline, scoring_pipeline
from imbalance_jobs.resampling import build_strategy, check_strategy

FAST = {"hist_gradient_boosting": {"max_iter": 15}, "logistic_regression": {}}


@pytest.mark.parametrize("model", sorted(FAST))
@pytest.mark.parametrize("name", STRATEGY_NAMES)
def test_strategy_builds_fits_and_predicts(name, model, mixed, categorical_only) -> None:
    frame, y, features = categorical_only if name == "smoten" else mixed
    candidate = CandidateConfig(name="c1", model=model, model_params=FAST[model], imbalance=name)
    check_strategy(candidate, features, y, cv_folds=3)
    pipeline = build_pipeline(candidate, features, y, seed=0).fit(frame, y)
    proba = scoring_pipeline(pipeline).predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ("sampler" in pipeline.named_steps) == (name in RESAMPLER_NAMES)
    assert not any(hasattr(step, "fit_resample") for _, step in scoring_pipeline(pipeline).steps)


@pytest.mark.parametrize("name", RESAMPLER_NAMES)
def test_strategy_sampler_is_seeded_from_the_config_seed(name, mixed, categorical_only) -> None:
    _, y, features = categorical_only if name == "smoten" else mixed
    sampler = build_strategy(CandidateConfig(name="c1", imbalance=name), features, y, seed=123).sampler
    params = sampler.get_params()
    if "random_state" in params:
        assert params["random_state"] == 123
        assert all(v == 123 for k, v in params.items() if k.endswith("__random_state"))
