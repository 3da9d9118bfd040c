"""What a candidate costs before it runs: each strategy and model declares its measured growth with the rows.

``seconds(n) = at_100k * (n / 100_000) ** exponent`` for one call on one thread, from the scaling benchmark
(docs/benchmarks.md, section 4: 20 features, 5% positives). The exponents are those measured from 100k to the
largest size that finished, and a lower bound where the next size ran past the limit; the neighbour-based samplers
(BorderlineSMOTE, ADASYN, Tomek links, ENN, ...) grow about as rows². An estimate is an order of magnitude, not a
promise: enough to refuse a candidate that cannot finish inside ``airflow.run_timeout_minutes`` and to warn
before one that will take the night. Plain data, so ``config validate`` reads it without importing scikit-learn.
"""

from __future__ import annotations

from dataclasses import dataclass

from imbalance_jobs.config import CandidateConfig, PipelineConfig

__all__ = [
    "MODEL_COSTS",
    "STRATEGY_COSTS",
    "CandidateCost",
    "Growth",
    "candidate_cost",
    "cost_problems",
    "judge_cost",
    "sampled_rows",
]


@dataclass(frozen=True)
class Growth:
    """One call's seconds at 100k rows and how it grows with the rows."""

    at_100k: float
    exponent: float

    def seconds(self, rows: float) -> float:
        return self.at_100k * (max(rows, 1.0) / 100_000) ** self.exponent


STRATEGY_COSTS: dict[str, Growth | None] = {
    "none": None,
    "class_weight": None,
    "random_over": Growth(0.03, 1.6),
    "random_under": Growth(0.02, 0.9),
    "smote": Growth(0.13, 1.9),
    "borderline_smote": Growth(1.58, 2.0),
    "svm_smote": Growth(53.0, 2.0),  # fits an SVC on all rows
    "adasyn": Growth(1.68, 2.0),
    "smotenc": Growth(3.6, 1.6),
    "smoten": Growth(19.0, 2.0),
    "tomek": Growth(28.0, 1.7),  # >= 1.7: past 300 s at 400k
    "enn": Growth(28.0, 1.7),
    "smote_tomek": Growth(108.0, 1.7),
    "smote_enn": Growth(102.0, 1.7),
}
"""Strategy -> one ``fit_resample``; keys equal ``imbalance_jobs.config.STRATEGY_NAMES`` (tested)."""

MODEL_COSTS: dict[str, Growth] = {
    "logistic_regression": Growth(0.41, 1.1),
    "hist_gradient_boosting": Growth(1.93, 1.0),
    "extra_trees": Growth(11.0, 1.3),
    "random_forest": Growth(75.0, 1.2),  # >= 1.2, single-threaded, 100 trees
    "torch_mlp": Growth(4.3, 1.0),  # bench_mlp: 68k training rows, 5 epochs, CPU
}
"""Model -> one ``fit`` on the rows the sampler leaves; keys equal ``imbalance_jobs.config.MODEL_NAMES`` (tested)."""

_FORESTS = ("random_forest", "extra_trees")
QUADRATIC = 1.7
"""Exponent from which a step counts as superlinear (warned about by name)."""


@dataclass(frozen=True)
class CandidateCost:
    """Estimated seconds of one candidate per nightly run (``cv_folds`` fits + the refit), and its worst step."""

    name: str
    seconds: float
    step: str
    growth: Growth

    @property
    def superlinear(self) -> bool:
        return self.growth.exponent >= QUADRATIC


def _model_rows(candidate: CandidateConfig, rows: float, positive_share: float) -> float:
    """Rows the model sees after the sampler: balanced over-sampling doubles the majority, undersampling keeps
    the minority and ``minority / ratio`` negatives (imbalanced-learn defaults: ratio 1)."""
    ratio = candidate.imbalance_params.get("sampling_strategy", 1.0)
    ratio = ratio if isinstance(ratio, int | float) and ratio > 0 else 1.0
    positives, negatives = rows * positive_share, rows * (1 - positive_share)
    if candidate.imbalance in ("random_under",):
        return positives + positives / ratio
    if STRATEGY_COSTS.get(candidate.imbalance) is not None and candidate.imbalance not in ("tomek", "enn"):
        return negatives + negatives * ratio
    return rows


def candidate_cost(
    candidate: CandidateConfig, rows: int, *, cv_folds: int, positive_share: float = 0.05, fit_share: float = 0.8
) -> CandidateCost:
    """Seconds one nightly run spends on ``candidate`` when the window holds ``rows`` rows (``fit_share`` of them
    are the fit rows: every non-test row).

    Examples
    --------
    >>> from imbalance_jobs.config import CandidateConfig
    >>> cost = candidate_cost(CandidateConfig(name="b", imbalance="borderline_smote"), 1_000_000, cv_folds=5)
    >>> cost.step, round(cost.seconds / 60), cost.superlinear
    ('borderline_smote', 10, True)
    """
    fit_rows = fit_share * rows
    fold_rows = fit_rows * (cv_folds - 1) / cv_folds
    sampler = STRATEGY_COSTS.get(candidate.imbalance)
    model = MODEL_COSTS[candidate.model]
    trees = candidate.model_params.get("n_estimators") if candidate.model in _FORESTS else None
    if isinstance(trees, int) and trees > 0:  # measured with 100 trees; a forest's cost is linear in its trees
        model = Growth(model.at_100k * trees / 100, model.exponent)
    total, worst, worst_seconds = 0.0, model, 0.0
    for n in [fold_rows] * cv_folds + [fit_rows]:
        model_seconds = model.seconds(_model_rows(candidate, n, positive_share))
        sampler_seconds = sampler.seconds(n) if sampler else 0.0
        total += model_seconds + sampler_seconds
        if sampler and sampler_seconds >= model_seconds:
            worst, worst_seconds = sampler, max(worst_seconds, sampler_seconds)
    step = candidate.imbalance if worst is sampler else candidate.model
    return CandidateCost(name=candidate.name, seconds=total, step=step, growth=worst)


def sampled_rows(config: PipelineConfig, rows: int, positive_share: float = 0.05) -> tuple[int, float]:
    """Rows and positive share after ``source.negative_sample`` on a window of ``rows`` rows.

    >>> from imbalance_jobs.config import PipelineConfig
    >>> raw = {"name": "demo", "source": {"bucket": "b1b", "negative_sample": {"fraction": 0.05}},
    ...        "artifacts": {"bucket": "b1b"}, "label": {"column": "y"}}
    >>> sampled_rows(PipelineConfig.model_validate(raw), 20_000_000, positive_share=0.003)
    (1057000, 0.05676442762535478)
    """
    spec = config.source.negative_sample
    if spec is None:
        return rows, positive_share
    positives = rows * positive_share
    negatives = rows - positives
    kept = (
        negatives * spec.fraction
        if spec.fraction is not None
        else min(negatives, max((spec.max_rows or 0) - positives, 0))
    )
    total = positives + kept
    return round(total), positives / total if total else positive_share


def cost_problems(config: PipelineConfig, rows: int, *, positive_share: float = 0.05) -> tuple[list[str], list[str]]:
    """``(refusals, warnings)`` for a window of ``rows`` rows (fewer after ``source.negative_sample``): a candidate
    past the run timeout is refused; a superlinear step or one taking over a quarter of the timeout is warned
    about. Each line names the candidate and the estimate."""
    refusals, warnings = [], []
    fit_share = 1.0 - config.split.test_size
    kept, share = sampled_rows(config, rows, positive_share)
    for i, candidate in enumerate(config.training.candidates):
        cost = candidate_cost(
            candidate, kept, cv_folds=config.training.cv_folds, positive_share=share, fit_share=fit_share
        )
        verdict, text = judge_cost(config, cost, kept, window_rows=rows)
        line = f"training > candidates[{i}] ({candidate.name}): {text}"
        if verdict == "refuse":
            refusals.append(line)
        elif verdict == "warn":
            warnings.append(line)
    return refusals, warnings


def judge_cost(
    config: PipelineConfig, cost: CandidateCost, rows: int, *, window_rows: int | None = None
) -> tuple[str, str]:
    """``("refuse" | "warn" | "ok", text)``: past the run timeout, superlinear or over a quarter of it, or fine.

    ``window_rows``: the window's rows when ``rows`` is what negative sampling leaves of it (named in the text).
    """
    timeout = config.airflow.run_timeout_minutes * 60
    sampled = f" (of {window_rows:,}, source.negative_sample)" if window_rows not in (None, rows) else ""
    text = (
        f"~{cost.seconds / 60:.0f} min per nightly run at {rows:,} rows{sampled} ({config.training.cv_folds} CV fits + "
        f"refit; {cost.step}: {cost.growth.at_100k:g} s per call at 100k rows, growing as "
        f"rows^{cost.growth.exponent:g})"
    )
    if cost.seconds > timeout:
        return "refuse", (
            f"{text}, past airflow.run_timeout_minutes ({config.airflow.run_timeout_minutes}); drop it, or train "
            f"on fewer rows (source.negative_sample, source.lookback_days)"
        )
    if cost.superlinear or cost.seconds > timeout / 4:
        return "warn", text
    return "ok", text
