"""The quality benchmark still runs end to end against the product's real train and select stages.

The script drives the stages on the classic example's training rows and reads their summaries and the stored
model bundle, so a change there must not silently break ``make bench``. Nothing is timed here: one tiny case, two
product candidates, two recipes, a short bootstrap.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_bench_quality_scores_product_and_recipes_on_the_same_test_rows(tmp_path: Path) -> None:
    output = tmp_path / "quality.json"
    args = ["--no-sweep", "--classic-rows", "1000", "--recipes", "rf,smote_rf", "--bootstrap", "50"]
    args += ["--product-candidates", "hgb,logreg_smote"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_quality", *args, "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(output.read_text())["results"][0]
    assert [a["name"] for a in result["approaches"]] == ["product", "rf", "smote_rf"]
    assert result["test_rows"] == 200
    assert result["selected"] in {"hgb", "logreg_smote"}
    assert all(0.0 <= a["average_precision"] <= 1.0 for a in result["approaches"])
    assert {a["product_verdict"] for a in result["approaches"][1:]} <= {
        "product worse",
        "product better",
        "within noise",
    }
