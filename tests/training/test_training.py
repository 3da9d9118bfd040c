"""Cross-validation and refit: resampling inside each fold and the training rows only, reproducible scores."""

from __future__ import annotations

import numpy as np
import pytest
from imblearn import FunctionSampler
from sklearn.base import clone
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from imbalance_jobs import models
from imbalance_jobs.features import ROW_ID, resolve_features
from imbalance_jobs.split import split_frame
from imbalance_jobs.training import (
    cross_validate_candidate,
    fit_candidate,
    score_predictions,
)
from tests.training.conftest import HGB, LR_SMOTE, RF_UNDER

Calls = list[tuple[np.ndarray, np.ndarray]]


def _spy_on_sampler(monkeypatch) -> Calls:
    """Swap each built pipeline's sampler for one that records the (X, y) of every fit call, then resamples."""
    calls: Calls = []
    real_build = models.build_pipeline

    def build(candidate, features, y, *, seed):
        pipeline = real_build(candidate, features, y, seed=seed)
        position = [name for name, _ in pipeline.steps].index("sampler")
        inner = pipeline.steps[position][1]

        def record(X, y):
            calls.append((np.array(X, copy=True), np.array(y, copy=True)))
            return clone(inner).fit_resample(X, y)

        pipeline.steps[position] = ("sampler", FunctionSampler(func=record, validate=False))
        return pipeline

    monkeypatch.setattr(models, "build_pipeline", build)
    return calls


def _preprocess(cfg, frame):
    """A fresh, unfitted copy of the candidate's preprocessing step."""
    candidate = cfg.training.candidates[0]
    features = resolve_features(cfg, frame)
    return models.build_pipeline(candidate, features, frame["is_fraud"].to_numpy(), seed=cfg.seed)["preprocess"]


def _row_key(row: np.ndarray) -> tuple[float, ...]:
    return tuple(np.round(row, 9) + 0.0)


def test_cross_validate_candidate_resamples_inside_each_fold(monkeypatch, snapshot, config) -> None:
    cfg = config(LR_SMOTE)
    preprocess = _preprocess(cfg, snapshot)
    calls = _spy_on_sampler(monkeypatch)
    cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg)
    y = snapshot["is_fraud"].to_numpy()
    folds = list(StratifiedKFold(3, shuffle=True, random_state=cfg.seed).split(snapshot, y))
    assert len(calls) == len(folds)  # one resample per fold fit; scoring the held-out fold never resamples
    for (X_seen, y_seen), (fit_rows, _) in zip(calls, folds):
        assert np.array_equal(y_seen, y[fit_rows])
        assert np.array_equal(X_seen, clone(preprocess).fit_transform(snapshot.iloc[fit_rows]))


def test_cross_validate_candidate_same_data_config_seed_same_scores(snapshot, config) -> None:
    cfg = config(RF_UNDER)
    first = cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg)
    second = cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg)
    assert first.scores == second.scores
    assert np.array_equal(first.oof, second.oof)
    assert len(first.scores) == 3
    assert all(0.0 <= s <= 1.0 for s in first.scores)


def test_cross_validate_candidate_other_seed_other_folds(snapshot, config) -> None:
    first = cross_validate_candidate(config(RF_UNDER).training.candidates[0], snapshot, config(RF_UNDER))
    other = config(RF_UNDER, seed=7)
    assert cross_validate_candidate(other.training.candidates[0], snapshot, other).scores != first.scores


def test_cross_validate_candidate_multiclass_uses_macro_average_precision(snapshot, config) -> None:
    frame = snapshot.assign(is_fraud=np.where(snapshot["f1"] > 1.0, 2, snapshot["is_fraud"]))
    cfg = config(HGB, label={"classes": [0, 1, 2]})
    scores = cross_validate_candidate(cfg.training.candidates[0], frame, cfg).scores
    assert len(scores) == 3
    assert all(0.0 < s <= 1.0 for s in scores)


def test_score_predictions_multiclass_is_the_mean_of_one_vs_rest_average_precision() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    proba = rng.dirichlet(np.ones(3), size=200)
    per_class = [average_precision_score(y == k, proba[:, k]) for k in range(3)]
    assert score_predictions("average_precision", y, proba, 3) == pytest.approx(np.mean(per_class))


def test_fit_candidate_resamples_training_rows_only(monkeypatch, snapshot, config) -> None:
    cfg = config(LR_SMOTE)
    parts = split_frame(cfg, snapshot)
    calls = _spy_on_sampler(monkeypatch)
    fitted = fit_candidate(cfg.training.candidates[0], parts.train, cfg)
    preprocess = fitted.pipeline["preprocess"]
    row_ids = {}
    for frame in parts.parts().values():
        row_ids.update(zip(map(_row_key, preprocess.transform(frame)), frame[ROW_ID]))
    assert len(row_ids) == len(snapshot)  # every row is recognisable by its preprocessed values
    (X_seen, _), *recount = calls  # a sampler that records no counts is run once more, on the same rows
    assert all(np.array_equal(X, X_seen) for X, _ in recount)
    seen = {row_ids[_row_key(row)] for row in X_seen}
    assert seen == set(parts.train[ROW_ID])
    assert seen.isdisjoint(parts.validation[ROW_ID])
    assert seen.isdisjoint(parts.test[ROW_ID])


def test_fit_candidate_never_resamples_validation_or_test_rows(monkeypatch, snapshot, config) -> None:
    cfg = config(LR_SMOTE)
    parts = split_frame(cfg, snapshot)
    calls = _spy_on_sampler(monkeypatch)
    fitted = fit_candidate(cfg.training.candidates[0], parts.train, cfg)
    after_fit = len(calls)
    assert not any(hasattr(step, "fit_resample") for _, step in fitted.scoring.steps)
    for frame in (parts.validation, parts.test):
        assert fitted.scoring.predict_proba(frame).shape[0] == len(frame)
        assert fitted.pipeline.predict_proba(frame).shape[0] == len(frame)
    assert len(calls) == after_fit  # predicting never resamples


def test_fit_candidate_equals_pipeline_fit(snapshot, config) -> None:
    cfg = config(LR_SMOTE)
    fitted = fit_candidate(cfg.training.candidates[0], snapshot, cfg)
    features = resolve_features(cfg, snapshot)
    y = snapshot["is_fraud"].to_numpy()
    reference = models.build_pipeline(cfg.training.candidates[0], features, y, seed=cfg.seed).fit(snapshot, y)
    assert np.array_equal(fitted.scoring.predict_proba(snapshot), reference.predict_proba(snapshot))


def test_fit_candidate_same_seed_same_model(snapshot, config) -> None:
    cfg = config(LR_SMOTE)
    first = fit_candidate(cfg.training.candidates[0], snapshot, cfg).scoring.predict_proba(snapshot)
    second = fit_candidate(cfg.training.candidates[0], snapshot, cfg).scoring.predict_proba(snapshot)
    assert np.array_equal(first, second)


def test_fit_candidate_records_undersampling_for_prior_correction(snapshot, config) -> None:
    cfg = config(RF_UNDER)
    fitted = fit_candidate(cfg.training.candidates[0], snapshot, cfg)
    before, after = fitted.class_counts_before, fitted.class_counts_after
    assert after["1"] == before["1"]
    assert after["0"] == 2 * after["1"] < before["0"]
    assert sum(before.values()) == len(snapshot)


def test_fit_candidate_counts_are_equal_without_a_sampler(snapshot, config) -> None:
    cfg = config(HGB)
    fitted = fit_candidate(cfg.training.candidates[0], snapshot, cfg)
    assert fitted.class_counts_before == fitted.class_counts_after
    assert fitted.sampler is None


def test_cross_validate_candidate_out_of_fold_predictions_are_each_fold_models_on_its_held_out_rows(
    snapshot, config
) -> None:
    cfg = config(HGB)
    cv = cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg)
    y = snapshot["is_fraud"].to_numpy()
    assert np.isfinite(cv.oof).all()  # stratified folds hold every row out once
    for k, score in enumerate(cv.scores):
        held = cv.fold == k
        assert score == pytest.approx(average_precision_score(y[held], cv.oof[held, 1]))


def test_cross_validate_candidate_time_split_folds_never_predict_the_past(snapshot, config) -> None:
    cfg = config(HGB, split={"method": "time"})
    frame = snapshot.sort_values("event_time", kind="stable").reset_index(drop=True)
    cv = cross_validate_candidate(cfg.training.candidates[0], frame, cfg)
    assert (cv.fold[: len(frame) // 4] == -1).all()  # the oldest rows are only ever fit on
    held = np.flatnonzero(cv.fold >= 0)
    for k in range(cfg.training.cv_folds):
        rows = np.flatnonzero(cv.fold == k)
        assert rows.min() > 0
        assert frame["event_time"].iloc[rows].min() >= frame["event_time"].iloc[: rows.min()].max()
    assert held.size < len(frame)
    assert "time-ordered" in cv.scheme


def test_cross_validate_candidate_logs_one_progress_line_per_fold(snapshot, config, caplog) -> None:
    cfg = config(HGB)
    with caplog.at_level("INFO", logger="imbalance_jobs.training"):
        cross_validate_candidate(cfg.training.candidates[0], snapshot, cfg)
    lines = [r.getMessage() for r in caplog.records if r.name == "imbalance_jobs.training"]
    assert [line.split(" fit on")[0] for line in lines] == [f"candidate hgb: fold {k}/3" for k in (1, 2, 3)]


def test_hist_gradient_boosting_cv_folds_and_refit_fit_the_same_estimator(config) -> None:
    """Above 10,000 rows scikit-learn's early_stopping="auto" would switch on in the refit but not in smaller folds."""
    from imbalance_jobs.synthetic import SyntheticSpec, make_frame
    from tests.conftest import RUN_DATE

    frame = make_frame(SyntheticSpec(rows=12_000, positive_rate=0.05, n_numeric=5), seed=9, day=RUN_DATE)
    cfg = config(HGB)
    fitted = fit_candidate(cfg.training.candidates[0], frame, cfg)
    model = fitted.pipeline.steps[-1][1]
    fold_model = models.build_pipeline(cfg.training.candidates[0], fitted.features, frame["is_fraud"], seed=cfg.seed)
    assert model.early_stopping is False
    assert model.n_iter_ == model.max_iter == 20
    assert fold_model.steps[-1][1].get_params() == {**model.get_params()}
