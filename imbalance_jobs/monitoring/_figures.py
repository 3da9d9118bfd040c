"""The champion's figures on fresh rows, and the figures it was promoted with."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.alerts import AlertCI
from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.labels import encode_labels, positive_code
from imbalance_jobs.monitoring._record import ChampionFigures, PromotionFigures
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.storage import ObjectStore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["champion_figures", "operating_scores", "promotion_figures"]


def operating_scores(
    model: DeployedModel, frame: pd.DataFrame, config: PipelineConfig
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """``(is_positive, decision_score, threshold, ranking_score)`` for the watched class.

    Binary: the calibrated score and the model's own threshold; AP ranks rows by the uncalibrated score (see
    ``DeployedModel.ranking_and_scores``). Multi-class: the decision is argmax, expressed as a 0/1 score with
    threshold 0.5; AP ranks rows by the watched class's probability.
    """
    watched = positive_code(config.label)
    y = encode_labels(frame[config.label.column], config.label, source=f"{config.name} fresh partition") == watched
    ranking, scores = model.ranking_and_scores(frame)
    decision, threshold = model.operating_point(scores, watched)
    return y.astype(np.int64), decision, threshold, ranking if ranking.ndim == 1 else ranking[:, watched]


def champion_figures(model: DeployedModel, frame: pd.DataFrame, config: PipelineConfig) -> ChampionFigures:
    """Recall, precision (at the operating point) and AP with percentile bootstrap intervals.

    Seeded with ``config.seed`` and ``monitoring.bootstrap_samples`` resamples at ``evaluation.confidence``, so
    the same day and champion give the same record.
    """
    from imbalance_jobs.evaluation import bootstrap_ci

    y, decision, threshold, ranking = operating_scores(model, frame, config)
    common = {
        "n_resamples": config.monitoring.bootstrap_samples,
        "confidence": config.evaluation.confidence,
        "seed": config.seed,
    }
    return ChampionFigures(
        rows=int(y.size),
        positives=int(y.sum()),
        threshold=None if model.threshold is None else float(model.threshold),
        recall=bootstrap_ci(y, decision, metric="recall", threshold=threshold, **common),
        precision=bootstrap_ci(y, decision, metric="precision", threshold=threshold, **common),
        average_precision=bootstrap_ci(y, ranking, metric="average_precision", **common),
    )


def promotion_figures(store: ObjectStore, layout: PipelineLayout, version: str) -> PromotionFigures | None:
    """The candidate figures in ``versions/<version>/metrics.json``; ``None`` if the version has none."""
    uri = layout.version_uri(version, "metrics.json")
    if not store.exists(uri):
        return None
    metrics = store.get_json(uri).get("candidate") or {}
    recall_ci = AlertCI.model_validate(metrics.get("recall_ci") or {})
    if "watched_recall" in metrics:  # multi-class: the watched class, one-vs-rest
        return PromotionFigures(
            recall=metrics.get("watched_recall"),
            precision=metrics.get("watched_precision"),
            average_precision=metrics.get("watched_average_precision"),
            recall_ci=recall_ci,
        )
    return PromotionFigures(
        recall=metrics.get("recall"),
        precision=metrics.get("precision"),
        average_precision=metrics.get("average_precision"),
        test_positives=metrics.get("positives"),
        recall_ci=recall_ci,
    )
