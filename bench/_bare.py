"""Overhead (a): the bare script a user would write instead of the product, timed stage by stage.

Load the day partitions (local parquet files) -> stratified 80/20 split -> fit the selected model -> score the
test rows (predict_proba + Average Precision). No validation, cross-validation, calibration, threshold, bootstrap
or artifacts. The model is the candidate's own training pipeline (``imbalance_jobs.models.build_pipeline``: the
same preprocessing, sampler, estimator and parameters the product fits), so the ratio to the product measures the
product's machinery and nothing else.

    python -m bench._bare DATA_DIR --candidate hgb --label is_fraud --drop txn_id,event_time
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import emit_result


def model_for(candidate: str, X: Any, y: Any, *, seed: int) -> Any:
    """The candidate's pipeline from the product's default list; columns typed as the product infers them."""
    from imbalance_jobs.config import default_candidates
    from imbalance_jobs.features import FeatureSpec
    from imbalance_jobs.models import build_pipeline

    config = {c.name: c for c in default_candidates()}[candidate]
    numeric = tuple(c for c in X.columns if X[c].dtype.kind in "fiu")
    features = FeatureSpec(numeric=numeric, categorical=tuple(c for c in X.columns if c not in numeric))
    return build_pipeline(config, features, y, seed=seed)


def main(argv: list[str] | None = None) -> int:
    import pandas as pd
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import train_test_split

    parser = argparse.ArgumentParser(prog="python -m bench._bare")
    parser.add_argument("data", type=Path)
    parser.add_argument("--candidate", default="hgb")
    parser.add_argument("--label", default="is_fraud")
    parser.add_argument("--drop", default="txn_id,event_time")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frame = pd.concat([pd.read_parquet(p) for p in sorted(args.data.glob("**/*.parquet"))], ignore_index=True)
    X = frame.drop(columns=[args.label, *args.drop.split(",")])
    y = frame[args.label].to_numpy()
    t = _lap(seconds, "load", t)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)
    t = _lap(seconds, "split", t)
    model = model_for(args.candidate, X_train, y_train, seed=args.seed).fit(X_train, y_train)
    t = _lap(seconds, "fit", t)
    ap = average_precision_score(y_test, model.predict_proba(X_test)[:, 1])
    _lap(seconds, "score", t)
    emit_result({"seconds": seconds, "rows": len(frame), "test_average_precision": float(ap)})
    return 0


def _lap(seconds: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    seconds[name] = round(now - since, 3)
    return now


if __name__ == "__main__":
    sys.exit(main())
