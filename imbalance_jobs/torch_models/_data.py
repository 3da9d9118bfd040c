"""From the preprocessed float matrix to tensors and batches.

Input contract (shared with the sklearn candidates' preprocessing): numeric columns first, already imputed and
standardised; the last ``n_categorical`` columns hold integer category codes (as floats) with -1 for unknown or
missing. Codes are shifted by one so index 0 is the embedding row for "unknown": -1, NaN and any code at or
above the cardinality learned in fit all map there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

__all__ = ["BatchIndexSampler", "TabularTensors", "encode_codes", "learn_cardinalities", "make_loader", "to_tensors"]


@dataclass(frozen=True)
class TabularTensors:
    """Numeric features (float32, ``(n, n_numeric)``) and shifted category indices (int64, ``(n, n_cat)``)."""

    numeric: torch.Tensor
    codes: torch.Tensor

    def __len__(self) -> int:
        return self.numeric.shape[0]

    def rows(self, index: torch.Tensor | slice) -> TabularTensors:
        return TabularTensors(self.numeric[index], self.codes[index])

    def to(self, device: torch.device, *, non_blocking: bool = False) -> TabularTensors:
        return TabularTensors(
            self.numeric.to(device, non_blocking=non_blocking), self.codes.to(device, non_blocking=non_blocking)
        )


def split_columns(X: np.ndarray, n_categorical: int) -> tuple[np.ndarray, np.ndarray]:
    """Numeric block and categorical block; raises ValueError if numeric values are not finite."""
    if n_categorical > X.shape[1]:
        raise ValueError(f"n_categorical={n_categorical} exceeds the {X.shape[1]} columns of X")
    cut = X.shape[1] - n_categorical
    numeric, categorical = X[:, :cut], X[:, cut:]
    bad = ~np.isfinite(numeric).all(axis=0)
    if bad.any():
        raise ValueError(
            f"numeric columns {np.flatnonzero(bad).tolist()} hold NaN or inf; the MLP expects imputed input "
            "(run the candidate's preprocessing first)"
        )
    return numeric, categorical


def learn_cardinalities(categorical: np.ndarray) -> tuple[int, ...]:
    """Per column ``max code + 1`` over the training rows (0 when a column holds only unknowns)."""
    _check_codes(categorical)
    top = np.max(np.where(categorical >= 0, categorical, -1), axis=0, initial=-1)  # NaN >= 0 is False
    return tuple(int(v) + 1 for v in top)


def encode_codes(categorical: np.ndarray, cardinalities: tuple[int, ...]) -> np.ndarray:
    """Shift codes by one; -1, NaN and codes outside ``[0, cardinality)`` become 0 (the unknown slot)."""
    _check_codes(categorical)
    limit = np.asarray(cardinalities, dtype=np.float64)
    known = np.isfinite(categorical) & (categorical >= 0) & (categorical < limit)
    return np.where(known, np.nan_to_num(categorical) + 1, 0).astype(np.int64)


def _check_codes(categorical: np.ndarray) -> None:
    finite = categorical[np.isfinite(categorical)]
    if finite.size and not np.array_equal(finite, np.round(finite)):
        raise ValueError("categorical columns (the last n_categorical of X) must hold integer codes; got fractions")


def to_tensors(X: np.ndarray, n_categorical: int, cardinalities: tuple[int, ...]) -> TabularTensors:
    """Tensors for the module from the preprocessed matrix."""
    numeric, categorical = split_columns(X, n_categorical)
    return TabularTensors(
        torch.from_numpy(np.ascontiguousarray(numeric, dtype=np.float32)),
        torch.from_numpy(encode_codes(categorical, cardinalities)),
    )


class BatchIndexSampler(Sampler[torch.Tensor]):
    """Yields one index tensor per batch: a seeded shuffle, or class-balanced draws with replacement.

    Batches of a single row are skipped because batch norm cannot train on them.
    """

    def __init__(self, y: np.ndarray, batch_size: int, generator: torch.Generator, *, balanced: bool = False):
        self.n = len(y)
        self.batch_size = batch_size
        self.generator = generator
        self.weights = None
        if balanced:
            counts = np.bincount(y, minlength=2).astype(np.float64)
            self.weights = torch.from_numpy(1.0 / counts[y])

    def __iter__(self) -> Iterator[torch.Tensor]:
        if self.weights is None:
            order = torch.randperm(self.n, generator=self.generator)
        else:
            order = torch.multinomial(self.weights, self.n, replacement=True, generator=self.generator)
        for start in range(0, self.n, self.batch_size):
            batch = order[start : start + self.batch_size]
            if len(batch) > 1:
                yield batch

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (rest > 1)


class _Batches(Dataset):
    """Indexed by a whole batch of rows at once, so the loader does one gather per batch, not one per row."""

    def __init__(self, data: TabularTensors, y: torch.Tensor):
        self.data, self.y = data, y

    def __getitem__(self, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.data.numeric[index], self.data.codes[index], self.y[index]

    def __len__(self) -> int:
        return len(self.y)


def make_loader(
    data: TabularTensors, y: np.ndarray, sampler: BatchIndexSampler, *, pin_memory: bool, num_workers: int
) -> DataLoader:
    """A loader of ``(numeric, codes, target)`` batches; pinned memory makes host-to-GPU copies asynchronous."""
    return DataLoader(
        _Batches(data, torch.from_numpy(y.astype(np.float32))),
        sampler=sampler,
        batch_size=None,
        pin_memory=pin_memory,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(int(sampler.generator.initial_seed()) + 1),
    )
