"""Negative sampling at ingest: keep every positive row and a known, hash-stable share (beta) of the negatives.

Rare-event windows are mostly negatives, so keeping all positives and a fraction of negatives bounds memory while
losing little ranking information (He et al. 2014; Dal Pozzolo et al. 2015). The cost is a known prior shift,
which is undone exactly: odds are multiplied by beta (prior correction) after calibration, and every evaluation
figure weights a kept negative by 1 / beta, so AP, precision and Brier estimate the unsampled population. Recall
needs no weight: every positive is kept.

A negative is kept when its salted row hash (the split's row key, else its content) falls below the fraction, so
the same row is kept or dropped every night, whatever else is in the window. The salt differs from the split's, so
the kept rows are spread evenly over train, validation and test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.context import RunContext
    from imbalance_jobs.storage import ObjectStore

__all__ = [
    "NegativeSample",
    "keep_fraction",
    "population_weights",
    "prior_corrected",
    "sample_salt",
    "snapshot_beta",
    "stored_beta",
]


class NegativeSample(Summary):
    """What ingest kept: recorded in the snapshot manifest under ``negative_sample``."""

    fraction: float
    """The hash threshold: a negative is kept when its row hash is below it."""
    max_rows: int | None = None
    positives: int
    negatives_seen: int
    negatives_kept: int
    beta: float
    """negatives kept / negatives seen (1.0 when none were seen): the prior shift undone downstream."""
    salt: str
    hashed_columns: list[str]


def sample_salt(config: PipelineConfig) -> str:
    """The split's salt with a suffix: kept rows are independent of the part a row falls in."""
    return f"{config.split.salt or config.name}/negative-sample"


def keep_fraction(config: PipelineConfig, positives: int, negatives: int) -> float:
    """The hash threshold for this window: the configured fraction, or what ``max_rows`` leaves the negatives.

    >>> from imbalance_jobs.config import PipelineConfig
    >>> raw = {"name": "demo", "source": {"bucket": "b1b", "negative_sample": {"max_rows": 1100}},
    ...        "artifacts": {"bucket": "b1b"}, "label": {"column": "y"}}
    >>> keep_fraction(PipelineConfig.model_validate(raw), positives=100, negatives=10_000)
    0.1
    """
    spec = config.source.negative_sample
    if spec is None:
        return 1.0
    if spec.fraction is not None:
        return float(spec.fraction)
    room = max(int(spec.max_rows or 0) - positives, 0)
    return 1.0 if negatives <= room else room / max(negatives, 1)


def population_weights(positive: np.ndarray, beta: float) -> np.ndarray | None:
    """Per-row weights that make sampled rows stand for the population: 1 per positive, 1 / beta per negative.

    ``None`` when nothing was sampled (beta 1), so callers keep their unweighted (and faster) path.

    >>> population_weights(np.array([True, False, False]), 0.25).tolist()
    [1.0, 4.0, 4.0]
    """
    if beta >= 1.0:
        return None
    if not beta > 0:
        raise ValueError(f"beta must be in (0, 1]; got {beta}")
    return np.where(np.asarray(positive, dtype=bool), 1.0, 1.0 / beta)


def prior_corrected(p: np.ndarray, beta: float) -> np.ndarray:
    """Probabilities on the sampled rows mapped to the population: odds times beta (exact for a known sampling).

    >>> prior_corrected(np.array([0.5, 0.0, 1.0]), 0.1).round(6).tolist()
    [0.090909, 0.0, 1.0]
    """
    if beta >= 1.0:
        return p
    p = np.asarray(p, dtype=np.float64)
    return beta * p / (beta * p - p + 1.0)


def stored_beta(store: ObjectStore, manifest_uri: str) -> float:
    """Beta from a snapshot manifest; 1.0 for manifests written before sampling existed or with it off."""
    manifest = store.get_json(manifest_uri)
    sample = manifest.get("negative_sample") if isinstance(manifest, dict) else None
    return float(sample["beta"]) if sample else 1.0


def snapshot_beta(ctx: RunContext) -> float:
    """Beta of this run's ingest snapshot (every stage after ingest reads it from the staged manifest)."""
    return stored_beta(ctx.store, ctx.staging_uri("ingest", "manifest.json"))
