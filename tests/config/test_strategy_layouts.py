"""Config validation refuses strategies that cannot take the listed feature kinds (the registry's declared layouts)."""

from __future__ import annotations

import pytest
import yaml

from imbalance_jobs.config import CandidateConfig, parse_config
from imbalance_jobs.errors import ConfigError, StrategyError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.resampling import STRATEGIES, build_strategy
from tests.conftest import BASE_CONFIG, merge

CATEGORICAL = ["merchant_category", "channel"]
NO_CATEGORICAL_FORM = [n for n, e in STRATEGIES.items() if e.tags.interpolates and "mixed" not in e.tags.layouts]


def _text(features: dict, imbalance: str) -> str:
    candidate = {"name": "cand", "model": "random_forest", "imbalance": imbalance}
    return yaml.safe_dump(merge(BASE_CONFIG, {"features": features, "training": {"candidates": [candidate]}}))


def test_no_categorical_form_covers_the_interpolators_imblearn_cannot_vote() -> None:
    assert sorted(NO_CATEGORICAL_FORM) == ["adasyn", "borderline_smote", "svm_smote"]


@pytest.mark.parametrize("imbalance", NO_CATEGORICAL_FORM)
def test_parse_config_refuses_an_interpolator_without_categorical_form_on_listed_categoricals(imbalance) -> None:
    pattern = (
        rf"training\.candidates\[0\]: candidates 'cand' > imbalance: {imbalance} needs numeric features only; got "
        r"categorical features \['merchant_category', 'channel'\]: it interpolates between neighbours"
    )
    with pytest.raises(ConfigError, match=pattern):
        parse_config(_text({"categorical": CATEGORICAL}, imbalance), source="bad.yaml")


@pytest.mark.parametrize("imbalance", ["smote", "smotenc", "smote_tomek", "smote_enn", "random_over", "tomek"])
def test_parse_config_accepts_categorical_aware_strategies_on_listed_categoricals(imbalance) -> None:
    config = parse_config(_text({"categorical": CATEGORICAL}, imbalance), build_estimators=True)
    assert config.features.numeric is None  # numeric features are still inferred


@pytest.mark.parametrize("imbalance", NO_CATEGORICAL_FORM)
def test_parse_config_leaves_unlisted_feature_kinds_to_training(imbalance) -> None:
    assert parse_config(_text({}, imbalance)).training.candidates[0].imbalance == imbalance


@pytest.mark.parametrize(
    ("features", "imbalance", "got"),
    [
        ({"categorical": []}, "smotenc", r"got numeric features only \(no categorical features\)"),
        ({"numeric": [], "categorical": CATEGORICAL}, "smotenc", r"got categorical features only \['merchant"),
        ({"numeric": ["amount"], "categorical": CATEGORICAL}, "smoten", r"got numeric features and categorical"),
    ],
)
def test_parse_config_refuses_a_strategy_on_feature_kinds_it_never_takes(features, imbalance, got) -> None:
    with pytest.raises(ConfigError, match=rf"candidates 'cand' > imbalance: {imbalance} needs .*; {got}"):
        parse_config(_text(features, imbalance), source="bad.yaml")


def test_training_refuses_inferred_categoricals_with_the_config_rule() -> None:
    """Categoricals found in the data (not listed) are refused at train time, naming the same rule and columns."""
    features = FeatureSpec(numeric=("amount",), categorical=tuple(CATEGORICAL))
    candidate = CandidateConfig(name="cand", imbalance="borderline_smote")
    with pytest.raises(StrategyError) as caught:
        build_strategy(candidate, features, [0, 1] * 10, seed=0)
    with pytest.raises(ConfigError) as refused:
        parse_config(_text({"categorical": CATEGORICAL}, "borderline_smote"))
    rule = "candidates 'cand' > imbalance: borderline_smote needs numeric features only; got "
    assert str(caught.value).startswith(rule)
    assert rule in str(refused.value)
    assert all(str(CATEGORICAL) in text for text in (str(caught.value), str(refused.value)))


def test_layout_check_keeps_config_validation_light() -> None:
    """The DAG factory validates configs at parse time: reading the declarations must not import numpy."""
    import subprocess
    import sys

    code = (
        "import sys, yaml\n"
        "from imbalance_jobs.config import parse_config\n"
        f"parse_config({_text({'categorical': CATEGORICAL}, 'smote')!r})\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'sklearn', 'imblearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
