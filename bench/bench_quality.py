"""Quality: what the product picks by itself against the classic scripted recipes, scored on the same test rows.

The classic recipes are what the widely read tutorials write by hand: ``train_test_split(test_size=0.2)``, then a
RandomForest (scikit-learn defaults, ``random_state=seed``) alone, with ``class_weight="balanced"``, or after
SMOTE / BorderlineSMOTE / ADASYN / RandomUnderSampler / SMOTETomek (imbalanced-learn defaults: balance to 1:1)
applied to the training rows, scored with ``predict_proba`` and judged at ``predict``'s cut, 0.5. One reference
that is no classic recipe: ``hgb_script``, HistGradientBoosting with defaults on all the training rows (the
product's usual kind of pick, without the product's validation hold-out, CV selection or calibration).

The product gets the same 80% training rows and never sees the test rows. It splits a validation part off them
the way ``imbalance_jobs.split`` does (a stratified, seeded 20%-of-all cut), then the real train and select stages
run against a local S3 server: every candidate of the default sweep (``imbalance_jobs.config.default_candidates``)
is cross-validated with resampling inside each fold, the best is refit, calibrated and given its operating
threshold on the validation rows; the stored bundle then scores the classic test rows (``DeployedModel``).

Figures per approach: Average Precision with its bootstrap interval (``bootstrap_ci``), the paired bootstrap
interval of AP(product) - AP(recipe) on the same rows (``paired_bootstrap``; an interval wholly below 0 means the
product loses by more than noise), and minority precision / recall at 0.5 and, for the product, at its threshold.

Cases: the classic example (``make_classification(n_samples=10000, n_features=20, n_informative=10,
weights=[0.95, 0.05], random_state=42)``, unstratified split with ``random_state=42``) and a sweep over imbalance
ratios and seeds. The sweep sets ``flip_y=0`` (the default 1% random labels would otherwise outnumber the true
positives at 1:500) and stratifies the split; the row count grows with the ratio so each case keeps at least
``--min-positives`` positives.

    python -m bench.bench_quality               # classic example + ratios 1:20, 1:100, 1:500 x 3 seeds
    python -m bench.bench_quality --quick       # classic example + one small sweep case
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench._common import machine, markdown_table, median, seconds_text, table, write_results

RECIPES = (
    "rf",
    "rf_balanced",
    "smote_rf",
    "borderline_smote_rf",
    "adasyn_rf",
    "under_rf",
    "smote_tomek_rf",
    "hgb_script",
)
PRODUCT = "product"
LABEL = "label"


@dataclass(frozen=True)
class Case:
    """One dataset and its classic train/test split."""

    name: str
    rows: int
    weights: tuple[float, float]
    seed: int
    flip_y: float
    stratify: bool

    def data(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from sklearn.datasets import make_classification
        from sklearn.model_selection import train_test_split

        X, y = make_classification(
            n_samples=self.rows,
            n_features=20,
            n_informative=10,
            weights=list(self.weights),
            flip_y=self.flip_y,
            random_state=self.seed,
        )
        frame = pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(X.shape[1])]).assign(**{LABEL: y})
        train, test = train_test_split(
            frame, test_size=0.2, random_state=self.seed, stratify=frame[LABEL] if self.stratify else None
        )
        return train.reset_index(drop=True), test.reset_index(drop=True)


def classic_case(rows: int = 10_000) -> Case:
    return Case("classic 1:20 (seed 42)", rows, (0.95, 0.05), 42, 0.01, False)


def sweep_cases(ratios: list[int], seeds: list[int], min_positives: int, min_rows: int) -> list[Case]:
    cases = []
    for ratio in ratios:
        rows = max(min_rows, ratio * min_positives)
        share = 1.0 / (ratio + 1)
        cases += [Case(f"1:{ratio} seed {s}", rows, (1 - share, share), s, 0.0, True) for s in seeds]
    return cases


# -- the classic recipes ----------------------------------------------------------------------------------------
def recipe(name: str, seed: int) -> Any:
    """The hand-written recipe ``name``: a RandomForest, alone or behind one imbalanced-learn sampler."""
    from imblearn.combine import SMOTETomek
    from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE
    from imblearn.pipeline import make_pipeline
    from imblearn.under_sampling import RandomUnderSampler
    from sklearn.ensemble import RandomForestClassifier

    samplers: dict[str, Callable[[], Any]] = {
        "smote_rf": lambda: SMOTE(random_state=seed),
        "borderline_smote_rf": lambda: BorderlineSMOTE(random_state=seed),
        "adasyn_rf": lambda: ADASYN(random_state=seed),
        "under_rf": lambda: RandomUnderSampler(random_state=seed),
        "smote_tomek_rf": lambda: SMOTETomek(random_state=seed),
    }
    if name == "hgb_script":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(random_state=seed)
    if name == "rf":
        return RandomForestClassifier(random_state=seed)
    if name == "rf_balanced":
        return RandomForestClassifier(class_weight="balanced", random_state=seed)
    return make_pipeline(samplers[name](), RandomForestClassifier(random_state=seed))


def run_recipe(name: str, case: Case, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    started = time.perf_counter()
    model = recipe(name, case.seed).fit(train.drop(columns=LABEL), train[LABEL])
    scores = model.predict_proba(test.drop(columns=LABEL))[:, 1]
    return {"name": name, "scores": scores, "threshold": None, "fit_seconds": time.perf_counter() - started}


# -- the product ------------------------------------------------------------------------------------------------
def product_config(seed: int, artifacts: str, candidates: list[str] | None = None) -> Any:
    """A config that lists no candidates, so the product's default sweep is used; everything else default.

    ``candidates`` keeps a subset of that sweep (for a quick check of this script, not for figures).
    """
    from imbalance_jobs.config import PipelineConfig, default_candidates

    data: dict[str, Any] = {
        "name": "quality_bench",
        "seed": seed,
        "source": {"bucket": "bench-source"},
        "artifacts": {"bucket": artifacts},
        "label": {"column": LABEL},
    }
    if candidates:
        data["training"] = {"candidates": [c.model_dump() for c in default_candidates() if c.name in candidates]}
    return PipelineConfig.model_validate(data)


def product_split(config: Any, train: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The validation cut of ``imbalance_jobs.split`` (stratified, seeded), taken from the classic train rows."""
    from sklearn.model_selection import train_test_split

    share = config.split.validation_size / (1.0 - config.split.test_size)
    fit_rows, val_rows = train_test_split(
        np.arange(len(train)), test_size=share, stratify=train[LABEL], random_state=config.seed
    )
    return train.iloc[np.sort(fit_rows)].reset_index(drop=True), train.iloc[np.sort(val_rows)].reset_index(drop=True)


def run_product(
    store: Any, case: Case, train: pd.DataFrame, test: pd.DataFrame, index: int, candidates: list[str] | None
) -> dict[str, Any]:
    """The real train and select stages on the classic train rows; the stored bundle scores the test rows."""
    from imbalance_jobs.context import RunContext, RunOptions
    from imbalance_jobs.scoring import DeployedModel
    from imbalance_jobs.selection import select
    from imbalance_jobs.training import train_candidates

    config = product_config(case.seed, "bench-quality", candidates)
    store.ensure_bucket(config.artifacts.bucket)
    ctx = RunContext(config, f"quality-{index}", dt.date(2026, 11, 27), store, RunOptions(triggered_by="bench"))
    started = time.perf_counter()
    fit_part, val_part = product_split(config, train)
    train_uri, val_uri = ctx.staging_uri("split", "train.parquet"), ctx.staging_uri("split", "validation.parquet")
    store.put_frame(train_uri, fit_part)
    store.put_frame(val_uri, val_part)
    candidates = train_candidates(ctx, train_uri)
    selection = select(ctx, candidates, val_uri)
    model = DeployedModel.load(store, selection.bundle_prefix)
    scores = model.scores(test)
    seconds = time.perf_counter() - started
    return {
        "name": PRODUCT,
        "scores": scores,
        "threshold": model.threshold,
        "fit_seconds": seconds,
        "selected": selection.candidate,
        "candidates_test_ap": candidates_on_test(store, candidates, test),
        "calibration": selection.calibration.get("method"),
        "leaderboard": [
            {k: r[k] for k in ("name", "cv_mean", "cv_std", "status", "error")} for r in selection.leaderboard
        ],
    }


def candidates_on_test(store: Any, candidates: list[Any], test: pd.DataFrame) -> dict[str, float | None]:
    """Diagnostic, never used to choose: each trained candidate's AP on the test rows (was the pick the best?)."""
    from imbalance_jobs.evaluation import average_precision
    from imbalance_jobs.model_io import load_model

    out: dict[str, float | None] = {}
    for result in candidates:
        if result.status != "ok":
            out[result.name] = None
            continue
        columns = [*result.features["numeric"], *result.features["categorical"]]
        proba = load_model(store, result.model_uri).predict_proba(test[columns])[:, 1]
        out[result.name] = average_precision(test[LABEL].to_numpy(), proba)
    return out


# -- figures ----------------------------------------------------------------------------------------------------
def at_threshold(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, float | None]:
    from imbalance_jobs.evaluation import binary_metrics

    m = binary_metrics(y, scores, threshold=threshold)
    return {"precision": m.precision, "recall": m.recall, "f1": m.f1}


def figures(y: np.ndarray, run: dict[str, Any], product: dict[str, Any], n_boot: int) -> dict[str, Any]:
    """AP + bootstrap CI, the paired AP delta against the product, and precision/recall at the cuts."""
    from imbalance_jobs.evaluation import bootstrap_ci, paired_bootstrap

    ci = bootstrap_ci(y, run["scores"], metric="average_precision", n_resamples=n_boot, confidence=0.95, seed=0)
    out = {
        "name": run["name"],
        "average_precision": ci.point,
        "ap_ci": [ci.low, ci.high],
        "at_0.5": at_threshold(y, run["scores"], 0.5),
        "fit_seconds": round(run["fit_seconds"], 2),
    }
    if run["threshold"] is not None:
        out["threshold"] = run["threshold"]
        out["at_threshold"] = at_threshold(y, run["scores"], run["threshold"])
    if run is not product:
        pb = paired_bootstrap(y, run["scores"], product["scores"], n_resamples=n_boot, confidence=0.95, seed=0)
        out["product_minus_this"] = {"delta": pb.delta, "ci": [pb.ci_low, pb.ci_high]}
        out["product_verdict"] = verdict(pb.ci_low, pb.ci_high)
    return out


def verdict(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return "undefined"
    if high < 0:
        return "product worse"
    if low > 0:
        return "product better"
    return "within noise"


def run_case(store: Any, case: Case, index: int, args: argparse.Namespace) -> dict[str, Any]:
    train, test = case.data()
    y = test[LABEL].to_numpy()
    print(
        f"\n{case.name}: {case.rows} rows, train {len(train)} ({int(train[LABEL].sum())} positive), "
        f"test {len(test)} ({int(y.sum())} positive)",
        file=sys.stderr,
        flush=True,
    )
    subset = args.product_candidates.split(",") if args.product_candidates else None
    product = run_product(store, case, train, test, index, subset)
    print(f"  product selected {product['selected']} in {product['fit_seconds']:.1f}s", file=sys.stderr, flush=True)
    runs = [product]
    for name in args.recipes.split(","):
        runs.append(run_recipe(name, case, train, test))
        print(f"  {name} in {runs[-1]['fit_seconds']:.1f}s", file=sys.stderr, flush=True)
    return {
        "case": case.__dict__,
        "train_rows": len(train),
        "train_positives": int(train[LABEL].sum()),
        "test_rows": len(test),
        "test_positives": int(y.sum()),
        "selected": product["selected"],
        "calibration": product["calibration"],
        "leaderboard": product["leaderboard"],
        "candidates_test_ap": product["candidates_test_ap"],
        "approaches": [figures(y, run, product, args.bootstrap) for run in runs],
    }


# -- tables -----------------------------------------------------------------------------------------------------
def _pr(d: dict[str, Any] | None) -> tuple[Any, Any]:
    return (None, None) if d is None else (d["precision"], d["recall"])


def case_rows(result: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for a in result["approaches"]:
        delta = a.get("product_minus_this")
        label = f"product ({result['selected']})" if a["name"] == PRODUCT else a["name"]
        rows.append(
            [
                label,
                f"{a['average_precision']:.3f}",
                f"[{a['ap_ci'][0]:.3f}, {a['ap_ci'][1]:.3f}]",
                "-" if delta is None else f"{delta['delta']:+.3f} [{delta['ci'][0]:+.3f}, {delta['ci'][1]:+.3f}]",
                *_pr(a["at_0.5"]),
                *_pr(a.get("at_threshold")),
                seconds_text(a["fit_seconds"]),
            ]
        )
    return rows


CASE_HEADERS = ["approach", "AP", "AP 95% CI", "product - this (95% CI)", "P@0.5", "R@0.5", "P@thr", "R@thr", "s"]


def sweep_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    """Per ratio and approach: median AP over seeds and how often the product was significantly worse/better."""
    rows = []
    for ratio in sorted({r["case"]["name"].split(" ")[0] for r in results}, key=lambda s: int(s[2:])):
        group = [r for r in results if r["case"]["name"].startswith(ratio + " ")]
        for name in (PRODUCT, *RECIPES):
            found = [a for r in group for a in r["approaches"] if a["name"] == name]
            if not found:
                continue
            verdicts = [a.get("product_verdict") for a in found]
            rows.append(
                [
                    f"{ratio} {name}",
                    len(found),
                    median([a["average_precision"] for a in found]),
                    median([a["at_0.5"]["recall"] or 0.0 for a in found]),
                    "-" if name == PRODUCT else f"{verdicts.count('product worse')}/{verdicts.count('product better')}",
                ]
            )
        rows.append([f"{ratio} product picked", "", ", ".join(r["selected"] for r in group), "", ""])
    return rows


SWEEP_HEADERS = ["ratio approach", "seeds", "median AP", "median R@0.5", "product worse/better"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_quality", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="classic example + one small sweep case")
    parser.add_argument("--ratios", default="20,100,500", help="negatives per positive in the sweep")
    parser.add_argument("--seeds", default="1,2,3", help="make_classification / split / product seeds")
    parser.add_argument("--min-positives", type=int, default=100, help="rows = max(min-rows, ratio x this)")
    parser.add_argument("--min-rows", type=int, default=10_000)
    parser.add_argument("--classic-rows", type=int, default=10_000, help="rows of the classic example")
    parser.add_argument("--no-sweep", action="store_true", help="the classic example only")
    parser.add_argument("--recipes", default=",".join(RECIPES), help="comma-separated subset of the recipes")
    parser.add_argument("--product-candidates", default=None, help="subset of the default sweep (checks only)")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples per interval")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/quality.json)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.recipes.split(",")) - set(RECIPES))
    if unknown:
        parser.error(f"--recipes: unknown {unknown}; choose from {', '.join(RECIPES)}")
    if args.quick:
        args.ratios, args.seeds, args.min_positives, args.bootstrap = "100", "1", 50, min(args.bootstrap, 300)
    return args


def run_quality(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Every case of ``args`` against ``store`` (an object store the product's stages can write to)."""
    cases = [classic_case(args.classic_rows)]
    if not args.no_sweep:
        ints = [int(v) for v in args.ratios.split(",")], [int(v) for v in args.seeds.split(",")]
        cases += sweep_cases(*ints, args.min_positives, args.min_rows)
    started = time.perf_counter()
    results = [run_case(store, case, i, args) for i, case in enumerate(cases)]
    return {"benchmark": "quality", "args": vars(args), "results": results, "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    from pathlib import Path

    from imbalance_jobs.local_s3 import LocalS3Server
    from imbalance_jobs.storage import ObjectStore

    args = parse_args(argv)
    env, started = machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        payload = {"machine": env, **run_quality(ObjectStore(server.settings), args)}
    report(payload["results"])
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    path = write_results("quality", payload, path=Path(args.output) if args.output else None)
    print(f"\nwrote {path} ({payload['total_seconds']:.0f}s)")
    return 0


SELECTION_HEADERS = ["product candidate", "CV AP (train part)", "test AP (diagnostic)", "picked"]


def selection_rows(result: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            r["name"],
            "failed" if r["cv_mean"] is None else f"{r['cv_mean']:.3f}",
            "-"
            if result["candidates_test_ap"].get(r["name"]) is None
            else f"{result['candidates_test_ap'][r['name']]:.3f}",
            "yes" if r["name"] == result["selected"] else "",
        ]
        for r in result["leaderboard"]
    ]


def report(results: list[dict[str, Any]]) -> None:
    classic = results[0]
    print(
        table(
            CASE_HEADERS,
            case_rows(classic),
            title=f"\n{classic['case']['name']}: "
            f"test {classic['test_rows']} rows, {classic['test_positives']} positive",
        )
    )
    print("\n" + markdown_table(CASE_HEADERS, case_rows(classic)))
    print(table(SELECTION_HEADERS, selection_rows(classic), title="\nthe product's own choice (classic example)"))
    print("\n" + markdown_table(SELECTION_HEADERS, selection_rows(classic)))
    sweep = results[1:]
    if sweep:
        print(table(SWEEP_HEADERS, sweep_rows(sweep), title="\nsweep (flip_y=0, stratified split)"))
        print("\n" + markdown_table(SWEEP_HEADERS, sweep_rows(sweep)))
        for r in sweep:
            print(
                table(
                    CASE_HEADERS,
                    case_rows(r),
                    title=f"\n{r['case']['name']}: {r['case']['rows']} rows, test {r['test_positives']} positive",
                )
            )
            print(table(SELECTION_HEADERS, selection_rows(r)))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
