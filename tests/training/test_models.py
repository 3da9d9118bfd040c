"""Model registry and pipelines: how categorical columns reach each model, seeds, parameter errors."""

from __future__ import annotations

import numpy as np
import pytest

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.models import MODELS, build_pipeline, categorical_layout, scoring_pipeline
from imbalance_jobs.resampling import build_strategy

MIXED = FeatureSpec(numeric=("f0", "f1", "f2", "amount"), categorical=("merchant_category", "channel"))


def _steps(pipeline) -> list[str]:
    return [name for name, _ in pipeline.steps]


def _fit(candidate: CandidateConfig, snapshot, features: FeatureSpec = MIXED):
    y = snapshot["is_fraud"].to_numpy()
    return build_pipeline(candidate, features, y, seed=0).fit(snapshot, y)


def test_build_pipeline_hist_gradient_boosting_uses_native_categories(snapshot) -> None:
    pipeline = _fit(CandidateConfig(name="hgb", model_params={"max_iter": 5}), snapshot)
    assert _steps(pipeline) == ["preprocess", "model"]
    assert pipeline.named_steps["model"].categorical_features == [4, 5]
    assert pipeline.named_steps["model"].is_categorical_.tolist() == [False] * 4 + [True] * 2


def test_build_pipeline_linear_model_gets_one_hot_columns(snapshot) -> None:
    pipeline = _fit(CandidateConfig(name="lr", model="logistic_regression"), snapshot)
    n_levels = sum(snapshot[c].nunique(dropna=False) for c in MIXED.categorical)
    assert pipeline.named_steps["model"].n_features_in_ == len(MIXED.numeric) + n_levels


def test_build_pipeline_smotenc_then_one_hot_for_forests(snapshot) -> None:
    pipeline = _fit(CandidateConfig(name="rf", model="random_forest", imbalance="smote"), snapshot)
    assert _steps(pipeline) == ["preprocess", "sampler", "encode", "model"]
    assert type(pipeline.named_steps["sampler"]).__name__ == "SMOTENC"
    assert _steps(scoring_pipeline(pipeline)) == ["preprocess", "encode", "model"]


def test_build_pipeline_distance_sampler_one_hot_encodes_categories_first(snapshot) -> None:
    candidate = CandidateConfig(name="hgb", model_params={"max_iter": 5}, imbalance="tomek")
    strategy = build_strategy(candidate, MIXED, snapshot["is_fraud"].to_numpy(), seed=0)
    assert categorical_layout("hist_gradient_boosting", strategy, MIXED) == "onehot"
    assert _fit(candidate, snapshot).named_steps["model"].categorical_features is None


def test_build_pipeline_pca_compresses_numeric_columns_only(snapshot) -> None:
    candidate = CandidateConfig(name="hgb", model_params={"max_iter": 5}, imbalance="smote", pca_components=2)
    pipeline = _fit(candidate, snapshot)
    assert _steps(pipeline) == ["preprocess", "pca", "sampler", "model"]
    assert pipeline.named_steps["model"].categorical_features == [2, 3]


def test_build_pipeline_unknown_and_missing_categories_score(snapshot) -> None:
    pipeline = scoring_pipeline(_fit(CandidateConfig(name="hgb", model_params={"max_iter": 5}), snapshot))
    odd = snapshot.head(3).assign(channel=["kiosk", None, "web"], f0=[np.nan, 1.0, 2.0])
    assert pipeline.predict_proba(odd).shape == (3, 2)


def test_build_pipeline_all_missing_numeric_column_keeps_positions(snapshot) -> None:
    frame = snapshot.assign(f2=np.nan)
    pipeline = _fit(CandidateConfig(name="hgb", model_params={"max_iter": 5}, imbalance="smote"), frame)
    assert pipeline.named_steps["sampler"].categorical_features == [4, 5]


@pytest.mark.parametrize("model", ["logistic_regression", "random_forest", "extra_trees", "hist_gradient_boosting"])
def test_build_pipeline_sets_random_state_from_seed(model, snapshot) -> None:
    y = snapshot["is_fraud"].to_numpy()
    pipeline = build_pipeline(CandidateConfig(name="c1", model=model), MIXED, y, seed=77)
    assert pipeline.named_steps["model"].random_state == 77


def test_build_pipeline_random_state_in_model_params_is_refused(snapshot) -> None:
    candidate = CandidateConfig(name="rf", model="random_forest", model_params={"random_state": 1})
    with pytest.raises(StrategyError, match=r"candidates 'rf' > model_params > random_state: set by the pipeline"):
        build_pipeline(candidate, MIXED, snapshot["is_fraud"].to_numpy(), seed=0)


def test_build_pipeline_bad_model_param_is_reworded(snapshot) -> None:
    candidate = CandidateConfig(name="rf", model="random_forest", model_params={"n_estimators": 0})
    with pytest.raises(
        StrategyError, match=r"candidates 'rf' > model_params > n_estimators: RandomForestClassifier needs an int"
    ):
        build_pipeline(candidate, MIXED, snapshot["is_fraud"].to_numpy(), seed=0)


def test_build_pipeline_unknown_model_param_lists_known_ones(snapshot) -> None:
    candidate = CandidateConfig(name="hgb", model_params={"n_estimators": 10})
    with pytest.raises(
        StrategyError, match=r"> n_estimators: not a parameter of HistGradientBoostingClassifier; known"
    ):
        build_pipeline(candidate, MIXED, snapshot["is_fraud"].to_numpy(), seed=0)


def test_build_pipeline_class_weight_reaches_the_model(snapshot) -> None:
    candidate = CandidateConfig(name="lr", model="logistic_regression", imbalance="class_weight")
    pipeline = build_pipeline(candidate, MIXED, snapshot["is_fraud"].to_numpy(), seed=0)
    assert pipeline.named_steps["model"].class_weight == "balanced"


def test_models_registry_torch_entry_is_lazy_and_takes_codes() -> None:
    entry = MODELS["torch_mlp"]
    assert (entry.path, entry.categorical, entry.seed_param, entry.weighted) == (
        "imbalance_jobs.torch_models.TorchMLPClassifier",
        "codes",
        "seed",
        False,
    )
