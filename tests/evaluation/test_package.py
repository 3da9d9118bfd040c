"""The package surface: every public name exported, a light import, and docstring Examples that run."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

import imbalance_jobs.evaluation as evaluation

MODULES = ["_metrics", "_bootstrap", "_thresholds", "_calibration", "_plots"]


def test_all_names_resolve() -> None:
    assert sorted(evaluation.__all__) == sorted(set(evaluation.__all__))
    assert all(hasattr(evaluation, name) for name in evaluation.__all__)


def test_import_does_not_load_plotting_or_fitting_libraries() -> None:
    code = "import sys, imbalance_jobs.evaluation; print(sorted({'matplotlib', 'sklearn', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name) -> None:
    module = importlib.import_module(f"imbalance_jobs.evaluation.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted > 0
