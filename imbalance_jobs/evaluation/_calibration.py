"""Probability calibration on validation rows, for models whose training distorted the class prior.

Resampling and class weighting move a model's scores away from real-world probabilities: after undersampling the
majority class to 1:1, a score of 0.5 may mean a 2 % risk. Ranking metrics (AP, ROC AUC) do not notice, but
thresholds, expected costs and Brier score do. A fitted :class:`Calibrator` is a few plain numbers, so it is
stored as JSON beside the model and re-applied without unpickling anything.

Negative sampling at ingest (every positive kept, a share ``beta`` of the negatives) shifts the prior of *all*
rows the calibrator is fit on, so a calibrator fit on them estimates probabilities on the sample. Its
``sample_beta`` undoes that after the method: odds times ``beta``, exact for a sample drawn independently of the
features (a salted row hash), so shipped probabilities estimate the unsampled population.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from imbalance_jobs.errors import DataValidationError, ModelArtifactError
from imbalance_jobs.evaluation._curves import as_binary, as_scores, as_weights
from imbalance_jobs.evaluation._metrics import brier_and_log_loss
from imbalance_jobs.summary import Summary

__all__ = [
    "CALIBRATION_METHODS",
    "CalibrationReport",
    "Calibrator",
    "ReliabilityCurve",
    "calibration_report",
    "fit_calibrator",
    "reliability_curve",
    "resolve_calibration_method",
]

CALIBRATION_METHODS = ("none", "sigmoid", "isotonic", "prior_correction")
_LOGIT_EPS = 1e-6  # scores are clipped to [eps, 1 - eps] before the logit, so 0/1 scores stay finite
_PLATT_RIDGE = 1e-6  # a whisper of L2 on the two Platt coefficients: finite on separable data, else negligible
_PARAMS = ("coef", "intercept", "knots_x", "knots_y", "beta")
_REQUIRED = {
    "none": (),
    "sigmoid": ("coef", "intercept"),
    "isotonic": ("knots_x", "knots_y"),
    "prior_correction": ("beta",),
}


class Calibrator(BaseModel):
    """A fitted map from raw scores to calibrated probabilities; plain JSON via :meth:`to_dict`.

    ``sigmoid``: ``p = 1 / (1 + exp(-(coef * logit(s) + intercept)))`` (Platt scaling on the score's logit).
    ``isotonic``: piecewise-linear through ``(knots_x, knots_y)``, flat beyond the ends.
    ``prior_correction``: ``p = beta * s / (beta * s - s + 1)`` (Dal Pozzolo et al. 2015). ``none``: identity.
    ``sample_beta`` (absent when nothing was sampled): the ingest's kept share of negatives; the method's output
    is then prior-corrected by it the same way, so probabilities refer to the unsampled population.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    method: Literal["none", "sigmoid", "isotonic", "prior_correction"]
    coef: float | None = None
    intercept: float | None = None
    knots_x: list[float] | None = None
    knots_y: list[float] | None = None
    beta: float | None = None
    sample_beta: float | None = None

    @model_validator(mode="after")
    def _params(self) -> Calibrator:
        given = {name for name in _PARAMS if getattr(self, name) is not None}
        needed = set(_REQUIRED[self.method])
        if given != needed:
            raise ValueError(f"method '{self.method}' takes parameters {sorted(needed)}; got {sorted(given)}")
        if self.method == "isotonic":
            x, y = np.asarray(self.knots_x), np.asarray(self.knots_y)
            if x.size == 0 or x.size != y.size or np.any(np.diff(x) < 0) or np.any(np.diff(y) < 0):
                raise ValueError("isotonic knots must be two non-empty, equal-length, non-decreasing lists")
        if self.beta is not None and not self.beta > 0:
            raise ValueError(f"beta must be > 0; got {self.beta}")
        if self.sample_beta is not None and not 0 < self.sample_beta < 1:
            raise ValueError(
                f"sample_beta must be in (0, 1) (leave it out when nothing was sampled); got {self.sample_beta}"
            )
        return self

    def apply(self, scores: ArrayLike) -> np.ndarray:
        """Calibrated probabilities for raw scores in [0, 1] (population probabilities with ``sample_beta``)."""
        out = _APPLY[self.method](self, as_scores(scores, probabilities=True))
        return out if self.sample_beta is None else _odds_times(out, self.sample_beta)

    def report(
        self, y_val: ArrayLike, scores_val: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> CalibrationReport:
        """Same as :func:`calibration_report` (Brier and log loss before/after on these rows)."""
        return calibration_report(self, y_val, scores_val, sample_weight=sample_weight)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: the method and its own parameters only."""
        return self.model_dump(mode="json", exclude_none=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.to_dict()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibrator:
        """Rebuild a stored calibrator; malformed data raises ModelArtifactError naming the problem."""
        try:
            return cls.model_validate(dict(data))
        except (ValidationError, TypeError) as exc:
            raise ModelArtifactError(f"calibrator: stored parameters are invalid: {exc}") from exc


class CalibrationReport(Summary):
    """Figures on the validation rows the calibrator was fit on (in-sample: isotonic looks best here).

    Weighted figures (population estimates) when the report was given sample weights.
    """

    method: str
    rows: int
    brier_before: float
    brier_after: float
    log_loss_before: float
    log_loss_after: float


def _logit(s: np.ndarray) -> np.ndarray:
    clipped = np.clip(s, _LOGIT_EPS, 1 - _LOGIT_EPS)
    return np.log(clipped) - np.log1p(-clipped)


def _apply_sigmoid(c: Calibrator, s: np.ndarray) -> np.ndarray:
    from scipy.special import expit

    return expit(c.coef * _logit(s) + c.intercept)


def _odds_times(s: np.ndarray, beta: float) -> np.ndarray:
    """Odds multiplied by ``beta``: the exact correction of a prior shift by a known sampling rate."""
    return beta * s / (beta * s - s + 1.0)


def _apply_prior(c: Calibrator, s: np.ndarray) -> np.ndarray:
    return _odds_times(s, c.beta)


_APPLY: dict[str, Callable[[Calibrator, np.ndarray], np.ndarray]] = {
    "none": lambda c, s: s.copy(),
    "sigmoid": _apply_sigmoid,
    "isotonic": lambda c, s: np.interp(s, c.knots_x, c.knots_y),
    "prior_correction": _apply_prior,
}


def _fit_sigmoid(y: np.ndarray, s: np.ndarray, beta: float | None) -> Calibrator:
    """Platt scaling by maximum likelihood on logit(score), started from the identity map (coef 1, intercept 0)."""
    from scipy.optimize import minimize
    from scipy.special import expit, log_expit

    z = _logit(s)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = theta[0] * z + theta[1]
        value = -np.mean(y * log_expit(t) + (1 - y) * log_expit(-t)) + _PLATT_RIDGE / 2 * theta @ theta
        residual = (expit(t) - y) / y.size
        return float(value), np.array([residual @ z, residual.sum()]) + _PLATT_RIDGE * theta

    fit = minimize(loss, x0=np.array([1.0, 0.0]), jac=True, method="L-BFGS-B", options={"gtol": 1e-9})
    return Calibrator(method="sigmoid", coef=float(fit.x[0]), intercept=float(fit.x[1]))


def _fit_isotonic(y: np.ndarray, s: np.ndarray, beta: float | None) -> Calibrator:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
    return Calibrator(method="isotonic", knots_x=iso.X_thresholds_.tolist(), knots_y=iso.y_thresholds_.tolist())


def _fit_prior(y: np.ndarray | None, s: np.ndarray, beta: float | None) -> Calibrator:
    if beta is None or not beta > 0:
        raise ValueError(
            f"prior_correction needs beta > 0, the share of majority rows kept by undersampling "
            f"(negatives after / negatives before); got {beta}"
        )
    return Calibrator(method="prior_correction", beta=float(beta))


_LEARNED = ("sigmoid", "isotonic")
_FIT: dict[str, Callable[[np.ndarray | None, np.ndarray, float | None], Calibrator]] = {
    "none": lambda y, s, beta: Calibrator(method="none"),
    "sigmoid": _fit_sigmoid,
    "isotonic": _fit_isotonic,
    "prior_correction": _fit_prior,
}


def resolve_calibration_method(method: str, imbalance: str, *, binary: bool) -> str:
    """The calibration a candidate actually gets, from the configured ``method`` and its imbalance strategy.

    ``auto`` means ``none`` for an untouched model (imbalance ``none``), ``prior_correction`` after
    ``random_under`` (the exact fix for a known prior shift) and ``sigmoid`` after any other resampling or
    weighting. An explicit ``prior_correction`` on a candidate that was not randomly undersampled resolves as
    ``auto`` would: its beta would not describe that candidate's distortion. Multi-class is never calibrated.

    Examples
    --------
    >>> resolve_calibration_method("auto", "random_under", binary=True)
    'prior_correction'
    >>> resolve_calibration_method("auto", "smote", binary=True), resolve_calibration_method("isotonic", "smote",
    ...                                                                                      binary=False)
    ('sigmoid', 'none')
    """
    if method != "auto" and method not in _FIT:
        raise ValueError(f"calibration method must be 'auto' or one of {list(_FIT)}; got {method!r}")
    if not binary:
        return "none"
    if method == "auto" or (method == "prior_correction" and imbalance != "random_under"):
        return {"none": "none", "random_under": "prior_correction"}.get(imbalance, "sigmoid")
    return method


def fit_calibrator(
    method: str,
    y_val: ArrayLike,
    scores_val: ArrayLike,
    *,
    beta: float | None = None,
    sample_beta: float = 1.0,
) -> Calibrator:
    """Fit a calibrator on validation rows (never on test rows).

    ``sigmoid`` and ``isotonic`` learn from ``y_val`` and need both classes (DataValidationError otherwise);
    isotonic needs a few hundred validation rows to beat sigmoid. ``none`` and ``prior_correction`` do not read
    ``y_val`` (and do not check it). ``prior_correction`` learns nothing: it undoes
    random undersampling exactly, given ``beta`` = negatives after / negatives before undersampling.

    ``sample_beta`` < 1 says the rows themselves are a negative sample (every positive, that share of the
    negatives): the method is fit on them as they are, and its output is then prior-corrected by
    ``sample_beta`` (stored in the calibrator), so applied probabilities estimate the unsampled population.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = make_classification(n_samples=3000, weights=[0.95, 0.05], random_state=0)
    >>> model = LogisticRegression(class_weight="balanced").fit(X[:2000], y[:2000])
    >>> scores = model.predict_proba(X[2000:])[:, 1]
    >>> calibrator = fit_calibrator("sigmoid", y[2000:], scores)
    >>> report = calibration_report(calibrator, y[2000:], scores)
    >>> report.brier_after < report.brier_before, Calibrator.from_dict(calibrator.to_dict()) == calibrator
    (True, True)
    """
    if method not in _FIT:
        raise ValueError(f"calibration method must be one of {list(_FIT)}; got {method!r} (resolve 'auto' first)")
    if not 0 < sample_beta <= 1:
        raise ValueError(f"sample_beta must be in (0, 1]; got {sample_beta}")
    fitted = _fit(method, y_val, scores_val, beta)
    return fitted if sample_beta == 1 else fitted.model_copy(update={"sample_beta": float(sample_beta)})


def _fit(method: str, y_val: ArrayLike, scores_val: ArrayLike, beta: float | None) -> Calibrator:
    if method not in _LEARNED:  # labels are not read: multi-class codes may pass through with method "none"
        return _FIT[method](None, as_scores(scores_val, probabilities=True), beta)
    y, s = as_binary(y_val, scores_val, probabilities=True)
    positives = int(y.sum())
    if not 0 < positives < y.size:
        found = f"got {positives} positive(s) and {y.size - positives} negative(s)"
        raise DataValidationError("validation rows", [f"fitting a {method} calibrator needs both classes; {found}"])
    return _FIT[method](y.astype(np.float64), s, beta)


def calibration_report(
    calibrator: Calibrator, y_val: ArrayLike, scores_val: ArrayLike, *, sample_weight: ArrayLike | None = None
) -> CalibrationReport:
    """Brier score and log loss before and after ``calibrator`` on the rows given (the ones it was fit on).

    ``sample_weight`` (one per row) weights both: with a negative sample weighted ``1 / beta`` per negative, the
    figures estimate the population's, which is what a ``sample_beta`` calibrator is fit for.
    """
    y, s = as_binary(y_val, scores_val, probabilities=True)
    w = as_weights(sample_weight, y.size)
    brier_before, log_loss_before = brier_and_log_loss(y, s, w)
    brier_after, log_loss_after = brier_and_log_loss(y, calibrator.apply(s), w)
    return CalibrationReport(
        method=calibrator.method,
        rows=int(y.size),
        brier_before=brier_before,
        brier_after=brier_after,
        log_loss_before=log_loss_before,
        log_loss_after=log_loss_after,
    )


class ReliabilityCurve(Summary):
    """Mean predicted probability against the observed positive rate in equal-width bins (empty bins left out).

    ``weight`` is each bin's row count, or its summed sample weight (the population rows it stands for).
    """

    mean_predicted: list[float]
    observed_rate: list[float]
    weight: list[float]
    brier: float


def reliability_curve(
    y_true: ArrayLike, probabilities: ArrayLike, *, n_bins: int = 10, sample_weight: ArrayLike | None = None
) -> ReliabilityCurve:
    """The reliability diagram's points: bins ``[0, 1/n), ..., [(n-1)/n, 1]`` of the predicted probability.

    With ``sample_weight`` every bin's mean and rate are weighted, so probabilities shipped for a population can
    be checked on a sample of it (negatives weighted ``1 / beta``).

    Examples
    --------
    >>> curve = reliability_curve([0, 0, 1, 1], [0.1, 0.2, 0.7, 0.9], n_bins=2)
    >>> curve.mean_predicted, curve.observed_rate, curve.weight
    ([0.15000000000000002, 0.8], [0.0, 1.0], [2.0, 2.0])
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be an int >= 1; got {n_bins}")
    y, p = as_binary(y_true, probabilities, probabilities=True)
    w = as_weights(sample_weight, y.size)
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    counts = np.bincount(bins, weights=w, minlength=n_bins).astype(np.float64)
    used = counts > 0
    mean_p = np.bincount(bins, weights=p if w is None else w * p, minlength=n_bins)[used] / counts[used]
    rate = np.bincount(bins, weights=y if w is None else w * y, minlength=n_bins)[used] / counts[used]
    return ReliabilityCurve(
        mean_predicted=mean_p.tolist(),
        observed_rate=rate.tolist(),
        weight=counts[used].tolist(),
        brier=brier_and_log_loss(y, p, w)[0],
    )
