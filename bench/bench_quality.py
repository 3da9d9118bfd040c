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

Data shapes (``--shapes``, issue 11): generated sets at 1:20, 1:100 and 1:500, a fraud-like table with two
categorical columns (``imbalance_jobs.synthetic.make_frame``), a generated set with label noise (``flip_y``), and
scikit-learn's bundled digits made one-vs-rest (digit 8 against the rest, positives subsampled to 1:20), each
with a stratified 80/20 split per seed. The recipes see categoricals one-hot encoded (``pd.get_dummies``, as the
tutorials do); the product sees the raw columns. Per shape: the product against ``hgb_script`` and against the
best classic recipe in hindsight (the RandomForest recipe with the highest test AP in that case), paired intervals
and the ratio AP(product) / AP(best recipe). ``--compare before.json after.json`` prints two runs side by side.

    python -m bench.bench_quality               # classic example + ratios 1:20, 1:100, 1:500 x 3 seeds
    python -m bench.bench_quality --quick       # classic example + one small sweep case
    python -m bench.bench_quality --shapes all --label after     # the six data shapes x 3 seeds
    python -m bench.bench_quality --shapes all --quick            # the six shapes, one seed, smaller (a check)
    python -m bench.bench_quality --compare bench/results/quality-shapes-before.json \
        bench/results/quality-shapes-after.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import inspect
import json
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bench._common import machine, markdown_table, median, seconds_text, table, write_results

CLASSIC = (
    "rf",
    "rf_balanced",
    "smote_rf",
    "borderline_smote_rf",
    "adasyn_rf",
    "under_rf",
    "smote_tomek_rf",
)
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


@dataclass(frozen=True)
class Shape:
    """One data shape of the ``--shapes`` sweep: how its rows are made (``rows`` before ``--rows-scale``)."""

    name: str
    kind: str
    rows: int
    ratio: int
    flip_y: float = 0.0
    about: str = ""


SHAPES = {
    s.name: s
    for s in (
        Shape("1:20", "generated", 6_000, 20, about="make_classification, 20 features (10 informative), flip_y=0"),
        Shape("1:100", "generated", 10_000, 100, about="as 1:20"),
        Shape("1:500", "generated", 15_000, 500, about="as 1:20"),
        Shape(
            "categorical",
            "categorical",
            8_000,
            50,
            about="synthetic.make_frame: 9 numeric (amount) + merchant_category (8 levels) + channel (3 levels)",
        ),
        Shape("label_noise", "generated", 8_000, 30, flip_y=0.02, about="as 1:20, 1:30, flip_y=0.02"),
        Shape("digits_8", "digits", 1_797, 20, about="load_digits, 64 pixels, 8 positive, subsampled to 1:20"),
    )
}


@dataclass(frozen=True)
class ShapeCase:
    """One shape at one seed, with a stratified 80/20 split seeded the same."""

    name: str
    shape: str
    rows: int
    seed: int

    def frame(self) -> pd.DataFrame:
        shape = SHAPES[self.shape]
        if shape.kind == "generated":
            from sklearn.datasets import make_classification

            share = 1.0 / (shape.ratio + 1)
            X, y = make_classification(
                n_samples=self.rows,
                n_features=20,
                n_informative=10,
                weights=[1 - share, share],
                flip_y=shape.flip_y,
                random_state=self.seed,
            )
            return pd.DataFrame(X, columns=[f"x{i:02d}" for i in range(X.shape[1])]).assign(**{LABEL: y})
        if shape.kind == "categorical":
            from imbalance_jobs.synthetic import SyntheticSpec, make_frame

            spec = SyntheticSpec(
                rows=self.rows, positive_rate=1.0 / (shape.ratio + 1), null_fraction=0.0, label_column=LABEL
            )
            frame = make_frame(spec, seed=self.seed, day=dt.date(2026, 11, 27))
            return frame.drop(columns=["txn_id", "event_time"])
        from sklearn.datasets import load_digits

        digits = load_digits()
        y = (digits.target == 8).astype(np.int64)
        rng = np.random.default_rng(self.seed)
        negatives, positives = np.flatnonzero(y == 0), np.flatnonzero(y == 1)
        keep = rng.choice(positives, size=max(2, round(len(negatives) / shape.ratio)), replace=False)
        rows = np.sort(np.concatenate([negatives, keep]))
        frame = pd.DataFrame(digits.data[rows], columns=[f"px{i:02d}" for i in range(digits.data.shape[1])])
        return frame.assign(**{LABEL: y[rows]})

    def data(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from sklearn.model_selection import train_test_split

        frame = self.frame()
        train, test = train_test_split(frame, test_size=0.2, random_state=self.seed, stratify=frame[LABEL])
        return train.reset_index(drop=True), test.reset_index(drop=True)


def shape_cases(names: list[str], seeds: list[int], scale: float) -> list[ShapeCase]:
    cases = []
    for name in names:
        shape = SHAPES[name]
        rows = shape.rows if shape.kind == "digits" else max(1_000, round(shape.rows * scale))
        cases += [ShapeCase(f"{name} seed {s}", name, rows, s) for s in seeds]
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


def one_hot(train: pd.DataFrame, test: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features as the tutorials feed them to a RandomForest: ``pd.get_dummies``, test columns aligned to train."""
    X_train, X_test = train.drop(columns=LABEL), test.drop(columns=LABEL)
    text = [c for c in X_train.columns if not pd.api.types.is_numeric_dtype(X_train[c])]
    if not text:
        return X_train, X_test
    X_train = pd.get_dummies(X_train, columns=text, dtype=float)
    X_test = pd.get_dummies(X_test, columns=text, dtype=float).reindex(columns=X_train.columns, fill_value=0.0)
    return X_train, X_test


def run_recipe(name: str, case: Any, train: pd.DataFrame, test: pd.DataFrame) -> dict[str, Any]:
    started = time.perf_counter()
    X_train, X_test = one_hot(train, test)
    model = recipe(name, case.seed).fit(X_train, train[LABEL])
    scores = model.predict_proba(X_test)[:, 1]
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
    store: Any, case: Any, train: pd.DataFrame, test: pd.DataFrame, index: int, candidates: list[str] | None
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
    if "validation_uri" in inspect.signature(train_candidates).parameters:  # cross-fitting on every non-test row
        candidates = train_candidates(ctx, train_uri, validation_uri=val_uri)
    else:  # before issue 11: CV on the train part only
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
        "fit_rows": getattr(selection, "fit_rows", None) or len(fit_part),
        "selection_reason": getattr(selection, "selection_reason", None),
        "leaderboard": [
            {k: r.get(k) for k in ("name", "cv_mean", "cv_std", "status", "error")} for r in selection.leaderboard
        ],
    }


def candidates_on_test(store: Any, candidates: list[Any], test: pd.DataFrame) -> dict[str, float | None]:
    """Diagnostic, never used to choose: each trained candidate's AP on the test rows (was the pick the best?)."""
    from imbalance_jobs.evaluation import average_precision
    from imbalance_jobs.model_io import load_model

    out: dict[str, float | None] = {}
    for result in candidates:
        if result.status != "ok" or not result.model_uri:
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


def run_case(store: Any, case: Any, index: int, args: argparse.Namespace) -> dict[str, Any]:
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
        "fit_rows": product["fit_rows"],
        "selection_reason": product["selection_reason"],
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


def versus(result: dict[str, Any]) -> dict[str, Any]:
    """One case: the product against ``hgb_script`` and against the best classic recipe in hindsight."""
    by_name = {a["name"]: a for a in result["approaches"]}
    classic = [by_name[n] for n in CLASSIC if n in by_name]
    best = max(classic, key=lambda a: a["average_precision"]) if classic else None
    product = by_name[PRODUCT]["average_precision"]

    def paired(a: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if a is None else {**a["product_minus_this"], "verdict": a["product_verdict"]}

    return {
        "product": product,
        "hgb_script": by_name["hgb_script"]["average_precision"] if "hgb_script" in by_name else None,
        "best_recipe": None if best is None else best["name"],
        "best_recipe_ap": None if best is None else best["average_precision"],
        "ratio": None if not best or not best["average_precision"] else product / best["average_precision"],
        "vs_hgb": paired(by_name.get("hgb_script")),
        "vs_best": paired(best),
    }


def _shape_of(result: dict[str, Any]) -> str:
    return result["case"].get("shape") or result["case"]["name"]


def _count(group: list[dict[str, Any]], key: str, verdict_text: str) -> str:
    found = [v[key]["verdict"] for v in (versus(r) for r in group) if v[key] is not None]
    return f"{found.count(verdict_text)}/{len(found)}"


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


def shape_rows(results: list[dict[str, Any]]) -> list[list[Any]]:
    """Per shape: medians over seeds, the mean ratio to the best recipe, significant losses and the picks."""
    rows = []
    for shape in dict.fromkeys(_shape_of(r) for r in results):
        group = [r for r in results if _shape_of(r) == shape]
        vs = [versus(r) for r in group]
        rows.append(
            [
                shape,
                len(group),
                median([v["product"] for v in vs]),
                median([v["hgb_script"] for v in vs if v["hgb_script"] is not None]),
                median([v["best_recipe_ap"] for v in vs if v["best_recipe_ap"] is not None]),
                _mean([v["ratio"] for v in vs]),
                _count(group, "vs_hgb", "product worse"),
                _count(group, "vs_best", "product worse"),
                _count(group, "vs_best", "product better"),
                ", ".join(r["selected"] for r in group),
                ", ".join(str(v["best_recipe"]) for v in vs),
            ]
        )
    vs = [versus(r) for r in results]
    rows.append(
        [
            "all cases",
            len(results),
            median([v["product"] for v in vs]),
            median([v["hgb_script"] for v in vs if v["hgb_script"] is not None]),
            median([v["best_recipe_ap"] for v in vs if v["best_recipe_ap"] is not None]),
            _mean([v["ratio"] for v in vs]),
            _count(results, "vs_hgb", "product worse"),
            _count(results, "vs_best", "product worse"),
            _count(results, "vs_best", "product better"),
            "",
            "",
        ]
    )
    return rows


SHAPE_HEADERS = [
    "shape",
    "seeds",
    "product AP",
    "hgb_script AP",
    "best recipe AP",
    "mean ratio",
    "worse than hgb",
    "worse than best",
    "better than best",
    "product picked",
    "best recipe",
]


def compare_rows(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[list[Any]]:
    """Two runs on the same cases side by side: the product's AP before and after, the references once."""
    rows = []
    shapes = list(dict.fromkeys(_shape_of(r) for r in after))
    for shape in [*shapes, "all cases"]:
        b = [r for r in before if shape in ("all cases", _shape_of(r))]
        a = [r for r in after if shape in ("all cases", _shape_of(r))]
        vb, va = [versus(r) for r in b], [versus(r) for r in a]
        rows.append(
            [
                shape,
                f"{len(b)}/{len(a)}",
                median([v["product"] for v in vb]) if vb else None,
                median([v["product"] for v in va]) if va else None,
                median([v["hgb_script"] for v in va if v["hgb_script"] is not None]) if va else None,
                median([v["best_recipe_ap"] for v in va if v["best_recipe_ap"] is not None]) if va else None,
                _mean([v["ratio"] for v in vb]),
                _mean([v["ratio"] for v in va]),
                _count(b, "vs_hgb", "product worse") if b else "-",
                _count(a, "vs_hgb", "product worse") if a else "-",
                "" if shape == "all cases" else ", ".join(r["selected"] for r in b),
                "" if shape == "all cases" else ", ".join(r["selected"] for r in a),
            ]
        )
    return rows


COMPARE_HEADERS = [
    "shape",
    "cases b/a",
    "product before AP",
    "product after AP",
    "hgb_script AP",
    "best recipe AP",
    "ratio before",
    "ratio after",
    "worse than hgb before",
    "worse than hgb after",
    "picked before",
    "picked after",
]


def compare(paths: list[str]) -> int:
    """Print two result files (before, after) of the same ``--shapes`` run side by side."""
    from pathlib import Path

    before, after = (json.loads(Path(p).read_text()) for p in paths)
    rows = compare_rows(before["results"], after["results"])
    for run, label in ((before, "before"), (after, "after")):
        m = run["machine"]
        print(
            f"{label}: commit {m['commit']}, {m['started_at']}, load {m['load_average_at_start']} -> "
            f"{run.get('load_average_at_end')}, {run.get('total_seconds')} s, args {run['args'].get('shapes')}"
        )
    print(table(COMPARE_HEADERS, rows, title="\nmedian AP over seeds; ratio = mean of AP(product) / AP(best recipe)"))
    print("\n" + markdown_table(COMPARE_HEADERS, rows))
    return 0


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
    parser.add_argument(
        "--shapes", default=None, help=f"'all' or comma-separated data shapes ({', '.join(SHAPES)}); no classic cases"
    )
    parser.add_argument("--rows-scale", type=float, default=1.0, help="multiplies the generated shapes' row counts")
    parser.add_argument("--label", default=None, help="names the JSON: bench/results/quality-shapes-<label>.json")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"), help="print two --shapes results")
    parser.add_argument("--output", default=None, help="JSON path (default bench/results/quality.json)")
    args = parser.parse_args(argv)
    if args.shapes:
        args.shapes = ",".join(SHAPES) if args.shapes == "all" else args.shapes
        wrong = sorted(set(args.shapes.split(",")) - set(SHAPES))
        if wrong:
            parser.error(f"--shapes: unknown {wrong}; choose from {', '.join(SHAPES)} or 'all'")
    if args.shapes and args.quick:
        args.seeds, args.rows_scale, args.bootstrap = "1", min(args.rows_scale, 0.4), min(args.bootstrap, 300)
        return args
    unknown = sorted(set(args.recipes.split(",")) - set(RECIPES))
    if unknown:
        parser.error(f"--recipes: unknown {unknown}; choose from {', '.join(RECIPES)}")
    if args.quick:
        args.ratios, args.seeds, args.min_positives, args.bootstrap = "100", "1", 50, min(args.bootstrap, 300)
    return args


def run_quality(store: Any, args: argparse.Namespace) -> dict[str, Any]:
    """Every case of ``args`` against ``store`` (an object store the product's stages can write to)."""
    cases: list[Any] = [classic_case(args.classic_rows)]
    if args.shapes:
        seeds = [int(v) for v in args.seeds.split(",")]
        cases = shape_cases(args.shapes.split(","), seeds, args.rows_scale)
    elif not args.no_sweep:
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
    if args.compare:
        return compare(args.compare)
    env, started = machine(), time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as tmp, LocalS3Server(Path(tmp) / "s3") as server:
        payload = {"machine": env, **run_quality(ObjectStore(server.settings), args)}
    (report_shapes if args.shapes else report)(payload["results"])
    payload["total_seconds"] = round(time.perf_counter() - started, 1)
    name = "quality" if not args.shapes else f"quality-shapes-{args.label}" if args.label else "quality-shapes"
    path = write_results(name, payload, path=Path(args.output) if args.output else None)
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


def report_shapes(results: list[dict[str, Any]]) -> None:
    print(table(SHAPE_HEADERS, shape_rows(results), title="\ndata shapes (median AP over seeds, stratified split)"))
    print("\n" + markdown_table(SHAPE_HEADERS, shape_rows(results)))
    for r in results:
        v = versus(r)
        ratio = "-" if v["ratio"] is None else f"{v['ratio']:.3f}"
        title = (
            f"\n{r['case']['name']}: {r['case']['rows']} rows, test {r['test_rows']} ({r['test_positives']} "
            f"positive); product fit on {r['fit_rows']} rows; ratio to best recipe ({v['best_recipe']}) {ratio}"
        )
        print(table(CASE_HEADERS, case_rows(r), title=title))
        print(table(SELECTION_HEADERS, selection_rows(r)))
        if r.get("selection_reason"):
            print(f"  reason: {r['selection_reason']}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
