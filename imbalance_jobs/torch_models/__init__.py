"""Torch models for rare-event classification: focal loss, a tabular MLP classifier, safe persistence.

Importing this package imports torch, so only training and scoring code imports it (never DAG files or
``imbalance_jobs/__init__``). ``persist`` stores a fitted :class:`TorchMLPClassifier` as safetensors weights
plus a JSON description and loads it back without unpickling.
"""

from imbalance_jobs.torch_models import persist
from imbalance_jobs.torch_models._device import allowed_threads, autocast, resolve_device, threads_for
from imbalance_jobs.torch_models._losses import (
    class_weights_from_labels,
    pos_weight_from_labels,
    sigmoid_focal_loss,
    softmax_focal_loss,
    weighted_bce_with_logits,
)
from imbalance_jobs.torch_models._mlp import LOSSES, TorchMLPClassifier
from imbalance_jobs.torch_models._network import MLPArchitecture, TabularMLP, auto_embedding_dim

__all__ = [
    "LOSSES",
    "MLPArchitecture",
    "TabularMLP",
    "TorchMLPClassifier",
    "allowed_threads",
    "auto_embedding_dim",
    "autocast",
    "class_weights_from_labels",
    "persist",
    "pos_weight_from_labels",
    "resolve_device",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "threads_for",
    "weighted_bce_with_logits",
]
