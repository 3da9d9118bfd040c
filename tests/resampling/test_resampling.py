"""Strategy building and the checks that refuse a strategy before training starts."""

from __future__ import annotations

import numpy as np
import pytest

from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling import build_strategy, check_strategy

NUMERIC_ONLY = FeatureSpec(numeric=("a", "b", "c"), categorical=())


def _labels(negatives: int, positives: int) -> np.ndarray:
    return np.r_[np.zeros(negatives, dtype=np.int64), np.ones(positives, dtype=np.int64)]


def test_build_strategy_smote_switches_to_smotenc_with_categorical_features(mixed) -> None:
    _, y, features = mixed
    strategy = build_strategy(CandidateConfig(name="c1", imbalance="smote"), features, y, seed=0)
    assert strategy.sampler_name == "SMOTENC"
    assert strategy.sampler.categorical_features == [5, 6]
    assert strategy.categorical == "ordinal"


def test_build_strategy_smote_switches_to_smoten_when_every_feature_is_categorical(categorical_only) -> None:
    _, y, features = categorical_only
    assert build_strategy(CandidateConfig(name="c1", imbalance="smote"), features, y, seed=0).sampler_name == "SMOTEN"


def test_build_strategy_smote_stays_smote_on_numeric_features() -> None:
    strategy = build_strategy(CandidateConfig(name="c1", imbalance="smote"), NUMERIC_ONLY, _labels(90, 10), seed=0)
    assert (strategy.sampler_name, strategy.categorical) == ("SMOTE", "any")


def test_build_strategy_smotenc_positions_follow_pca_components(mixed) -> None:
    _, y, features = mixed
    candidate = CandidateConfig(name="c1", imbalance="smotenc", pca_components=2)
    strategy = build_strategy(candidate, features, y, seed=0)
    assert strategy.sampler.categorical_features == [2, 3]
    assert strategy.pca is not None


@pytest.mark.parametrize(("ratio", "minority"), [(0.5, 400), (1.0, 800)])
def test_build_strategy_passes_sampling_strategy_through(ratio, minority) -> None:
    y = _labels(800, 40)
    X = np.random.default_rng(0).normal(size=(len(y), 3))
    candidate = CandidateConfig(name="c1", imbalance="smote", imbalance_params={"sampling_strategy": ratio})
    _, y_res = build_strategy(candidate, NUMERIC_ONLY, y, seed=0).sampler.fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [800, minority]


def test_build_strategy_class_weight_defaults_to_balanced() -> None:
    strategy = build_strategy(CandidateConfig(name="c1", imbalance="class_weight"), NUMERIC_ONLY, _labels(9, 1), seed=0)
    assert (strategy.sampler, strategy.class_weight) == (None, "balanced")


def test_build_strategy_class_weight_explicit_codes() -> None:
    candidate = CandidateConfig(name="c1", imbalance="class_weight", imbalance_params={"class_weight": {"1": 20}})
    assert build_strategy(candidate, NUMERIC_ONLY, _labels(9, 1), seed=0).class_weight == {1: 20.0}


def test_build_strategy_class_weight_unknown_code_raises() -> None:
    candidate = CandidateConfig(name="cw", imbalance="class_weight", imbalance_params={"class_weight": {"fraud": 20}})
    with pytest.raises(StrategyError, match=r"candidates 'cw' > imbalance_params > class_weight > fraud: keys are"):
        build_strategy(candidate, NUMERIC_ONLY, _labels(9, 1), seed=0)


def test_build_strategy_random_state_in_params_is_refused() -> None:
    candidate = CandidateConfig(name="ro", imbalance="random_over", imbalance_params={"random_state": 1})
    with pytest.raises(StrategyError, match=r"imbalance_params > random_state: set by the pipeline \(from the config"):
        build_strategy(candidate, NUMERIC_ONLY, _labels(9, 1), seed=0)


def test_build_strategy_smote_enn_routes_neighbour_params() -> None:
    params = {"sampling_strategy": 0.5, "k_neighbors": 3, "n_neighbors": 4}
    sampler = build_strategy(
        CandidateConfig(name="c1", imbalance="smote_enn", imbalance_params=params), NUMERIC_ONLY, _labels(9, 1), seed=0
    ).sampler
    assert (sampler.smote.k_neighbors, sampler.smote.sampling_strategy, sampler.enn.n_neighbors) == (3, 0.5, 4)


def test_check_strategy_smote_with_three_minority_rows_raises() -> None:
    candidate = CandidateConfig(name="rf_smote", model="random_forest", imbalance="smote")
    with pytest.raises(
        StrategyError,
        match=r"candidates 'rf_smote' > imbalance_params > k_neighbors: SMOTE needs k_neighbors < minority rows "
        r"per CV training fold; got k_neighbors=5 with 2 minority rows per fold \(3 in the training rows",
    ):
        check_strategy(candidate, NUMERIC_ONLY, _labels(200, 3), cv_folds=3)


def test_check_strategy_smote_with_small_k_neighbors_passes_on_three_minority_rows() -> None:
    candidate = CandidateConfig(name="rf_smote", imbalance="smote", imbalance_params={"k_neighbors": 1})
    check_strategy(candidate, NUMERIC_ONLY, _labels(200, 3), cv_folds=3)


def test_check_strategy_adasyn_counts_n_neighbors() -> None:
    candidate = CandidateConfig(name="ada", imbalance="adasyn", imbalance_params={"n_neighbors": 8})
    with pytest.raises(StrategyError, match=r"> n_neighbors: ADASYN needs n_neighbors < minority rows"):
        check_strategy(candidate, NUMERIC_ONLY, _labels(200, 9), cv_folds=3)


def test_check_strategy_smotenc_without_categorical_features_raises() -> None:
    with pytest.raises(
        StrategyError,
        match=r"candidates 'nc' > imbalance: smotenc needs numeric and categorical features together; "
        r"got numeric features only \(no categorical features\)",
    ):
        check_strategy(CandidateConfig(name="nc", imbalance="smotenc"), NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_smoten_with_numeric_features_raises(mixed) -> None:
    _, y, features = mixed
    with pytest.raises(
        StrategyError, match=r"smoten needs categorical features only; got numeric features and categorical features"
    ):
        check_strategy(CandidateConfig(name="sn", imbalance="smoten"), features, y, cv_folds=3)


def test_check_strategy_class_weight_in_model_params_with_a_resampler_raises() -> None:
    candidate = CandidateConfig(
        name="rf_over", model="random_forest", model_params={"class_weight": "balanced"}, imbalance="random_over"
    )
    with pytest.raises(
        StrategyError, match=r"candidates 'rf_over' > model_params > class_weight: weighting together with resampler"
    ):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_torch_weighted_loss_with_a_resampler_raises() -> None:
    candidate = CandidateConfig(
        name="mlp", model="torch_mlp", model_params={"loss": "weighted_bce"}, imbalance="random_under"
    )
    with pytest.raises(StrategyError, match=r"model_params > loss: 'weighted_bce' weights the positive class"):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_bad_sampler_param_is_reworded() -> None:
    candidate = CandidateConfig(name="sm", imbalance="smote", imbalance_params={"k_neighbors": 0})
    with pytest.raises(
        StrategyError, match=r"candidates 'sm' > imbalance_params > k_neighbors: SMOTE needs an int in the range.*got 0"
    ):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_unknown_sampler_param_lists_known_ones() -> None:
    candidate = CandidateConfig(name="sm", imbalance="smote", imbalance_params={"k_neighbours": 3})
    with pytest.raises(StrategyError, match=r"> k_neighbours: not a parameter of SMOTE; known: \['k_neighbors',"):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_unreachable_ratio_raises() -> None:
    candidate = CandidateConfig(name="sm", imbalance="random_over", imbalance_params={"sampling_strategy": 0.05})
    with pytest.raises(StrategyError, match=r"> sampling_strategy: The specified ratio required to remove samples"):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_float_ratio_on_multiclass_raises() -> None:
    y = np.r_[_labels(90, 10), np.full(10, 2)]
    candidate = CandidateConfig(name="sm", imbalance="random_under", imbalance_params={"sampling_strategy": 0.5})
    with pytest.raises(
        StrategyError, match=r"sampling_strategy.*can be a float only when the type of target is binary"
    ):
        check_strategy(candidate, NUMERIC_ONLY, y, cv_folds=3)


def test_check_strategy_class_smaller_than_cv_folds_raises() -> None:
    with pytest.raises(StrategyError, match=r"hold 3 row\(s\) of class code 1; training.cv_folds=5 needs at least 5"):
        check_strategy(CandidateConfig(name="c1"), NUMERIC_ONLY, _labels(90, 3), cv_folds=5)


def test_check_strategy_pca_wider_than_numeric_features_raises() -> None:
    candidate = CandidateConfig(name="pc", imbalance="smote", pca_components=4)
    with pytest.raises(
        StrategyError, match=r"> pca_components: PCA compresses the 3 numeric feature\(s\); got pca_components=4"
    ):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)


def test_check_strategy_none_with_params_raises() -> None:
    candidate = CandidateConfig(name="c1", imbalance_params={"sampling_strategy": 0.5})
    with pytest.raises(StrategyError, match=r"imbalance 'none' takes no parameters"):
        check_strategy(candidate, NUMERIC_ONLY, _labels(90, 10), cv_folds=3)
