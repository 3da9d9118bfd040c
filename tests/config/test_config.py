"""The config schema: every example config loads, and each malformed config gives its specific message."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from imbalance_jobs.config import PipelineConfig, config_hash, load_config, parse_config
from imbalance_jobs.errors import ConfigError
from tests.conftest import BASE_CONFIG, REPO, merge

EXAMPLES = sorted((REPO / "configs").glob("*.yaml"))


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load(path: Path) -> None:
    config = load_config(path)
    assert config.name == path.stem
    assert config.training.candidates


def test_config_hash_changes_with_any_setting() -> None:
    a = parse_config(_yaml(BASE_CONFIG))
    b = parse_config(_yaml(merge(BASE_CONFIG, {"seed": 43})))
    assert config_hash(a) == config_hash(parse_config(_yaml(BASE_CONFIG)))
    assert config_hash(a) != config_hash(b)


MALFORMED = {
    "unknown_top_key": ({"colour": "red"}, r"colour \(line \d+\): unknown key"),
    "unknown_candidate_key": (
        {"training": {"candidates": [{"name": "a", "k_neighbours": 3}]}},
        r"training > candidates\[0\] > k_neighbours \(line \d+\): unknown key",
    ),
    "bad_strategy": (
        {"training": {"candidates": [{"name": "a", "imbalance": "smtoe"}]}},
        r"training > candidates\[0\] > imbalance .*Input should be 'none'.*; got 'smtoe'",
    ),
    "bad_model": (
        {"training": {"candidates": [{"name": "a", "model": "xgboost"}]}},
        r"candidates\[0\] > model .*got 'xgboost'",
    ),
    "duplicate_candidates": (
        {"training": {"candidates": [{"name": "a"}, {"name": "a"}]}},
        r"training > candidates .*candidate names must be unique; repeated: \['a'\]",
    ),
    "no_candidates": ({"training": {"candidates": []}}, r"training > candidates .*at least 1 item"),
    "prefix_without_date": (
        {"source": {"prefix": "fraud/{day}/"}},
        r"source > prefix .*must contain '\{date\}'.*; got 'fraud/\{day\}/'",
    ),
    "short_bucket": ({"source": {"bucket": "ab"}}, r"source > bucket .*bucket name of 3-63"),
    "positive_not_in_classes": ({"label": {"positive": 2}}, r"label .*positive 2 must be one of classes \[0, 1\]"),
    "bounds_reversed": (
        {"validation": {"minority_share": {"min": 0.5, "max": 0.1}}},
        r"validation > minority_share .*min \(0.5\) must be <= max \(0.1\)",
    ),
    "share_out_of_range": (
        {"validation": {"minority_share": {"min": -0.1}}},
        r"validation > minority_share > min .*greater than or equal to 0",
    ),
    "split_too_big": (
        {"split": {"test_size": 0.5, "validation_size": 0.45}},
        r"split .*must leave at least 10% for training",
    ),
    "time_split_without_column": (
        {"features": {"timestamp": None}, "split": {"method": "time"}},
        r"split.method 'time' needs split.timestamp_column",
    ),
    "threshold_needs_precision": (
        {"threshold": {"objective": "max_recall_at_precision"}},
        r"threshold .*needs min_precision",
    ),
    "pca_without_smote": (
        {"training": {"candidates": [{"name": "a", "imbalance": "random_under", "pca_components": 5}]}},
        r"candidates\[0\] .*pca_components applies before SMOTE-family resamplers only",
    ),
    "torch_class_weight": (
        {"training": {"candidates": [{"name": "a", "model": "torch_mlp", "imbalance": "class_weight"}]}},
        r"torch_mlp weights classes through its loss",
    ),
    "bad_pipeline_name": ({"name": "Fraud Model"}, r"name .*lowercase letters, digits and '_'"),
    "multiclass_sigmoid": (
        {"label": {"classes": ["a", "b", "c"], "positive": "c"}, "calibration": {"method": "sigmoid"}},
        r"calibration.method 'sigmoid' is for binary labels",
    ),
    "null_training": ({"training": None}, r"training .*Input should be a valid dictionary"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_parse_config_rejects_malformed(case: str) -> None:
    overrides, pattern = MALFORMED[case]
    with pytest.raises(ConfigError, match=pattern):
        parse_config(_yaml(merge(BASE_CONFIG, overrides)), source="bad.yaml")


def test_parse_config_reports_every_problem_at_once() -> None:
    bad = merge(BASE_CONFIG, {"colour": 1, "seed": -1, "source": {"format": "xlsx"}})
    with pytest.raises(ConfigError) as info:
        parse_config(_yaml(bad), source="bad.yaml")
    assert len(info.value.problems) == 3
    assert str(info.value).startswith("bad.yaml: 3 config problems")


def test_parse_config_names_the_yaml_line() -> None:
    text = _yaml(merge(BASE_CONFIG, {"seed": "many"}))
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("seed:"))
    with pytest.raises(ConfigError, match=rf"seed \(line {line}\)"):
        parse_config(text, source="bad.yaml")


def test_parse_config_rejects_invalid_yaml() -> None:
    with pytest.raises(ConfigError, match=r"line 2, column \d+: not valid YAML"):
        parse_config("name: a\n  bad: [\n", source="bad.yaml")


def test_parse_config_rejects_non_mapping() -> None:
    with pytest.raises(ConfigError, match=r"\(top level\) \(line 1\): must be a mapping of keys; got list"):
        parse_config("- a\n- b\n", source="bad.yaml")


def test_load_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope.yaml > cannot read file"):
        load_config(tmp_path / "nope.yaml")


def test_training_defaults_to_the_default_candidate_sweep() -> None:
    data = {k: v for k, v in BASE_CONFIG.items() if k != "training"}
    config = parse_config(_yaml(data))
    assert [c.name for c in config.training.candidates] == ["hgb", "hgb_balanced", "logreg_smote", "rf_under"]
    assert config.training.candidates[0].imbalance == "none"


# -- issue 12 item 8: configs that were wrongly accepted ---------------------------------------------------------
WRONGLY_ACCEPTED = {
    "cron_out_of_range": (
        {"schedule": "61 25 * * *"},
        r"schedule \(line \d+\): minute field '61': '61' is out of range",
    ),
    "cron_prose": ({"schedule": "every night please"}, r"schedule \(line \d+\): must be a cron expression of 5 fields"),
    "range_reversed": (
        {"validation": {"value_ranges": {"amount": {"min": 10, "max": 1}}}},
        r"validation > value_ranges > amount \(line \d+\): min \(10.0\) must be <= max \(1.0\)",
    ),
    "inf_cost": ({"threshold": {"fn_cost": float("inf")}}, r"threshold > fn_cost \(line \d+\): .*finite"),
    "absurd_timeout": (
        {"airflow": {"run_timeout_minutes": 10**20}},
        r"airflow > run_timeout_minutes \(line \d+\): .*less than or equal to 10080",
    ),
    "absurd_retry_delay": (
        {"airflow": {"retry_delay_minutes": 1e20}},
        r"airflow > retry_delay_minutes \(line \d+\): .*less than or equal to 1440",
    ),
    "artifacts_escape": (
        {"artifacts": {"prefix": "../../etc"}},
        r"artifacts > prefix \(line \d+\): must stay inside the bucket",
    ),
    "source_unbalanced_brace": (
        {"source": {"prefix": "fraud/{date}/{"}},
        r"source > prefix \(line \d+\): is not a valid template",
    ),
    "source_close_brace": ({"source": {"prefix": "fraud/dt={date}}/"}}, r"source > prefix .*not a valid template"),
    "source_format_spec": ({"source": {"prefix": "fraud/{date:%Y}/"}}, r"source > prefix .*no format spec"),
    "cv_folds_bool": (
        {"training": {"cv_folds": True}},
        r"training > cv_folds \(line \d+\): must be a number, not a yes/no value; got True",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONGLY_ACCEPTED))
def test_parse_config_refuses_what_was_wrongly_accepted(case: str) -> None:
    overrides, pattern = WRONGLY_ACCEPTED[case]
    with pytest.raises(ConfigError, match=pattern):
        parse_config(_yaml(merge(BASE_CONFIG, overrides)), source="bad.yaml")


def test_parse_config_accepts_valid_schedules() -> None:
    for schedule in ("0 2 * * *", "*/15 6-22 * * mon-fri", "0 0 1 jan,jul *", "@daily", None):
        assert parse_config(_yaml(merge(BASE_CONFIG, {"schedule": schedule}))).schedule == schedule


def test_parse_config_refuses_duplicate_keys_with_both_lines() -> None:
    text = _yaml(merge(BASE_CONFIG, {"training": {"candidates": [{"name": "a", "imbalance": "smote"}]}}))
    text = text.replace("    imbalance: smote\n", "    imbalance: smote\n    imbalance: smtoe\n")
    first = next(i for i, row in enumerate(text.splitlines(), 1) if row.endswith("imbalance: smote"))
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="bad.yaml")
    assert info.value.problems == [
        f"training > candidates[0] > imbalance (line {first + 1}): duplicate key; first given at line {first} "
        "(YAML would silently keep only the last); remove one"
    ]


def test_parse_config_gives_a_line_for_cross_field_and_missing_keys() -> None:
    data = merge(BASE_CONFIG, {"features": {"timestamp": None}, "split": {"method": "time"}})
    del data["label"]
    with pytest.raises(ConfigError) as info:
        parse_config(_yaml(data), source="bad.yaml")
    assert "label (line 1): required key is missing" in info.value.problems
    data = merge(BASE_CONFIG, {"features": {"timestamp": None}, "split": {"method": "time"}})
    text = _yaml(data)
    split_line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("split:"))
    with pytest.raises(ConfigError, match=rf"\(top level\) \(line {split_line + 1}\): split.method 'time' needs"):
        parse_config(_yaml(data), source="bad.yaml")


def test_parse_config_refuses_an_empty_file() -> None:
    with pytest.raises(ConfigError, match=r"\(top level\) \(line 1\): must be a mapping of keys; got an empty file"):
        parse_config("", source="bad.yaml")


@pytest.mark.parametrize(
    ("candidate", "pattern"),
    [
        (
            {"name": "a", "model": "random_forest", "model_params": {"n_estimatorz": 3}},
            r"training > candidates\[0\] > model_params > n_estimatorz \(line \d+\): not a parameter of "
            r"RandomForestClassifier",
        ),
        (
            {"name": "a", "imbalance": "smote", "imbalance_params": {"sampling_strategy": 7}},
            r"training > candidates\[0\] > imbalance_params > sampling_strategy \(line \d+\): SMOTE needs .*; got 7",
        ),
        (
            {"name": "a", "model": "logistic_regression", "model_params": {"C": -1}},
            r"training > candidates\[0\] > model_params > C \(line \d+\): LogisticRegression needs",
        ),
    ],
)
def test_parse_config_builds_estimators_to_check_their_params(candidate: dict, pattern: str) -> None:
    text = _yaml(merge(BASE_CONFIG, {"training": {"candidates": [candidate]}}))
    parse_config(text)  # the light check (DAG parse time) does not import scikit-learn
    with pytest.raises(ConfigError, match=pattern):
        parse_config(text, source="bad.yaml", build_estimators=True)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_build_their_estimators(path: Path) -> None:
    assert load_config(path, build_estimators=True).name == path.stem


@pytest.mark.parametrize(
    ("candidate", "key"),
    [
        ({"name": "mlp", "model": "torch_mlp", "imbalance": "smote"}, "validation_fraction=0.15"),
        (
            {
                "name": "h",
                "model": "hist_gradient_boosting",
                "imbalance": "random_over",
                "model_params": {"early_stopping": "auto"},
            },
            "early_stopping='auto'",
        ),
    ],
)
def test_config_refuses_early_stopping_after_an_oversampler(candidate, key) -> None:
    with pytest.raises(ValidationError, match=f"model_params.{key} holds rows out for early stopping after resampler"):
        PipelineConfig.model_validate(merge(BASE_CONFIG, {"training": {"candidates": [candidate]}}))


@pytest.mark.parametrize(
    "candidate",
    [
        {"name": "mlp", "model": "torch_mlp", "imbalance": "random_under"},  # a subset of real rows: no leak
        {"name": "mlp0", "model": "torch_mlp", "imbalance": "smote", "model_params": {"validation_fraction": 0}},
        {"name": "h", "model": "hist_gradient_boosting", "imbalance": "smote"},  # early stopping off by default
    ],
)
def test_config_accepts_early_stopping_without_added_rows(candidate) -> None:
    PipelineConfig.model_validate(merge(BASE_CONFIG, {"training": {"candidates": [candidate]}}))
