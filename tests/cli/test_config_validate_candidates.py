"""``imbalance-jobs config validate`` refuses, with exit 4, candidates that could only fail at train time."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from imbalance_jobs.cli import main
from tests.conftest import REPO

FRAUD = REPO / "configs" / "fraud.yaml"


def _fraud_with(tmp_path: Path, candidate: dict) -> Path:
    data = yaml.safe_load(FRAUD.read_text())
    data["training"]["candidates"].append(candidate)
    path = tmp_path / "fraud.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_config_validate_accepts_fraud_yaml(capsys) -> None:
    assert main(["config", "validate", str(FRAUD)]) == 0
    assert "fraud.yaml: ok" in capsys.readouterr().out


def test_config_validate_refuses_borderline_smote_on_fraud_categoricals(tmp_path, capsys) -> None:
    path = _fraud_with(tmp_path, {"name": "rf_bsmote", "model": "random_forest", "imbalance": "borderline_smote"})
    assert main(["config", "validate", str(path)]) == 4
    err = capsys.readouterr().err
    assert "candidates 'rf_bsmote' > imbalance: borderline_smote needs numeric features only" in err
    assert "got categorical features ['merchant_category', 'channel']" in err


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        (
            {"name": "rf", "model": "random_forest", "model_params": {"n_estimator": 5}},
            "training > candidates[4] > model_params > n_estimator (line ",
        ),
        (
            {"name": "sm", "imbalance": "smote", "imbalance_params": {"k_neighbours": 3}},
            "training > candidates[4] > imbalance_params > k_neighbours (line ",
        ),
    ],
)
def test_config_validate_refuses_a_misspelt_parameter_naming_the_key(tmp_path, capsys, candidate, expected) -> None:
    assert main(["config", "validate", str(_fraud_with(tmp_path, candidate))]) == 4
    err = capsys.readouterr().err
    assert expected in err
    assert "not a parameter of" in err
