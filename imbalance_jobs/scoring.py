"""A deployable model: fitted scoring pipeline + calibrator + operating threshold, described by model.json.

The same object scores the candidate and the champion in the evaluate stage, the champion in monitoring,
a rollback target before the pointer moves, and user files in ``imbalance-jobs predict``. So there is exactly
one definition of "the model's score" and "the model's decision".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from imbalance_jobs.errors import IngestError, ModelArtifactError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.storage import ObjectStore, join_uri

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MODEL_FORMAT", "DeployedModel", "library_versions"]

MODEL_FORMAT = "imbalance-jobs/model@1"
_LIBRARIES = ("imbalance-jobs", "scikit-learn", "imbalanced-learn", "numpy", "pandas", "skops", "torch")


def library_versions() -> dict[str, str]:
    """Versions of the libraries a stored model depends on (recorded in model.json)."""
    out = {}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


@dataclass(frozen=True)
class DeployedModel:
    """Scores rows the way production does: pipeline -> P(classes) -> calibration -> threshold."""

    pipeline: Any
    description: dict[str, Any]

    @property
    def features(self) -> FeatureSpec:
        feats = self.description["features"]
        return FeatureSpec(numeric=tuple(feats["numeric"]), categorical=tuple(feats["categorical"]))

    @property
    def binary(self) -> bool:
        return len(self.description["label"]["class_names"]) == 2

    @property
    def threshold(self) -> float | None:
        return self.description.get("threshold")

    def calibrator(self) -> Any:
        from imbalance_jobs.evaluation import Calibrator

        return Calibrator.from_dict(self.description["calibration"]["params"])

    def check_input(self, frame: pd.DataFrame, *, source: str) -> tuple[pd.DataFrame, list[str]]:
        """Rows from a user's file made fit to score, by stated rules; ``(frame, notes)``.

        Refused (IngestError naming the file, column and rows): no data rows, a missing feature column, text
        that is not a number in a numeric feature, an infinite value. Scored with a note: category values that
        are not text are matched as text (``5`` is the category ``"5"``); a row with every feature missing is
        scored as the model scores missing values.
        """
        import pandas as pd

        if frame.empty:
            raise IngestError(f"{source}: no data rows (a header only?); nothing to score")
        missing = [c for c in self.features.columns if c not in frame.columns]
        if missing:
            raise IngestError(f"{source}: missing feature column(s) {missing} the model was trained on")
        out, notes = frame.copy(), []
        for col in self.features.numeric:
            out[col] = _numeric_column(out[col], col, source)
        for col in self.features.categorical:
            values = out[col]
            odd = values.notna() & ~values.map(lambda v: isinstance(v, str))
            if odd.any():
                out[col] = values.map(lambda v: v if not isinstance(v, float | int) or pd.isna(v) else _as_text(v))
                notes.append(f"column '{col}': {int(odd.sum())} non-text category value(s) matched as text")
        empty = out[self.features.columns].isna().all(axis=1)
        if empty.any():
            notes.append(
                f"{int(empty.sum())} row(s) have every feature missing (rows {_rows(empty)}); "
                "scored as the model scores missing values"
            )
        return out, notes

    def proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated class probabilities, columns in code order."""
        missing = [c for c in self.features.columns if c not in frame.columns]
        if missing:
            raise ModelArtifactError(f"input is missing feature column(s) {missing} the model was trained on")
        return np.asarray(self.pipeline.predict_proba(frame[self.features.columns]))

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Binary: calibrated P(positive), shape (n,). Multi-class: the probability matrix (n, K)."""
        return self.ranking_and_scores(frame)[1]

    def ranking_and_scores(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """``(ranking, scores)`` from one prediction: the uncalibrated probabilities, and :meth:`scores`.

        Ranking metrics (AP, ROC AUC) read the uncalibrated scores: an isotonic calibrator maps ranges of scores
        to one value, which ties rows the model had ordered and so lowers the AP a gate would see.
        """
        proba = self.proba(frame)
        if not self.binary:
            return proba, proba
        return proba[:, 1], np.asarray(self.calibrator().apply(proba[:, 1]), dtype=np.float64)

    def operating_point(self, scores: np.ndarray, watched: int) -> tuple[np.ndarray, float]:
        """``(decision score, threshold)`` of the watched class: recall and precision at the model's decision.

        Binary: the calibrated score and the model's threshold. Multi-class: argmax decides, expressed as a 0/1
        score with threshold 0.5.
        """
        if self.binary:
            return scores, float(self.threshold)
        return (self.decisions(scores) == watched).astype(np.float64), 0.5

    def decisions(self, scores: np.ndarray) -> np.ndarray:
        """Predicted codes: ``score >= threshold`` for binary, argmax for multi-class."""
        if not self.binary:
            return np.argmax(scores, axis=1)
        return (scores >= self.threshold).astype(np.int64)

    # -- storage -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, store: ObjectStore, prefix: str) -> DeployedModel:
        """Load ``<prefix>/model.json`` and the pipeline files under ``<prefix>/model/``."""
        from imbalance_jobs.model_io import load_model

        description = store.get_json(join_uri(prefix, "model.json"))
        if description.get("format") != MODEL_FORMAT:
            raise ModelArtifactError(
                f"{join_uri(prefix, 'model.json')}: unknown model format {description.get('format')!r}; "
                f"expected {MODEL_FORMAT!r}"
            )
        pipeline = load_model(store, join_uri(prefix, "model") + "/")
        return cls(pipeline=pipeline, description=description)

    @staticmethod
    def describe(**fields: Any) -> dict[str, Any]:
        """A model.json body: the given fields plus format, library versions and creation time."""
        return {
            "format": MODEL_FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "library_versions": library_versions(),
            **fields,
        }


def _numeric_column(values: pd.Series, col: str, source: str) -> pd.Series:
    import pandas as pd

    numbers = values if pd.api.types.is_numeric_dtype(values.dtype) else pd.to_numeric(values, errors="coerce")
    bad = values.notna() & numbers.isna()
    if bad.any():
        shown = [str(v) for v in values[bad].head(3)]
        raise IngestError(
            f"{source}: numeric feature '{col}' has {int(bad.sum())} value(s) that are not numbers "
            f"(rows {_rows(bad)}: {shown}); fix them or leave them empty (missing)"
        )
    infinite = np.isinf(numbers.to_numpy(dtype=np.float64, na_value=np.nan))  # dtype kept: scores stay exact
    if infinite.any():
        mask = pd.Series(infinite, index=values.index)
        raise IngestError(
            f"{source}: numeric feature '{col}' has {int(infinite.sum())} infinite value(s) (rows {_rows(mask)}); "
            "the model was trained on finite numbers: fix them or leave them empty (missing)"
        )
    return numbers


def _rows(mask: pd.Series) -> str:
    """1-based data-row numbers of a mask, the first five."""
    rows = [int(i) + 1 for i in np.flatnonzero(mask.to_numpy())]
    return ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def _as_text(value: float | int) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
