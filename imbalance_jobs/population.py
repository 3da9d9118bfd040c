"""What a run's figures stand for: the unsampled population, when ingest kept only a share of the negatives.

Ingest's negative sampling (:mod:`imbalance_jobs.negative_sampling`) records the kept share ``beta`` in the
snapshot manifest. Every later stage reads it through :func:`run_beta` and weights each kept negative ``1 / beta``
(CV scores, calibration report, threshold, test figures and their intervals), and the calibrator carries it as
``sample_beta``, so no stage reports a figure of the sample where the population's was meant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.negative_sampling import population_weights, snapshot_beta

if TYPE_CHECKING:
    from imbalance_jobs.config import PipelineConfig
    from imbalance_jobs.context import RunContext

__all__ = ["population_note", "row_weights", "run_beta"]


def run_beta(ctx: RunContext) -> float:
    """The kept share of negatives of this run's snapshot; 1.0 (and no read) when the config samples nothing."""
    if ctx.config.source.negative_sample is None:
        return 1.0
    return snapshot_beta(ctx)


def row_weights(config: PipelineConfig, label_codes: np.ndarray, beta: float) -> np.ndarray | None:
    """Per-row population weights for encoded labels (1 per positive, 1 / beta per negative); None at beta 1."""
    from imbalance_jobs.labels import positive_code

    if beta >= 1.0:
        return None
    return population_weights(np.asarray(label_codes) == positive_code(config.label), beta)


def population_note(beta: float) -> str:
    """The sentence every report carries when its figures are weighted estimates (empty at beta 1).

    >>> population_note(0.1)
    'figures are population estimates from a negative sample (beta=0.1: every positive kept, 10% of negatives, each weighted 1/beta)'
    """
    if beta >= 1.0:
        return ""
    return (
        f"figures are population estimates from a negative sample (beta={beta:.4g}: every positive kept, "
        f"{100 * beta:.3g}% of negatives, each weighted 1/beta)"
    )
