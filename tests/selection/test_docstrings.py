"""The Examples in the docstrings of the decision and contract modules run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["model_choice", "blend", "row_hash", "split", "promotion", "population"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name) -> None:
    module = importlib.import_module(f"imbalance_jobs.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
