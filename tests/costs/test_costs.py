"""Cost estimates before a run: every strategy and model declares its growth; config validate --rows and the
train stage warn about superlinear steps and refuse what cannot finish within the run timeout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imbalance_jobs.cli import main
from imbalance_jobs.config import MODEL_NAMES, STRATEGY_NAMES, CandidateConfig, PipelineConfig
from imbalance_jobs.costs import MODEL_COSTS, STRATEGY_COSTS, candidate_cost
from imbalance_jobs.errors import StrategyError
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from imbalance_jobs.training import cross_validate_candidate
from tests.conftest import BASE_CONFIG, REPO, RUN_DATE, merge

DEFECTS = REPO / "configs" / "defects.yaml"


def test_every_strategy_and_model_declares_its_cost() -> None:
    assert set(STRATEGY_COSTS) == set(STRATEGY_NAMES)
    assert set(MODEL_COSTS) == set(MODEL_NAMES)
    assert STRATEGY_COSTS["none"] is None
    assert STRATEGY_COSTS["class_weight"] is None


@pytest.mark.parametrize("imbalance", [n for n in STRATEGY_NAMES if STRATEGY_COSTS[n]])
def test_candidate_cost_grows_with_rows_and_never_falls(imbalance) -> None:
    candidate = CandidateConfig(name="c", model="logistic_regression", imbalance=imbalance)
    costs = [candidate_cost(candidate, n, cv_folds=5).seconds for n in (10_000, 100_000, 1_000_000)]
    assert costs[0] < costs[1] < costs[2]


def test_candidate_cost_counts_forest_trees() -> None:
    base = {"name": "rf", "model": "random_forest"}
    small = candidate_cost(CandidateConfig(**base, model_params={"n_estimators": 100}), 100_000, cv_folds=3)
    large = candidate_cost(CandidateConfig(**base, model_params={"n_estimators": 300}), 100_000, cv_folds=3)
    assert large.seconds == pytest.approx(3 * small.seconds)


def _defects_with(tmp_path: Path, candidate: dict, **airflow) -> Path:
    data = yaml.safe_load(DEFECTS.read_text())
    data["training"]["candidates"].append(candidate)
    data.setdefault("airflow", {}).update(airflow)
    path = tmp_path / "defects.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_config_validate_rows_warns_on_borderline_smote_naming_it_and_the_estimate(tmp_path, capsys) -> None:
    path = _defects_with(
        tmp_path, {"name": "lr_bsmote", "model": "logistic_regression", "imbalance": "borderline_smote"}
    )
    assert main(["config", "validate", str(path), "--rows", "1000000"]) == 0
    err = capsys.readouterr().err
    assert "candidates[3] (lr_bsmote): ~" in err
    assert "borderline_smote: 1.58 s per call at 100k rows, growing as rows^2" in err
    assert err.rstrip().endswith(": warning")


def test_config_validate_rows_refuses_a_candidate_past_the_run_timeout(tmp_path, capsys) -> None:
    path = _defects_with(tmp_path, {"name": "lr_tomek", "model": "logistic_regression", "imbalance": "tomek"})
    assert main(["config", "validate", str(path), "--rows", "20000000"]) == 4
    err = capsys.readouterr().err
    assert "(lr_tomek): ~" in err
    assert "past airflow.run_timeout_minutes (240); drop it, or train on fewer rows" in err


def test_config_validate_without_rows_estimates_nothing(tmp_path, capsys) -> None:
    path = _defects_with(
        tmp_path, {"name": "lr_bsmote", "model": "logistic_regression", "imbalance": "borderline_smote"}
    )
    assert main(["config", "validate", str(path)]) == 0
    assert "warning" not in capsys.readouterr().err


def test_train_stage_refuses_before_fitting_a_candidate_that_cannot_finish() -> None:
    config = PipelineConfig.model_validate(merge(BASE_CONFIG, {"airflow": {"run_timeout_minutes": 1}}))
    frame = make_frame(SyntheticSpec(rows=400, positive_rate=0.1), seed=1, day=RUN_DATE)
    slow = CandidateConfig(
        name="svm", model="random_forest", imbalance="svm_smote", model_params={"n_estimators": 10**5}
    )
    with pytest.raises(StrategyError, match=r"candidates 'svm': refused before fitting: ~\d+ min per nightly run"):
        cross_validate_candidate(slow, frame.drop(columns=["merchant_category", "channel"]), config)


def _fraud(tmp_path: Path, **source) -> Path:
    data = yaml.safe_load((REPO / "configs" / "fraud.yaml").read_text())
    data["source"].update(source)
    path = tmp_path / "fraud.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_negative_sampling_keeps_the_default_sweep_feasible_at_20m_rows(tmp_path, capsys) -> None:
    args = ["--rows", "20000000", "--positive-share", "0.003"]
    assert main(["config", "validate", str(_fraud(tmp_path)), *args]) == 4
    err = capsys.readouterr().err
    assert "(logreg_smote): ~" in err
    assert "train on fewer rows (source.negative_sample, source.lookback_days)" in err
    sampled = _fraud(tmp_path, negative_sample={"fraction": 0.05})
    assert main(["config", "validate", str(sampled), *args]) == 0


def test_cost_lines_say_how_many_rows_are_left_after_negative_sampling(tmp_path, capsys) -> None:
    sampled = _fraud(tmp_path, negative_sample={"fraction": 0.05})
    assert main(["config", "validate", str(sampled), "--rows", "20000000"]) == 4  # 5 % positives: 1M of them stay
    assert "at 1,950,000 rows (of 20,000,000, source.negative_sample)" in capsys.readouterr().err
