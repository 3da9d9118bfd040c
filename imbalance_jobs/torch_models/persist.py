"""Store and load a fitted TorchMLPClassifier without pickle: safetensors weights plus a JSON description.

``to_files`` returns two blobs: ``mlp.safetensors`` (the state dict) and ``mlp.json`` (format tag, architecture,
every ``__init__`` parameter, fitted attributes, the weights' SHA-256 and tensor shapes, library versions).
``from_files`` rebuilds the module from the JSON, checks the weights' digest, names and shapes against it, and
loads them with safetensors onto the CPU, so a model trained on CUDA loads on a machine without a GPU. Nothing
is ever unpickled (no ``torch.load``), so a stored model cannot run code on load.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import safetensors
import sklearn
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

import imbalance_jobs
from imbalance_jobs.errors import ModelArtifactError
from imbalance_jobs.torch_models._mlp import TorchMLPClassifier, _set_fitted
from imbalance_jobs.torch_models._network import MLPArchitecture

__all__ = ["DESCRIPTION_FILE", "FORMAT", "FORMAT_VERSION", "WEIGHTS_FILE", "from_files", "to_files"]

FORMAT = "imbalance_jobs.torch_mlp"
FORMAT_VERSION = 1
WEIGHTS_FILE = "mlp.safetensors"
DESCRIPTION_FILE = "mlp.json"


def to_files(estimator: TorchMLPClassifier) -> dict[str, bytes]:
    """``{"mlp.safetensors": weights, "mlp.json": description}`` for a fitted estimator.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=300, weights=[0.9, 0.1], random_state=0)
    >>> clf = TorchMLPClassifier(hidden_sizes=(8,), max_epochs=2, device="cpu").fit(X, y)
    >>> sorted(to_files(clf))
    ['mlp.json', 'mlp.safetensors']
    """
    if not isinstance(estimator, TorchMLPClassifier) or not hasattr(estimator, "module_"):
        raise ModelArtifactError(
            f"to_files needs a fitted TorchMLPClassifier; got {type(estimator).__name__} (unfitted?)"
        )
    state = {k: v.detach().to("cpu").contiguous() for k, v in estimator.module_.state_dict().items()}
    weights = save_safetensors(state, metadata={"format": "pt"})
    description = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture": estimator.architecture_.to_dict(),
        "params": _jsonable(estimator.get_params(deep=False)),
        "fitted": _fitted_dict(estimator),
        "weights": {
            "file": WEIGHTS_FILE,
            "sha256": hashlib.sha256(weights).hexdigest(),
            "tensors": {
                k: {"shape": list(v.shape), "dtype": str(v.dtype).removeprefix("torch.")} for k, v in state.items()
            },
        },
        "versions": _versions(),
    }
    return {WEIGHTS_FILE: weights, DESCRIPTION_FILE: json.dumps(description, indent=2, sort_keys=True).encode()}


def from_files(files: Mapping[str, bytes]) -> TorchMLPClassifier:
    """Rebuild a fitted estimator from :func:`to_files` output; predictions run on CPU.

    Raises
    ------
    ModelArtifactError
        A file is missing, the JSON names an unknown format, architecture or parameter, or the weights do not
        match the digest, names or shapes the JSON records.
    """
    for name in (DESCRIPTION_FILE, WEIGHTS_FILE):
        if name not in files:
            raise ModelArtifactError(f"torch model artifact: file {name!r} is missing; got {sorted(files)}")
    description = _read_description(files[DESCRIPTION_FILE])
    arch = _architecture(description)
    estimator = _estimator(description)
    module = arch.build()
    module.load_state_dict(_read_weights(files[WEIGHTS_FILE], description, module))
    fitted = description.get("fitted", {})
    _set_fitted(
        estimator,
        module,
        classes=_classes(fitted),
        device=torch.device("cpu"),
        best_epoch=fitted.get("best_epoch", 0),
        history=fitted.get("history", []),
    )
    estimator.n_features_in_ = int(fitted.get("n_features_in", arch.n_numeric + len(arch.cardinalities)))
    if fitted.get("feature_names_in") is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in"], dtype=object)
    return estimator


def _classes(fitted: dict[str, Any]) -> np.ndarray:
    classes = fitted.get("classes", [0, 1])
    if not isinstance(classes, list) or len(classes) != 2 or classes[0] == classes[1]:
        raise ModelArtifactError(
            f"torch model artifact: {DESCRIPTION_FILE} > fitted > classes must list 2 labels; got {classes!r}"
        )
    return np.asarray(classes)


def _fitted_dict(estimator: TorchMLPClassifier) -> dict[str, Any]:
    names = getattr(estimator, "feature_names_in_", None)
    return {
        "classes": estimator.classes_.tolist(),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": None if names is None else [str(n) for n in names],
        "best_epoch": estimator.best_epoch_,
        "history": estimator.history_,
        "trained_on": str(estimator.device_),
    }


def _versions() -> dict[str, str]:
    return {
        "imbalance_jobs": imbalance_jobs.__version__,
        "torch": torch.__version__,
        "safetensors": safetensors.__version__,
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
    }


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in params.items():
        if isinstance(value, tuple | list | np.ndarray):
            value = [v.item() if isinstance(v, np.generic) else v for v in value]
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    json.dumps(out)  # fail here, naming nothing opaque, rather than writing half an artifact
    return out


def _read_description(blob: bytes) -> dict[str, Any]:
    try:
        description = json.loads(blob.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelArtifactError(f"torch model artifact: {DESCRIPTION_FILE} is not valid JSON: {exc}") from exc
    if not isinstance(description, dict):
        raise ModelArtifactError(
            f"torch model artifact: {DESCRIPTION_FILE} must hold an object; got {type(description).__name__}"
        )
    found = (description.get("format"), description.get("format_version"))
    if found != (FORMAT, FORMAT_VERSION):
        raise ModelArtifactError(
            f"torch model artifact: {DESCRIPTION_FILE} format must be {FORMAT!r} version {FORMAT_VERSION}; "
            f"got {found[0]!r} version {found[1]!r}"
        )
    return description


def _architecture(description: dict[str, Any]) -> MLPArchitecture:
    try:
        return MLPArchitecture.from_dict(dict(description.get("architecture") or {}))
    except (TypeError, ValueError) as exc:
        raise ModelArtifactError(f"torch model artifact: {DESCRIPTION_FILE} > architecture: {exc}") from exc


def _estimator(description: dict[str, Any]) -> TorchMLPClassifier:
    params = dict(description.get("params") or {})
    known = TorchMLPClassifier().get_params(deep=False)
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ModelArtifactError(f"torch model artifact: {DESCRIPTION_FILE} > params: unknown parameters {unknown}")
    if isinstance(params.get("hidden_sizes"), list):
        params["hidden_sizes"] = tuple(params["hidden_sizes"])
    estimator = TorchMLPClassifier(**params)
    try:
        estimator._validate_params()
    except ValueError as exc:
        raise ModelArtifactError(f"torch model artifact: {DESCRIPTION_FILE} > params: {exc}") from exc
    return estimator


def _read_weights(blob: bytes, description: dict[str, Any], module: torch.nn.Module) -> dict[str, torch.Tensor]:
    digest = (description.get("weights") or {}).get("sha256")
    if digest != hashlib.sha256(blob).hexdigest():
        raise ModelArtifactError(
            f"torch model artifact: {WEIGHTS_FILE} does not match the SHA-256 recorded in {DESCRIPTION_FILE} "
            "(tampered or mixed with another model's files)"
        )
    try:
        state = load_safetensors(blob)
    except Exception as exc:  # safetensors raises its own SafetensorError and others for bad headers
        raise ModelArtifactError(
            f"torch model artifact: {WEIGHTS_FILE} is not a readable safetensors file: {exc}"
        ) from exc
    expected = {k: (tuple(v.shape), v.dtype) for k, v in module.state_dict().items()}
    found = {k: (tuple(v.shape), v.dtype) for k, v in state.items()}
    if found != expected:
        diff = sorted(k for k in expected.keys() | found.keys() if expected.get(k) != found.get(k))
        detail = "; ".join(f"{k}: expected {expected.get(k)}, found {found.get(k)}" for k in diff[:5])
        raise ModelArtifactError(
            f"torch model artifact: {WEIGHTS_FILE} does not fit the architecture in {DESCRIPTION_FILE}: {detail}"
        )
    return state
