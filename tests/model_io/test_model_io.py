"""skops artifacts: exact round trips for every sklearn model and layout; tampered or untrusted files refused."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import skops.io as sio
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline as SkPipeline
from sklearn.preprocessing import FunctionTransformer

from imbalance_jobs.config import SKLEARN_MODEL_NAMES, CandidateConfig
from imbalance_jobs.errors import ModelArtifactError
from imbalance_jobs.features import FeatureSpec
from imbalance_jobs.model_io import MANIFEST, dump_model, load_model, load_model_files, save_model
from imbalance_jobs.models import build_pipeline, scoring_pipeline
from imbalance_jobs.synthetic import SyntheticSpec, make_frame
from tests.conftest import RUN_DATE

SMALL = {
    "random_forest": {"n_estimators": 5},
    "extra_trees": {"n_estimators": 5},
    "hist_gradient_boosting": {"max_iter": 5},
    "logistic_regression": {},
}
MIXED = FeatureSpec(numeric=("f0", "f1", "amount"), categorical=("merchant_category", "channel"))
NUMERIC = FeatureSpec(numeric=("f0", "f1", "amount"), categorical=())
LAYOUTS = {  # imbalance, pca, features: every way categorical columns reach a model
    "numeric": ("none", None, NUMERIC),
    "model_choice": ("none", None, MIXED),
    "codes_then_sampler": ("smote", None, MIXED),
    "onehot_for_sampler": ("tomek", None, MIXED),
    "pca": ("smote", 2, MIXED),
}


@pytest.fixture(scope="module")
def frame():
    return make_frame(SyntheticSpec(rows=300, positive_rate=0.15, n_numeric=3), seed=4, day=RUN_DATE)


def _scoring(frame, model: str, layout: str, y=None):
    imbalance, pca, features = LAYOUTS[layout]
    y = frame["is_fraud"].to_numpy() if y is None else y
    candidate = CandidateConfig(
        name="c1", model=model, model_params=SMALL[model], imbalance=imbalance, pca_components=pca
    )
    return scoring_pipeline(build_pipeline(candidate, features, y, seed=0).fit(frame, y))


def _files(pipeline) -> dict[str, bytes]:
    """Files for an arbitrary pipeline, bypassing dump_model's own checks, with a correct manifest."""
    return _files_with(sio.dumps(pipeline))


def _files_with(data: bytes) -> dict[str, bytes]:
    manifest = {
        "format": "imbalance_jobs.model",
        "format_version": 1,
        "kind": "sklearn",
        "final_step": "model",
        "files": {"model.skops": {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}},
    }
    return {"model.skops": data, MANIFEST: json.dumps(manifest).encode()}


def _double(X):
    return X * 2


class Doubler(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X * 2


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("model", SKLEARN_MODEL_NAMES)
def test_dump_model_round_trip_gives_identical_probabilities(frame, model, layout) -> None:
    pipeline = _scoring(frame, model, layout)
    loaded = load_model_files(dump_model(pipeline), source="memory")
    assert np.array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))


@pytest.mark.parametrize("model", SKLEARN_MODEL_NAMES)
def test_dump_model_round_trip_multiclass(frame, model) -> None:
    y = np.where(frame["f1"] > 1.0, 2, frame["is_fraud"].to_numpy())
    pipeline = _scoring(frame, model, "codes_then_sampler", y=y)
    loaded = load_model_files(dump_model(pipeline), source="memory")
    assert np.array_equal(loaded.predict_proba(frame), pipeline.predict_proba(frame))


def test_dump_model_writes_digests_of_every_file(frame) -> None:
    files = dump_model(_scoring(frame, "logistic_regression", "numeric"))
    manifest = json.loads(files[MANIFEST])
    assert sorted(files) == ["model.files.json", "model.skops"]
    assert manifest["files"]["model.skops"]["sha256"] == hashlib.sha256(files["model.skops"]).hexdigest()


def test_dump_model_refuses_a_pipeline_with_a_sampler(frame) -> None:
    y = frame["is_fraud"].to_numpy()
    fitted = build_pipeline(CandidateConfig(name="c1", imbalance="smote"), NUMERIC, y, seed=0).fit(frame, y)
    with pytest.raises(ModelArtifactError, match=r"step\(s\) \['sampler'\] are samplers; save scoring_pipeline"):
        dump_model(fitted)


def test_dump_model_refuses_what_could_not_be_loaded_back() -> None:
    pipeline = SkPipeline([("double", FunctionTransformer(_double))]).fit(np.ones((3, 2)))
    with pytest.raises(ModelArtifactError, match=r"types outside the allow-list \['test_model_io._double'\]"):
        dump_model(pipeline)


def test_load_model_files_refuses_tampered_bytes(frame) -> None:
    files = dump_model(_scoring(frame, "logistic_regression", "numeric"))
    data = bytearray(files["model.skops"])
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ModelArtifactError, match=r"mem: file model.skops does not match its recorded SHA-256"):
        load_model_files({**files, "model.skops": bytes(data)}, source="mem")


def test_load_model_files_refuses_a_function_outside_the_allow_list() -> None:
    files = _files(SkPipeline([("double", FunctionTransformer(_double))]).fit(np.ones((3, 2))))
    with pytest.raises(
        ModelArtifactError, match=r"s3://b/m/model.skops: refused; .*allow-list: \['test_model_io._double'\]"
    ):
        load_model_files(files, source="s3://b/m/")


def test_load_model_files_refuses_a_custom_class() -> None:
    files = _files(SkPipeline([("double", Doubler())]).fit(np.ones((3, 2))))
    with pytest.raises(ModelArtifactError, match=r"refused; .*allow-list: \['test_model_io.Doubler'\]"):
        load_model_files(files, source="mem")


def test_load_model_files_refuses_a_non_pipeline() -> None:
    with pytest.raises(ModelArtifactError, match=r"holds a dict, not a scikit-learn Pipeline"):
        load_model_files(_files({"a": 1}), source="mem")


def test_load_model_files_refuses_garbage() -> None:
    with pytest.raises(ModelArtifactError, match=r"mem/model.skops: not a readable skops file"):
        load_model_files(_files_with(b"not a zip"), source="mem")


def test_load_model_files_needs_the_manifest(frame) -> None:
    files = dump_model(_scoring(frame, "logistic_regression", "numeric"))
    with pytest.raises(ModelArtifactError, match=r"mem: model.files.json is missing"):
        load_model_files({"model.skops": files["model.skops"]}, source="mem")


@pytest.mark.integration
def test_save_model_then_load_model_round_trips(store, buckets, frame) -> None:
    pipeline = _scoring(frame, "hist_gradient_boosting", "model_choice")
    prefix = f"s3://{buckets['artifacts']}/runs/r1/candidates/hgb/model/"
    uris = save_model(store, prefix, pipeline)
    assert uris == [prefix + "model.skops", prefix + MANIFEST]
    assert np.array_equal(load_model(store, prefix).predict_proba(frame), pipeline.predict_proba(frame))


@pytest.mark.integration
def test_load_model_without_a_model_raises(store, buckets) -> None:
    with pytest.raises(ModelArtifactError, match=r"model.files.json: no model here"):
        load_model(store, f"s3://{buckets['artifacts']}/nothing/")
