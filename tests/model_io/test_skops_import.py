"""Saving and loading a model never imports torch (skops' estimator listing would, through sklearn's vendored
array-API shim), and skops trusts the same scikit-learn types as when torch is loaded and the shim imports."""

from __future__ import annotations

import json
import subprocess
import sys

ROUND_TRIP = """
import json, sys
{first}
import numpy as np, pandas as pd
from sklearn.datasets import make_classification
from imbalance_jobs.config import CandidateConfig
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.model_io import dump_model, load_model_files
from imbalance_jobs.models import build_pipeline, scoring_pipeline
X, y = make_classification(n_samples=300, weights=[0.9, 0.1], random_state=0)
frame = pd.DataFrame(X[:, :3], columns=["a", "b", "c"])
cand = CandidateConfig(name="hgb", model="hist_gradient_boosting", model_params={"max_iter": 5})
fitted = scoring_pipeline(build_pipeline(cand, FeatureSpec(("a", "b", "c"), ()), y, seed=0).fit(frame, y))
loaded = load_model_files(dump_model(fitted), source="test")
from skops.io import _trusted_types
print(json.dumps({
    "same": bool(np.array_equal(loaded.predict_proba(frame), fitted.predict_proba(frame))),
    "torch": "torch" in sys.modules,
    "trusted": sorted(_trusted_types.SKLEARN_ESTIMATOR_TYPE_NAMES),
}))
"""


def _run(code: str) -> object:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_model_round_trip_leaves_torch_unimported_and_trusts_the_same_types() -> None:
    result = _run(ROUND_TRIP.replace("{first}", ""))
    with_torch = _run(ROUND_TRIP.replace("{first}", "import torch"))
    assert result["same"]
    assert result["torch"] is False
    assert with_torch["torch"] is True
    assert result["trusted"] == with_torch["trusted"]
