"""Evaluation charts as PNG bytes, ready to publish beside a model version.

Figures are built with matplotlib's object API on an Agg canvas created inside each function: no pyplot global
state, no display needed, safe in Airflow workers and threads. PNG metadata omits the matplotlib version, so the
same inputs give the same bytes on the same matplotlib build.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from imbalance_jobs.evaluation._calibration import reliability_curve
from imbalance_jobs.evaluation._curves import OperatingPoints, as_binary, as_weights, operating_points
from imbalance_jobs.evaluation._metrics import _average_precision, _roc_auc

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_calibration", "plot_pr_curves", "plot_roc_curves", "plot_score_histograms"]

Curves = Mapping[str, tuple[ArrayLike, ArrayLike]]


def _axes(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    return fig, ax


def _png(fig: Figure, ax: Axes) -> bytes:
    ax.legend(loc="best", fontsize="small")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _each(curves: Curves, *, probabilities: bool = False) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if not curves:
        raise ValueError("curves must map at least one model name to (y_true, scores); got none")
    return [(name, *as_binary(y, s, probabilities=probabilities)) for name, (y, s) in curves.items()]


def _both(pts: OperatingPoints) -> bool:
    return bool(pts.positives and pts.negatives)


def plot_pr_curves(
    curves: Curves, *, title: str = "Precision-recall curve", sample_weight: ArrayLike | None = None
) -> bytes:
    """Precision-recall curves of several models on one chart (AP in the legend), with the no-skill line.

    ``sample_weight`` (one per row, the same rows for every curve) draws the curves of the weighted population.

    Examples
    --------
    >>> plot_pr_curves({"champion": ([0, 1, 0, 1], [0.2, 0.6, 0.4, 0.9])})[:4]
    b'\\x89PNG'
    """
    fig, ax = _axes(title, "Recall (minority class)", "Precision")
    prevalence = None
    for name, y, s in _each(curves):
        pts = operating_points(y, s, as_weights(sample_weight, y.size))
        if not _both(pts):
            ax.plot([], [], label=f"{name} (AP undefined: one class)")
            continue
        prevalence = pts.positives / (y.size if sample_weight is None else pts.positives + pts.negatives)
        # Precision of each point holds over the recall step that leads to it: the step function AP sums.
        recall, precision = np.r_[0.0, pts.recall], np.r_[pts.precision[0], pts.precision]
        ax.plot(recall, precision, drawstyle="steps-pre", label=f"{name} (AP={_average_precision(pts):.3f})")
    if prevalence is not None:
        ax.axhline(prevalence, color="grey", linestyle="--", label=f"no skill ({prevalence:.3f})")
    ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.02))
    return _png(fig, ax)


def plot_roc_curves(curves: Curves, *, title: str = "ROC curve", sample_weight: ArrayLike | None = None) -> bytes:
    """ROC curves of several models on one chart (ROC AUC in the legend), with the chance diagonal.

    ``sample_weight``: one weight per row, the same rows for every curve.

    Examples
    --------
    >>> plot_roc_curves({"champion": ([0, 1, 0, 1], [0.2, 0.6, 0.4, 0.9])})[:4]
    b'\\x89PNG'
    """
    fig, ax = _axes(title, "False positive rate", "True positive rate (minority recall)")
    for name, y, s in _each(curves):
        pts = operating_points(y, s, as_weights(sample_weight, y.size))
        if not _both(pts):
            ax.plot([], [], label=f"{name} (AUC undefined: one class)")
            continue
        fpr, tpr = np.r_[0.0, pts.fp / pts.negatives], np.r_[0.0, pts.tp / pts.positives]
        ax.plot(fpr, tpr, label=f"{name} (AUC={_roc_auc(pts):.3f})")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
    ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.02))
    return _png(fig, ax)


def plot_calibration(
    curves: Curves,
    *,
    n_bins: int = 10,
    title: str = "Calibration (reliability)",
    sample_weight: ArrayLike | None = None,
) -> bytes:
    """Reliability diagram: mean predicted probability vs observed positive rate in ``n_bins`` equal-width bins.

    Empty bins are left out. Scores must be probabilities; Brier score is in the legend. ``sample_weight`` (one
    per row, the same rows for every curve) weights the bins and the Brier score (see
    :func:`~imbalance_jobs.evaluation.reliability_curve`).

    Examples
    --------
    >>> plot_calibration({"candidate": ([0, 1, 0, 1], [0.2, 0.6, 0.4, 0.9])}, n_bins=5)[:4]
    b'\\x89PNG'
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be an int >= 1; got {n_bins}")
    fig, ax = _axes(title, "Mean predicted probability", "Observed positive rate")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    for name, y, p in _each(curves, probabilities=True):
        curve = reliability_curve(y, p, n_bins=n_bins, sample_weight=sample_weight)
        ax.plot(curve.mean_predicted, curve.observed_rate, marker="o", label=f"{name} (Brier={curve.brier:.4f})")
    ax.set(xlim=(0.0, 1.0), ylim=(0.0, 1.02))
    return _png(fig, ax)


def plot_score_histograms(
    y_true: ArrayLike, scores: ArrayLike, *, threshold: float | None = None, title: str = "Scores by class"
) -> bytes:
    """Score histograms of each class, each normalised to density so the rare class stays visible.

    Examples
    --------
    >>> plot_score_histograms([0, 1, 0, 1], [0.2, 0.6, 0.4, 0.9], threshold=0.5)[:4]
    b'\\x89PNG'
    """
    y, s = as_binary(y_true, scores)
    fig, ax = _axes(title, "Score", "Density (each class integrates to 1)")
    edges = np.linspace(s.min(), s.max(), 41) if s.max() > s.min() else 10
    for code, label in ((0, "negative"), (1, "positive (minority)")):
        part = s[y == code]
        if part.size:
            ax.hist(part, bins=edges, density=True, alpha=0.5, label=f"{label}, n={part.size}")
    if threshold is not None:
        ax.axvline(threshold, color="black", linestyle="--", label=f"threshold {threshold:.3g}")
    return _png(fig, ax)
