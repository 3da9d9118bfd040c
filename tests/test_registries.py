"""The registries hold exactly the names the config schema accepts (the schema cannot import them)."""

from __future__ import annotations

from imbalance_jobs.config import MODEL_NAMES, STRATEGY_NAMES
from imbalance_jobs.models import MODELS
from imbalance_jobs.resampling import STRATEGIES


def test_strategies_registry_matches_strategy_names() -> None:
    assert tuple(STRATEGIES) == STRATEGY_NAMES


def test_models_registry_matches_model_names() -> None:
    assert tuple(MODELS) == MODEL_NAMES


def test_models_registry_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = "import sys, imbalance_jobs.models, imbalance_jobs.resampling; print('torch' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )
