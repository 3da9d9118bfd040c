"""Category codes to embedding indices, and the batch sampler (shuffled and class-balanced)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from imbalance_jobs.torch_models._data import BatchIndexSampler, encode_codes, learn_cardinalities, to_tensors


def test_learn_cardinalities_is_max_code_plus_one_per_column() -> None:
    codes = np.array([[0, -1], [4, 2], [1, np.nan]])
    assert learn_cardinalities(codes) == (5, 3)


def test_learn_cardinalities_of_an_all_unknown_column_is_zero() -> None:
    assert learn_cardinalities(np.array([[-1.0], [-1.0]])) == (0,)


def test_encode_codes_sends_missing_negative_and_unseen_codes_to_index_zero() -> None:
    codes = np.array([[0.0], [2.0], [-1.0], [np.nan], [3.0], [7.0]])
    assert encode_codes(codes, (3,)).ravel().tolist() == [1, 3, 0, 0, 0, 0]


def test_encode_codes_refuses_fractional_codes() -> None:
    with pytest.raises(ValueError, match="must hold integer codes"):
        encode_codes(np.array([[0.5]]), (3,))


def test_to_tensors_refuses_non_finite_numeric_columns() -> None:
    X = np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 0.0]])
    with pytest.raises(ValueError, match=r"numeric columns \[1\] hold NaN or inf"):
        to_tensors(X, 1, (2,))


def test_to_tensors_splits_numeric_and_code_columns() -> None:
    data = to_tensors(np.array([[0.5, 1.5, 2.0], [1.0, 2.0, -1.0]]), 1, (3,))
    assert data.numeric.dtype == torch.float32
    assert tuple(data.numeric.shape) == (2, 2)
    assert data.codes.ravel().tolist() == [3, 0]


def test_batch_index_sampler_shuffle_covers_every_row_once() -> None:
    sampler = BatchIndexSampler(np.zeros(103, dtype=np.int64), 10, torch.Generator().manual_seed(0))
    rows = torch.cat(list(sampler))
    assert sorted(rows.tolist()) == list(range(103))
    assert len(list(sampler)) == len(sampler) == 11


def test_batch_index_sampler_skips_a_single_row_last_batch() -> None:
    sampler = BatchIndexSampler(np.zeros(21, dtype=np.int64), 10, torch.Generator().manual_seed(0))
    assert [len(b) for b in sampler] == [10, 10]
    assert len(sampler) == 2


def test_batch_index_sampler_balanced_draws_about_half_positives() -> None:
    y = np.array([0] * 950 + [1] * 50)
    sampler = BatchIndexSampler(y, 100, torch.Generator().manual_seed(0), balanced=True)
    drawn = torch.cat(list(sampler)).numpy()
    assert len(drawn) == len(y)
    assert 0.4 < y[drawn].mean() < 0.6
