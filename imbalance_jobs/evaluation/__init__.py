"""Evaluation numerics: metrics, bootstrap intervals, operating thresholds, calibration and charts.

Pure functions on numpy arrays; binary inputs are 0/1 labels (1 = the minority, positive class) and scores of
P(positive). A threshold ``t`` predicts positive when ``score >= t`` everywhere in this package. Results are
frozen pydantic models (``to_json_dict()``); plots are PNG bytes. Every binary figure takes an optional per-row
``sample_weight`` (equal to repeating rows by their weights), which is how figures computed on a negative sample
estimate the unsampled population; without it the unweighted path is unchanged.
"""

from imbalance_jobs.evaluation._bootstrap import (
    BOOTSTRAP_METRICS,
    BootstrapCI,
    Interval,
    PairedBootstrap,
    bootstrap_ci,
    bootstrap_cis,
    difference_ci,
    paired_bootstrap,
)
from imbalance_jobs.evaluation._calibration import (
    CALIBRATION_METHODS,
    CalibrationReport,
    Calibrator,
    ReliabilityCurve,
    calibration_report,
    fit_calibrator,
    reliability_curve,
    resolve_calibration_method,
)
from imbalance_jobs.evaluation._metrics import (
    BinaryMetrics,
    ClassMetrics,
    Confusion,
    MulticlassMetrics,
    average_precision,
    binary_metrics,
    multiclass_metrics,
    precision_at_recall,
    recall_at_precision,
    roc_auc,
)
from imbalance_jobs.evaluation._plots import (
    plot_calibration,
    plot_pr_curves,
    plot_roc_curves,
    plot_score_histograms,
)
from imbalance_jobs.evaluation._thresholds import ThresholdChoice, choose_threshold

__all__ = [
    "BOOTSTRAP_METRICS",
    "CALIBRATION_METHODS",
    "BinaryMetrics",
    "BootstrapCI",
    "CalibrationReport",
    "Calibrator",
    "ClassMetrics",
    "Confusion",
    "Interval",
    "MulticlassMetrics",
    "PairedBootstrap",
    "ReliabilityCurve",
    "ThresholdChoice",
    "average_precision",
    "binary_metrics",
    "bootstrap_ci",
    "bootstrap_cis",
    "calibration_report",
    "choose_threshold",
    "difference_ci",
    "fit_calibrator",
    "multiclass_metrics",
    "paired_bootstrap",
    "plot_calibration",
    "plot_pr_curves",
    "plot_roc_curves",
    "plot_score_histograms",
    "precision_at_recall",
    "recall_at_precision",
    "reliability_curve",
    "resolve_calibration_method",
    "roc_auc",
]
