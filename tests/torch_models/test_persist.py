"""Safetensors + JSON persistence: exact round trip, no unpickling, and refusal of damaged or mixed files."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pandas as pd
import pytest
import torch

from imbalance_jobs.errors import ModelArtifactError
from imbalance_jobs.torch_models import TorchMLPClassifier
from imbalance_jobs.torch_models.persist import DESCRIPTION_FILE, WEIGHTS_FILE, from_files, to_files
from tests.torch_models.conftest import FAST


@pytest.fixture
def fitted(with_codes) -> tuple[TorchMLPClassifier, np.ndarray]:
    X, y = with_codes
    return TorchMLPClassifier(**FAST, n_categorical=2, norm="batch").fit(X, y), X


def _edit_json(files: dict[str, bytes], edit) -> dict[str, bytes]:
    description = json.loads(files[DESCRIPTION_FILE])
    edit(description)
    return {**files, DESCRIPTION_FILE: json.dumps(description).encode()}


def test_persist_round_trip_gives_identical_probabilities(fitted) -> None:
    clf, X = fitted
    loaded = from_files(to_files(clf))
    assert np.array_equal(loaded.predict_proba(X), clf.predict_proba(X))


def test_persist_round_trip_keeps_parameters_and_fitted_attributes(fitted) -> None:
    clf, _ = fitted
    loaded = from_files(to_files(clf))
    assert loaded.get_params() == clf.get_params()
    assert loaded.architecture_ == clf.architecture_
    assert (loaded.n_features_in_, loaded.best_epoch_) == (clf.n_features_in_, clf.best_epoch_)


def test_persist_description_names_architecture_params_and_versions(fitted) -> None:
    clf, _ = fitted
    description = json.loads(to_files(clf)[DESCRIPTION_FILE])
    assert description["architecture"]["name"] == "tabular_mlp"
    assert description["architecture"]["cardinalities"] == [5, 3]
    assert set(description["params"]) == set(clf.get_params())
    assert {"torch", "safetensors", "imbalance_jobs"} <= set(description["versions"])


def test_persist_loading_never_unpickles(fitted, monkeypatch: pytest.MonkeyPatch) -> None:
    clf, X = fitted
    files = to_files(clf)

    def forbidden(*args, **kwargs):
        raise AssertionError("unpickling during load")

    monkeypatch.setattr(torch, "load", forbidden)
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    assert np.array_equal(from_files(files).predict_proba(X), clf.predict_proba(X))


def test_persist_model_configured_for_cuda_loads_and_scores_on_cpu(fitted, monkeypatch: pytest.MonkeyPatch) -> None:
    clf, X = fitted
    files = to_files(clf.set_params(device="cuda", require_cuda=True))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = from_files(files)
    assert loaded.device_.type == "cpu"
    assert np.isfinite(loaded.predict_proba(X)).all()


def test_persist_tampered_weights_are_refused(fitted) -> None:
    clf, _ = fitted
    files = to_files(clf)
    weights = bytearray(files[WEIGHTS_FILE])
    weights[-3] ^= 0xFF
    with pytest.raises(ModelArtifactError, match=r"mlp\.safetensors does not match the SHA-256 recorded in mlp\.json"):
        from_files({**files, WEIGHTS_FILE: bytes(weights)})


def test_persist_weights_of_another_architecture_are_refused(fitted, with_codes) -> None:
    clf, _ = fitted
    X, y = with_codes
    other = to_files(TorchMLPClassifier(**{**FAST, "hidden_sizes": (8,)}, n_categorical=2).fit(X, y))[WEIGHTS_FILE]
    files = _edit_json(
        {**to_files(clf), WEIGHTS_FILE: other},
        lambda d: d["weights"].update(sha256=hashlib.sha256(other).hexdigest()),
    )
    with pytest.raises(ModelArtifactError, match=r"does not fit the architecture in mlp\.json: body\.0\.bias"):
        from_files(files)


def test_persist_unreadable_safetensors_is_refused(fitted) -> None:
    clf, _ = fitted
    junk = b"not a safetensors file"
    files = _edit_json(
        {**to_files(clf), WEIGHTS_FILE: junk}, lambda d: d["weights"].update(sha256=hashlib.sha256(junk).hexdigest())
    )
    with pytest.raises(ModelArtifactError, match="is not a readable safetensors file"):
        from_files(files)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (
            lambda d: d.update(format_version=2),
            r"format must be 'imbalance_jobs.torch_mlp' version 1; got .* version 2",
        ),
        (lambda d: d["architecture"].update(version=7), r"architecture: architecture must be 'tabular_mlp' version 1"),
        (lambda d: d["architecture"].update(name="resnet"), r"got 'resnet' version 1"),
        (lambda d: d["architecture"].pop("norm"), r"architecture fields missing \['norm'\]"),
        (lambda d: d["params"].update(use_magic=True), r"params: unknown parameters \['use_magic'\]"),
        (lambda d: d["params"].update(norm="group"), r"params: The 'norm' parameter"),
    ],
)
def test_persist_description_that_does_not_fit_is_refused(fitted, edit, match: str) -> None:
    clf, _ = fitted
    with pytest.raises(ModelArtifactError, match=match):
        from_files(_edit_json(to_files(clf), edit))


def test_persist_description_that_is_not_json_is_refused(fitted) -> None:
    clf, _ = fitted
    with pytest.raises(ModelArtifactError, match=r"mlp\.json is not valid JSON"):
        from_files({**to_files(clf), DESCRIPTION_FILE: b"{oops"})


def test_persist_missing_file_is_refused(fitted) -> None:
    clf, _ = fitted
    with pytest.raises(ModelArtifactError, match=r"file 'mlp\.safetensors' is missing; got \['mlp\.json'\]"):
        from_files({DESCRIPTION_FILE: to_files(clf)[DESCRIPTION_FILE]})


def test_persist_unfitted_estimator_is_refused() -> None:
    with pytest.raises(ModelArtifactError, match="needs a fitted TorchMLPClassifier"):
        to_files(TorchMLPClassifier())


def test_persist_keeps_labels_and_feature_names(imbalanced) -> None:
    X, y = imbalanced
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    clf = TorchMLPClassifier(**FAST).fit(frame, np.where(y == 1, "fraud", "ok"))
    loaded = from_files(to_files(clf))
    assert loaded.classes_.tolist() == ["fraud", "ok"]
    assert loaded.feature_names_in_.tolist() == frame.columns.tolist()
    assert np.array_equal(loaded.predict(frame), clf.predict(frame))
