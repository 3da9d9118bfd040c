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


def _result(shape: str, product: float, aps: dict[str, float], worse: set[str], selected: str = "hgb") -> dict:
    approaches = [{"name": "product", "average_precision": product}]
    for name, ap in aps.items():
        verdict = "product worse" if name in worse else "within noise"
        delta = {"delta": product - ap, "ci": [-0.1, 0.1]}
        approaches.append(
            {"name": name, "average_precision": ap, "product_minus_this": delta, "product_verdict": verdict}
        )
    return {"case": {"name": f"{shape} seed 1", "shape": shape}, "selected": selected, "approaches": approaches}


def test_every_data_shape_gives_a_stratified_split_with_positives_on_both_sides() -> None:
    from bench.bench_quality import LABEL, SHAPES, one_hot, shape_cases

    for case in shape_cases(list(SHAPES), [1], scale=0.3):
        train, test = case.data()
        assert train[LABEL].sum() > 0, case.name
        assert test[LABEL].sum() > 0, case.name
        assert abs(len(test) / (len(train) + len(test)) - 0.2) < 0.01
        X_train, X_test = one_hot(train, test)
        assert list(X_train.columns) == list(X_test.columns)
        assert all(str(t) != "object" for t in X_train.dtypes), case.name


def test_versus_takes_the_best_classic_recipe_in_hindsight_not_hgb_script() -> None:
    from bench.bench_quality import compare_rows, versus

    aps = {"rf": 0.4, "smote_rf": 0.45, "hgb_script": 0.6}
    before, after = _result("1:20", 0.5, aps, worse={"hgb_script"}), _result("1:20", 0.6, aps, worse=set())
    v = versus(before)
    assert v["best_recipe"] == "smote_rf"
    assert abs(v["ratio"] - 0.5 / 0.45) < 1e-12
    assert v["vs_hgb"]["verdict"] == "product worse"
    assert v["vs_best"]["verdict"] == "within noise"
    rows = compare_rows([before], [after])
    assert rows[0][:2] == ["1:20", "1/1"]
    assert rows[0][8:10] == ["1/1", "0/1"]
    assert rows[-1][0] == "all cases"
