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

from imbalance_jobs.errors import ModelArtifactError
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

    def proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Uncalibrated class probabilities, columns in code order."""
        missing = [c for c in self.features.columns if c not in frame.columns]
        if missing:
            raise ModelArtifactError(f"input is missing feature column(s) {missing} the model was trained on")
        return np.asarray(self.pipeline.predict_proba(frame[self.features.columns]))

    def scores(self, frame: pd.DataFrame) -> np.ndarray:
        """Binary: calibrated P(positive), shape (n,). Multi-class: the probability matrix (n, K)."""
        proba = self.proba(frame)
        if not self.binary:
            return proba
        return np.asarray(self.calibrator().apply(proba[:, 1]), dtype=np.float64)

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
