"""Overhead (a): the bare script a user would write instead of the product, timed stage by stage.

Load the day partitions (local parquet files) -> stratified 80/20 split -> fit the selected model -> score the
test rows (predict_proba + Average Precision). No validation, calibration, threshold, bootstrap or artifacts.
The model is the candidate's own training pipeline (``imbalance_jobs.models.build_pipeline``: the same
preprocessing, sampler, estimator and parameters the product fits), so the ratio to the product measures the
product's machinery and nothing else. ``--cv K`` adds what the product's train stage does on the same 80%:
stratified K-fold cross-validation (shuffled, the same seed), then the refit on all of it; ``fit_seconds`` is the
time spent in those fits (and their predictions), as the product's ``fit_seconds``.

    python -m bench._bare DATA_DIR --candidate hgb --label is_fraud --drop txn_id,event_time [--cv 3]
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
    parser.add_argument("--cv", type=int, default=0, help="K-fold cross-validation before the refit (0: none)")
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frame = pd.concat([pd.read_parquet(p) for p in sorted(args.data.glob("**/*.parquet"))], ignore_index=True)
    X = frame.drop(columns=[args.label, *args.drop.split(",")])
    y = frame[args.label].to_numpy()
    t = _lap(seconds, "load", t)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)
    t = _lap(seconds, "split", t)
    cv_scores = cross_validate(args, X_train, y_train) if args.cv else []
    if args.cv:
        t = _lap(seconds, "cv", t)
    model = model_for(args.candidate, X_train, y_train, seed=args.seed).fit(X_train, y_train)
    t = _lap(seconds, "fit", t)
    ap = average_precision_score(y_test, model.predict_proba(X_test)[:, 1])
    _lap(seconds, "score", t)
    fit_seconds = seconds.get("cv", 0.0) + seconds["fit"]
    result = {"seconds": seconds, "rows": len(frame), "test_average_precision": float(ap), "cv_scores": cv_scores}
    emit_result({**result, "fit_seconds": round(fit_seconds, 3)})
    return 0


def cross_validate(args: argparse.Namespace, X: Any, y: Any) -> list[float]:
    """Stratified K-fold AP of fresh pipelines, as a user would write it (the product's folds: same seed)."""
    from sklearn.metrics import average_precision_score
    from sklearn.model_selection import StratifiedKFold

    scores = []
    for fit_rows, held_out in StratifiedKFold(args.cv, shuffle=True, random_state=args.seed).split(X, y):
        model = model_for(args.candidate, X.iloc[fit_rows], y[fit_rows], seed=args.seed)
        model.fit(X.iloc[fit_rows], y[fit_rows])
        scores.append(float(average_precision_score(y[held_out], model.predict_proba(X.iloc[held_out])[:, 1])))
    return scores


def _lap(seconds: dict[str, float], name: str, since: float) -> float:
    now = time.perf_counter()
    seconds[name] = round(now - since, 3)
    return now


if __name__ == "__main__":
    sys.exit(main())
