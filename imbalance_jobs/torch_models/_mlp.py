"""TorchMLPClassifier: a tabular MLP behind the scikit-learn classifier interface.

It takes the same preprocessed matrix as the sklearn candidates (numeric columns first, the last
``n_categorical`` columns integer category codes with -1 for unknown) so cross-validation, threshold tuning,
calibration, the promotion gate and scoring treat it like any other classifier. Every hyperparameter is an
``__init__`` argument stored unchanged, so ``clone`` and ``get_params``/``set_params`` work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from imbalance_jobs.torch_models._data import (
    BatchIndexSampler,
    learn_cardinalities,
    make_loader,
    split_columns,
    to_tensors,
)
from imbalance_jobs.torch_models._device import DEVICES, limit_threads, resolve_device, threads_for, training_session
from imbalance_jobs.torch_models._losses import pos_weight_from_labels, sigmoid_focal_loss, weighted_bce_with_logits
from imbalance_jobs.torch_models._network import NORMS, MLPArchitecture, TabularMLP, auto_embedding_dim
from imbalance_jobs.torch_models._training import LR_SCHEDULES, TrainResult, TrainSettings, predict_logits, train_module

__all__ = ["LOSSES", "TorchMLPClassifier"]

logger = logging.getLogger(__name__)


def _focal(est: TorchMLPClassifier, y: np.ndarray) -> Callable:
    return partial(sigmoid_focal_loss, alpha=est.focal_alpha, gamma=est.focal_gamma)


def _bce(est: TorchMLPClassifier, y: np.ndarray) -> Callable:
    return weighted_bce_with_logits


def _weighted_bce(est: TorchMLPClassifier, y: np.ndarray) -> Callable:
    return partial(weighted_bce_with_logits, pos_weight=pos_weight_from_labels(y))


LOSSES: dict[str, Callable[[TorchMLPClassifier, np.ndarray], Callable]] = {
    "focal": _focal,
    "bce": _bce,
    "weighted_bce": _weighted_bce,
}


class TorchMLPClassifier(ClassifierMixin, BaseEstimator):
    """Binary MLP for tabular data: category embeddings, configurable blocks, focal or weighted BCE loss.

    Parameters
    ----------
    hidden_sizes : sequence of int, default (128, 64)
        Widths of the hidden Linear-norm-ReLU-dropout blocks.
    dropout : float in [0, 1), default 0.1
    norm : {"batch", "layer", "none"}, default "batch"
    embedding_dim : int or None, default None
        Width of every category embedding; None picks ``auto_embedding_dim(cardinality)`` per column.
    loss : {"focal", "bce", "weighted_bce"}, default "focal"
        "weighted_bce" sets ``pos_weight = n_negative / n_positive`` from the rows ``fit`` trains on.
    focal_alpha : float in [0, 1] or None, default 0.25
        Weight of the positive class in focal loss (negatives get ``1 - focal_alpha``); see
        :func:`sigmoid_focal_loss` for why 0.25 (not 0.75) is the usual start with ``focal_gamma=2``.
    focal_gamma : float >= 0, default 2.0
    learning_rate, weight_decay : float
        AdamW settings.
    batch_size, max_epochs : int
    patience : int, default 5
        Epochs without a better validation AP before stopping; the best epoch's weights are kept.
    validation_fraction : float in [0, 1), default 0.15
        Stratified hold-out of the rows given to ``fit``, used only for early stopping and the plateau
        schedule. 0 (or a hold-out without both classes) trains ``max_epochs`` epochs on every row.
    lr_schedule : {"cosine", "plateau", "none"}, default "cosine"
    balanced_batches : bool, default False
        Draw training rows with replacement so each batch is about half positives.
    device : {"auto", "cpu", "cuda"}, default "auto"
    require_cuda : bool, default False
        Raise instead of falling back to CPU when CUDA is absent.
    amp : bool, default True
        bf16 autocast on CUDA; ignored on CPU.
    seed : int, default 0
        Seeds initialisation, the hold-out split, shuffling and dropout; same seed and data give the same
        predictions on the same machine.
    n_categorical : int, default 0
        Number of trailing columns of X that are category codes.
    num_workers : int, default 0
        DataLoader worker processes (0 loads batches in the training process, best for in-memory data).
    n_threads : int or None, default None
        CPU threads for torch during fit and predict, capped by the cores this process may use and by
        ``OMP_NUM_THREADS``. None means one thread: measured faster or equal for this model on a shared
        machine (see ``_device.threads_for``); raise it on a machine the job has to itself.

    Attributes
    ----------
    module_ : TabularMLP
    architecture_ : MLPArchitecture
    classes_ : ndarray of shape (2,)
        The two labels seen in fit, sorted: ``array([0, 1])`` for encoded labels. ``classes_[1]`` is the
        positive class (column 1 of ``predict_proba``, the sign of ``decision_function``).
    n_features_in_ : int
    best_epoch_ : int
    history_ : list of dict
        Per epoch: train loss, validation AP, learning rate, rows and seconds (and rows per second).
    device_ : torch.device
        Where the module lives and predicts.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> X, y = make_classification(n_samples=600, weights=[0.95, 0.05], random_state=0)
    >>> clf = TorchMLPClassifier(hidden_sizes=(16,), max_epochs=3, device="cpu").fit(X, y)
    >>> clf.predict_proba(X).shape
    (600, 2)
    """

    _parameter_constraints: dict = {
        "hidden_sizes": ["array-like"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "norm": [StrOptions(set(NORMS))],
        "embedding_dim": [Interval(Integral, 1, None, closed="left"), None],
        "loss": [StrOptions(set(LOSSES))],
        "focal_alpha": [Interval(Real, 0, 1, closed="both"), None],
        "focal_gamma": [Interval(Real, 0, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "balanced_batches": ["boolean"],
        "device": [StrOptions(set(DEVICES))],
        "require_cuda": ["boolean"],
        "amp": ["boolean"],
        "seed": [Interval(Integral, 0, None, closed="left")],
        "n_categorical": [Interval(Integral, 0, None, closed="left")],
        "num_workers": [Interval(Integral, 0, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        hidden_sizes=(128, 64),
        dropout=0.1,
        norm="batch",
        embedding_dim=None,
        loss="focal",
        focal_alpha=0.25,
        focal_gamma=2.0,
        learning_rate=1e-3,
        weight_decay=1e-4,
        batch_size=512,
        max_epochs=50,
        patience=5,
        validation_fraction=0.15,
        lr_schedule="cosine",
        balanced_batches=False,
        device="auto",
        require_cuda=False,
        amp=True,
        seed=0,
        n_categorical=0,
        num_workers=0,
        n_threads=None,
    ):
        self.hidden_sizes = hidden_sizes
        self.dropout = dropout
        self.norm = norm
        self.embedding_dim = embedding_dim
        self.loss = loss
        self.focal_alpha = focal_alpha
        self.focal_gamma = focal_gamma
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.lr_schedule = lr_schedule
        self.balanced_batches = balanced_batches
        self.device = device
        self.require_cuda = require_cuda
        self.amp = amp
        self.seed = seed
        self.n_categorical = n_categorical
        self.num_workers = num_workers
        self.n_threads = n_threads

    def fit(self, X, y) -> TorchMLPClassifier:
        """Train on ``X`` (preprocessed, see the class docstring) and two-class labels ``y`` (0/1 from encode_labels)."""
        self._validate_params()
        self._check_combinations()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False)
        classes, y = _binary_targets(y)
        device = resolve_device(self.device, require_cuda=self.require_cuda)
        with training_session(int(self.seed), device, threads_for(self.n_threads)):
            module, result = self._fit_on(X, y, device)
        _set_fitted(self, module, classes=classes, device=device, best_epoch=result.best_epoch, history=result.history)
        return self

    def _check_combinations(self) -> None:
        sizes = list(self.hidden_sizes)
        if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
            raise ValueError(
                f"The 'hidden_sizes' parameter of TorchMLPClassifier must be ints >= 1. Got {self.hidden_sizes!r} instead."
            )
        if self.require_cuda and self.device == "cpu":
            raise ValueError("When require_cuda=True, device cannot be 'cpu'.")

    def _fit_on(self, X: np.ndarray, y: np.ndarray, device: torch.device) -> tuple[TabularMLP, TrainResult]:
        numeric, categorical = split_columns(X, self.n_categorical)
        arch = self._architecture(numeric.shape[1], learn_cardinalities(categorical))
        data = to_tensors(X, self.n_categorical, arch.cardinalities)
        train_idx, val_idx = self._holdout(y)
        module = arch.build()
        module.init_prior(float(y[train_idx].mean()))
        module.to(device)
        generator = torch.Generator().manual_seed(int(self.seed))
        sampler = BatchIndexSampler(y[train_idx], self.batch_size, generator, balanced=self.balanced_batches)
        loader = make_loader(
            data.rows(torch.from_numpy(train_idx)),
            y[train_idx],
            sampler,
            pin_memory=device.type == "cuda",
            num_workers=self.num_workers,
        )
        val = None if val_idx is None else (data.rows(torch.from_numpy(val_idx)), y[val_idx])
        criterion = LOSSES[self.loss](self, y[train_idx])
        return module, train_module(module, loader, criterion, self._settings(device), val)

    def _architecture(self, n_numeric: int, cardinalities: tuple[int, ...]) -> MLPArchitecture:
        dims = tuple(self.embedding_dim or auto_embedding_dim(c) for c in cardinalities)
        return MLPArchitecture(
            n_numeric=n_numeric,
            cardinalities=cardinalities,
            embedding_dims=dims,
            hidden_sizes=tuple(int(s) for s in self.hidden_sizes),
            dropout=float(self.dropout),
            norm=self.norm,
        )

    def _holdout(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        everything = np.arange(len(y))
        if self.validation_fraction == 0:
            return everything, None
        try:
            train_idx, val_idx = train_test_split(
                everything, test_size=self.validation_fraction, stratify=y, random_state=int(self.seed)
            )
        except ValueError as exc:
            logger.info("TorchMLPClassifier: no early-stopping hold-out (%s); training on all %d rows", exc, len(y))
            return everything, None
        if np.unique(y[train_idx]).size < 2 or np.unique(y[val_idx]).size < 2:
            logger.info("TorchMLPClassifier: hold-out lacks a class; training on all %d rows", len(y))
            return everything, None
        return np.sort(train_idx), np.sort(val_idx)

    def _settings(self, device: torch.device) -> TrainSettings:
        return TrainSettings(
            max_epochs=int(self.max_epochs),
            patience=int(self.patience),
            learning_rate=float(self.learning_rate),
            weight_decay=float(self.weight_decay),
            lr_schedule=self.lr_schedule,
            device=device,
            amp=bool(self.amp),
        )

    def decision_function(self, X) -> np.ndarray:
        """Positive-class logits, shape ``(n,)``."""
        check_is_fitted(self, "module_")
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False)
        data = to_tensors(X, len(self.architecture_.cardinalities), self.architecture_.cardinalities)
        with limit_threads(threads_for(self.n_threads)):
            return predict_logits(self.module_, data, self.device_, amp=bool(self.amp))

    def predict_proba(self, X) -> np.ndarray:
        """``(n, 2)`` float64 probabilities for classes 0 and 1."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X) -> np.ndarray:
        """Class 1 where its probability is at least 0.5 (tune the threshold on validation data instead)."""
        positive = self.predict_proba(X)[:, 1] >= 0.5
        return self.classes_[positive.astype(np.int64)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _binary_targets(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two sorted labels and 0/1 codes; the larger label (1 for encoded labels) is the positive class."""
    y_type = type_of_target(y, input_name="y", raise_unknown=True)
    classes, codes = np.unique(y, return_inverse=True)
    if y_type != "binary":
        raise ValueError(
            f"Only binary classification is supported. The type of the target is {y_type} "
            f"({classes.size} classes: {classes[:10].tolist()}); TorchMLPClassifier learns one positive-class logit"
        )
    if classes.size < 2:
        raise ValueError(f"TorchMLPClassifier needs 2 classes to train; y holds 1 class: {classes.tolist()}")
    return classes, codes.astype(np.int64)


def _set_fitted(
    est: TorchMLPClassifier,
    module: TabularMLP,
    *,
    classes: np.ndarray,
    device: torch.device,
    best_epoch: int,
    history: list[dict],
) -> None:
    """The one place that lists the fitted attributes; used by ``fit`` and by ``persist.from_files``."""
    est.module_ = module.eval()
    est.architecture_ = module.arch
    est.classes_ = np.asarray(classes)
    est.device_ = device
    est.best_epoch_ = int(best_epoch)
    est.history_ = list(history)
