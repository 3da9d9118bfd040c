"""HistGradientBoosting with the old median imputation + scaling in front of it, against raw numeric columns.

Issue 14 dropped that step for HGB without a sampler or PCA (HGB bins by quantiles and routes missing values
itself). Same data, split and seed for both: fraud-like synthetic frames (``imbalance_jobs.synthetic``, 60k rows,
5% missing values per numeric column), the default ``hgb`` candidate, test AP and the paired bootstrap interval of
AP(raw) - AP(imputed), per seed.

    python -m bench.bench_hgb_preprocess            # 5 seeds
    python -m bench.bench_hgb_preprocess --quick    # 1 seed
"""

from __future__ import annotations

import argparse
import datetime as dt
import time


def one_seed(seed: int) -> dict[str, float]:
    import pandas as pd
    from sklearn.model_selection import train_test_split

    import imbalance_jobs.models as models
    from imbalance_jobs.config import default_candidates
    from imbalance_jobs.evaluation import average_precision, paired_bootstrap
    from imbalance_jobs.features import FeatureSpec
    from imbalance_jobs.synthetic import SyntheticSpec, make_frame

    days = [dt.date(2026, 11, 20) + dt.timedelta(days=k) for k in range(3)]
    frame = pd.concat(
        [make_frame(SyntheticSpec(rows=20_000, null_fraction=0.05), seed=seed, day=d) for d in days], ignore_index=True
    )
    y = frame.pop("is_fraud").to_numpy()
    X = frame.drop(columns=["txn_id", "event_time"])
    numeric = tuple(c for c in X.columns if X[c].dtype.kind in "fiu")
    features = FeatureSpec(numeric, tuple(c for c in X.columns if c not in numeric))
    X_fit, X_test, y_fit, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=seed)
    hgb = {c.name: c for c in default_candidates()}["hgb"]
    original = models._preprocess
    scores, seconds = {}, {}
    try:
        for name, as_is in (("imputed", False), ("raw", True)):
            models._preprocess = lambda f, lay, m, *, numeric_as_is, _as_is=as_is: original(
                f, lay, m, numeric_as_is=_as_is
            )
            start = time.perf_counter()
            model = models.build_pipeline(hgb, features, y_fit, seed=seed).fit(X_fit, y_fit)
            seconds[name] = time.perf_counter() - start
            scores[name] = model.predict_proba(X_test)[:, 1]
    finally:
        models._preprocess = original
    gain = paired_bootstrap(y_test, scores["imputed"], scores["raw"], n_resamples=500, confidence=0.95, seed=0)
    return {
        "seed": seed,
        "ap_imputed": average_precision(y_test, scores["imputed"]),
        "ap_raw": average_precision(y_test, scores["raw"]),
        "gain_low": gain.ci_low,
        "gain_high": gain.ci_high,
        "fit_s_imputed": seconds["imputed"],
        "fit_s_raw": seconds["raw"],
        "test_positives": int(y_test.sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_hgb_preprocess")
    parser.add_argument("--seeds", default="1,2,3,4,5")
    parser.add_argument("--quick", action="store_true", help="one seed")
    args = parser.parse_args(argv)
    seeds = [1] if args.quick else [int(s) for s in args.seeds.split(",")]
    rows = [one_seed(s) for s in seeds]
    for r in rows:
        print(
            f"seed {r['seed']}: AP imputed {r['ap_imputed']:.4f}, raw {r['ap_raw']:.4f}, raw - imputed 95% CI "
            f"[{r['gain_low']:+.4f}, {r['gain_high']:+.4f}]; fit {r['fit_s_imputed']:.1f} s / {r['fit_s_raw']:.1f} s; "
            f"{r['test_positives']} test positives"
        )
    mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("ap_imputed", "ap_raw")}
    print(f"mean AP: imputed {mean['ap_imputed']:.4f}, raw {mean['ap_raw']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
