"""Which candidate to ship: a decision on noisy cross-validation scores, with its evidence. Pure functions.

Every candidate is scored on the same folds, so the fold-wise differences to the best candidate are paired:
their mean is the gap, their standard error the noise of that gap. ``one_se`` (the default rule) treats every
candidate whose gap is within one standard error of the best as equally good and picks among them by a declared
preference: fewer moving parts first (no resampling, then class weights, then resampling; PCA counts as one more
part), then the cheaper model, then config order. A pick on a gap inside the fold spread once cost 0.038 test AP
(docs/benchmarks.md); the preference makes such picks deliberate. ``best_mean`` takes the highest mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

__all__ = ["MODEL_COST", "MOVING_PARTS", "Choice", "Scored", "choose", "moving_parts", "paired_gap"]

MOVING_PARTS: dict[str, int] = {"none": 0, "class_weight": 1}
"""Imbalance strategy -> moving parts; every resampling strategy counts 2, a blend 3."""
MODEL_COST: dict[str, int] = {
    "logistic_regression": 0,
    "hist_gradient_boosting": 1,
    "extra_trees": 2,
    "random_forest": 3,
    "torch_mlp": 4,
    "blend": 5,
}
"""Model -> relative cost to fit and serve (fit time at 1M rows, docs/benchmarks.md, section 4)."""
RESAMPLING_PARTS, BLEND_PARTS = 2, 3


class Scored(Protocol):
    """What the rule reads of a candidate: its name, kind and per-fold scores (on the shared folds)."""

    name: str
    model: str
    imbalance: str
    cv_scores: list[float]


@dataclass(frozen=True)
class Choice:
    """The pick, the rule that decided and why, and each candidate's paired gap to the best."""

    name: str
    best: str
    rule: str
    reason: str
    gaps: dict[str, tuple[float, float, bool]]
    """name -> (mean paired gap to the best, its standard error, within noise of the best)."""


def moving_parts(candidate: Scored, *, pca: bool = False) -> int:
    if candidate.model == "blend":
        return BLEND_PARTS
    return MOVING_PARTS.get(candidate.imbalance, RESAMPLING_PARTS) + int(pca)


def paired_gap(scores: list[float], reference: list[float]) -> tuple[float, float]:
    """Mean and standard error of the fold-wise differences ``scores - reference`` (same folds)."""
    diff = np.asarray(scores, dtype=float) - np.asarray(reference, dtype=float)
    se = float(np.std(diff, ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else 0.0
    return float(diff.mean()), se


def choose(candidates: list[Scored], *, rule: Literal["one_se", "best_mean"] = "one_se") -> Choice:
    """Pick one of ``candidates`` (all scored on the same folds, in config order) by ``rule``.

    Examples
    --------
    >>> from types import SimpleNamespace as C
    >>> hgb = C(name="hgb", model="hist_gradient_boosting", imbalance="none", cv_scores=[0.70, 0.76, 0.72])
    >>> bal = C(name="hgb_bal", model="hist_gradient_boosting", imbalance="class_weight",
    ...         cv_scores=[0.71, 0.75, 0.73])
    >>> choose([bal, hgb]).name, choose([bal, hgb], rule="best_mean").name
    ('hgb', 'hgb_bal')
    """
    if not candidates:
        raise ValueError("no candidate to choose from")
    means = [float(np.mean(c.cv_scores)) for c in candidates]
    best = candidates[int(np.argmax(means))]  # argmax keeps the first of equal means
    gaps = {}
    for c in candidates:
        gap, se = paired_gap(c.cv_scores, best.cv_scores)
        gaps[c.name] = (gap, se, c is best or gap + se >= 0.0)
    if rule == "best_mean":
        return Choice(best.name, best.name, rule, f"highest CV mean ({max(means):.4f})", gaps)
    order = {c.name: i for i, c in enumerate(candidates)}
    within = [c for c in candidates if gaps[c.name][2]]
    pick = min(within, key=lambda c: (moving_parts(c), MODEL_COST.get(c.model, 9), order[c.name]))
    return Choice(pick.name, best.name, rule, _reason(pick, best, gaps), gaps)


def _reason(pick: Scored, best: Scored, gaps: dict[str, tuple[float, float, bool]]) -> str:
    if pick is best:
        return (
            "highest CV mean; no candidate with fewer moving parts or a cheaper model is within one standard "
            "error of it"
        )
    gap, se, _ = gaps[pick.name]
    return (
        f"within one standard error of the best CV mean ({best.name}: paired gap {gap:+.4f}, SE {se:.4f}) "
        f"with fewer moving parts or a cheaper model ({pick.model} + {pick.imbalance} vs "
        f"{best.model} + {best.imbalance})"
    )
