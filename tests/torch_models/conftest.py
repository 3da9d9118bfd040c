"""Small seeded data sets for the torch model tests: imbalanced numeric, and numeric plus category codes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from imbalance_jobs.synthetic import CATEGORIES, SyntheticSpec, make_frame

FAST = {"hidden_sizes": (16,), "max_epochs": 4, "batch_size": 128, "device": "cpu"}
"""Parameters that make a fit take well under a second; tests about behaviour, not quality, use them."""


@pytest.fixture
def imbalanced() -> tuple[np.ndarray, np.ndarray]:
    """800 rows, 8 standardised numeric features, about 10% positives."""
    X, y = make_classification(n_samples=800, n_features=8, n_informative=4, weights=[0.9, 0.1], random_state=3)
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def with_codes() -> tuple[np.ndarray, np.ndarray]:
    """600 rows: 4 numeric columns then 2 category-code columns (cardinalities 5 and 3, some -1)."""
    rng = np.random.default_rng(11)
    numeric = rng.normal(size=(600, 4))
    codes = np.column_stack([rng.integers(0, 5, 600), rng.integers(0, 3, 600)]).astype(np.float64)
    codes[rng.random(600) < 0.05, 0] = -1
    logit = numeric[:, 0] + 1.5 * (codes[:, 0] == 4) - 2.5
    y = (rng.random(600) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return np.column_stack([numeric, codes]), y


def fraud_split(seed: int, rows: int = 4000) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A make_frame day as the preprocessing would hand it over: 9 standardised numeric columns then 2 code columns."""
    frame = make_frame(SyntheticSpec(rows=rows, null_fraction=0.0), seed=seed, day=dt.date(2026, 11, 27))
    numeric = frame[[f"f{i}" for i in range(8)] + ["amount"]].to_numpy(np.float64)
    codes = np.column_stack(
        [frame[c].map({v: i for i, v in enumerate(levels)}).to_numpy() for c, levels in CATEGORIES.items()]
    ).astype(np.float64)
    y = frame["is_fraud"].to_numpy()
    train, test = train_test_split(np.arange(rows), test_size=0.3, stratify=y, random_state=seed)
    scaler = StandardScaler().fit(numeric[train])
    X = np.column_stack([scaler.transform(numeric), codes])
    return X[train], X[test], y[train], y[test]
