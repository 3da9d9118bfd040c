"""The common checks every strategy in the registry passes, driven by what each one declares (its tags).

Each strategy is built on every feature layout it declares (numeric only, mixed, categorical only) and refused
on every other one; no test here names a strategy.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from imbalance_jobs.config import RESAMPLER_NAMES, SMOTE_FAMILY, CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.models import build_pipeline, scoring_pipeline
from imbalance_jobs.resampling import FEATURE_LAYOUTS, STRATEGIES, build_strategy, check_strategy

FAST = {"hist_gradient_boosting": {"max_iter": 15}, "logistic_regression": {}}
FIXTURE = {"numeric": "numeric_only", "mixed": "mixed", "categorical": "categorical_only"}
ACCEPTED = [(name, layout) for name, entry in STRATEGIES.items() for layout in sorted(entry.tags.layouts)]
REFUSED = [
    (name, layout) for name, entry in STRATEGIES.items() for layout in sorted(FEATURE_LAYOUTS - entry.tags.layouts)
]
WITH_CATEGORICALS = [(n, layout) for n, layout in ACCEPTED if layout != "numeric" and STRATEGIES[n].tags.resamples]


def _case(request: pytest.FixtureRequest, layout: str):
    return request.getfixturevalue(FIXTURE[layout])


@pytest.mark.parametrize("model", sorted(FAST))
@pytest.mark.parametrize(("name", "layout"), ACCEPTED)
def test_strategy_builds_fits_and_predicts(name, layout, model, request) -> None:
    frame, y, features = _case(request, layout)
    candidate = CandidateConfig(name="c1", model=model, model_params=FAST[model], imbalance=name)
    check_strategy(candidate, features, y, cv_folds=3)
    pipeline = build_pipeline(candidate, features, y, seed=0).fit(frame, y)
    proba = scoring_pipeline(pipeline).predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert ("sampler" in pipeline.named_steps) == STRATEGIES[name].tags.resamples
    assert not any(hasattr(step, "fit_resample") for _, step in scoring_pipeline(pipeline).steps)


@pytest.mark.parametrize(("name", "layout"), REFUSED)
def test_strategy_refuses_a_feature_layout_it_does_not_declare(name, layout, request) -> None:
    _, y, features = _case(request, layout)
    named = str(list(features.categorical)).replace("[", r"\[").replace("]", r"\]") if features.categorical else ""
    with pytest.raises(StrategyError, match=rf"^candidates 'c1' > imbalance: {name} needs .*; got .*{named}"):
        check_strategy(CandidateConfig(name="c1", imbalance=name), features, y, cv_folds=3)


@pytest.mark.parametrize("model", sorted(FAST))
@pytest.mark.parametrize(("name", "layout"), WITH_CATEGORICALS)
def test_strategy_resampled_categoricals_are_original_categories(name, layout, model, request) -> None:
    """No fractional dummies: every categorical value (a code, or a one-hot block) after the sampler was seen."""
    frame, y, features = _case(request, layout)
    candidate = CandidateConfig(name="c1", model=model, model_params=FAST[model], imbalance=name)
    pipeline = build_pipeline(candidate, features, y, seed=0)
    upto = [step for step, _ in pipeline.steps].index("sampler")
    X = pipeline[:upto].fit_transform(frame, y)
    X_res, _ = pipeline.named_steps["sampler"].fit_resample(X, y)
    for feature, cols in zip(features.categorical, _categorical_blocks(pipeline.named_steps["preprocess"])):
        seen, made = {tuple(row) for row in X[:, cols]}, {tuple(row) for row in X_res[:, cols]}
        assert made <= seen, f"{feature}: resampled values never seen before, e.g. {sorted(made - seen)[:2]}"


def _categorical_blocks(preprocess) -> list[list[int]]:
    """Columns of each categorical feature in the preprocessed matrix: its code, or its one-hot block."""
    start = preprocess.output_indices_["categorical"].start
    encoder = preprocess.named_transformers_["categorical"]
    widths = [len(c) for c in encoder.categories_] if hasattr(encoder, "drop_idx_") else [1] * len(encoder.categories_)
    edges = np.cumsum([start, *widths])
    return [list(range(lo, hi)) for lo, hi in pairwise(edges)]


@pytest.mark.parametrize(
    "name", [name for name, entry in STRATEGIES.items() if entry.tags.interpolates and "mixed" in entry.tags.layouts]
)
def test_strategy_that_interpolates_categoricals_votes_them(name, mixed) -> None:
    _, y, features = mixed
    strategy = build_strategy(CandidateConfig(name="c1", imbalance=name), features, y, seed=0)
    smote = getattr(strategy.sampler, "smote", strategy.sampler)
    assert (type(smote).__name__, strategy.categorical) == ("SMOTENC", "ordinal")


def test_strategy_tags_match_the_config_name_lists() -> None:
    """The schema cannot import the registry; its light name lists must say what the registry declares."""
    assert tuple(name for name, entry in STRATEGIES.items() if entry.tags.resamples) == RESAMPLER_NAMES
    assert tuple(name for name, entry in STRATEGIES.items() if entry.tags.interpolates) == SMOTE_FAMILY


@pytest.mark.parametrize("name", [name for name, entry in STRATEGIES.items() if entry.tags.resamples])
def test_strategy_sampler_is_seeded_from_the_config_seed(name, request) -> None:
    _, y, features = _case(request, min(STRATEGIES[name].tags.layouts))
    sampler = build_strategy(CandidateConfig(name="c1", imbalance=name), features, y, seed=123).sampler
    params = sampler.get_params()
    if "random_state" in params:
        assert params["random_state"] == 123
        assert all(v == 123 for k, v in params.items() if k.endswith("__random_state"))
