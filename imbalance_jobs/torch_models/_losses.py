"""Class-imbalance losses computed from logits: focal loss (binary and multi-class) and weighted BCE.

What ``alpha`` means
--------------------
Focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection") is

    FL(p_t) = -alpha_t * (1 - p_t) ** gamma * log(p_t)

where ``p_t`` is the probability the model gives the true class and ``alpha_t`` depends on that class:
``alpha`` for a positive row and ``1 - alpha`` for a negative row (``alpha[target]`` for the softmax form).
So ``alpha`` weights the positive class; ``alpha=0.5`` weights both classes equally and ``alpha=None`` turns
the class weighting off. ``gamma`` down-weights rows the model already gets right; ``gamma=0`` gives
alpha-weighted cross-entropy. The two interact: with ``gamma=2`` the easy negatives already lose most of their
weight, which is why the paper's best ``alpha`` was 0.25 (less than 0.5, i.e. the rare positive class gets the
*smaller* factor). ``alpha=0.25, gamma=2`` is the usual starting point; tune both together on validation AP.

The snippet that is widely copied multiplies every row by the same constant ``alpha``
(``alpha * (1 - pt) ** gamma * bce``). That only rescales the loss (like a learning-rate change) and has no
effect on the balance between classes; it is not the loss used here. This module matches
``torchvision.ops.sigmoid_focal_loss``.

Numerics: everything is computed in log space from the logits (``log p_t = logsigmoid(z_t)`` and
``log(1 - p_t) = logsigmoid(-z_t)``), so logits of +-100 give finite losses and finite gradients, and
``gamma`` in (0, 1) does not produce an infinite gradient at ``p_t = 1``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the universal torch alias)

__all__ = [
    "REDUCTIONS",
    "class_weights_from_labels",
    "pos_weight_from_labels",
    "sigmoid_focal_loss",
    "softmax_focal_loss",
    "weighted_bce_with_logits",
]

REDUCTIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "mean": torch.mean,
    "sum": torch.sum,
    "none": lambda loss: loss,
}


def _reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    try:
        return REDUCTIONS[reduction](loss)
    except KeyError:
        raise ValueError(f"reduction must be one of {sorted(REDUCTIONS)}; got {reduction!r}") from None


def _check_gamma(gamma: float) -> None:
    if not gamma >= 0:
        raise ValueError(f"gamma must be a float >= 0; got {gamma!r}")


def sigmoid_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: float | None = 0.25,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary focal loss from raw logits, with ``alpha_t = alpha`` for positives and ``1 - alpha`` for negatives.

    Parameters
    ----------
    logits : Tensor
        Raw scores of any shape (no sigmoid applied).
    targets : Tensor
        Same shape, values 0 or 1 (any floating or integer dtype).
    alpha : float in [0, 1] or None
        Weight of the positive class; negatives get ``1 - alpha``. ``None`` disables class weighting.
        See the module docstring for why 0.25 (not 0.75) is the usual start with ``gamma=2``.
    gamma : float >= 0
        Focusing parameter; 0 gives alpha-weighted binary cross-entropy.
    reduction : {"mean", "sum", "none"}

    Examples
    --------
    >>> import torch
    >>> z, t = torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0])
    >>> bce = torch.nn.functional.binary_cross_entropy_with_logits(z, t, reduction="none")
    >>> fl = sigmoid_focal_loss(z, t, alpha=0.25, gamma=0.0, reduction="none")
    >>> torch.allclose(fl, torch.tensor([0.25, 0.75]) * bce)
    True
    """
    _check_gamma(gamma)
    t = targets.to(logits.dtype)
    z_t = logits * (2.0 * t - 1.0)  # logit of the true class: p_t = sigmoid(z_t)
    loss = -F.logsigmoid(z_t)
    if gamma:
        loss = torch.exp(gamma * F.logsigmoid(-z_t)) * loss
    if alpha is not None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1] or None; got {alpha!r}")
        loss = (alpha * t + (1.0 - alpha) * (1.0 - t)) * loss
    return _reduce(loss, reduction)


def softmax_focal_loss(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    alpha: Sequence[float] | torch.Tensor | float | None = None,
    gamma: float = 2.0,
    reduction: str = "mean",
) -> torch.Tensor:
    """Multi-class focal loss from raw logits ``(n, C)`` and integer targets ``(n,)``; ``alpha_t = alpha[target]``.

    ``alpha`` is a per-class weight vector of length C, or ``None`` for no class weighting. A single float is
    accepted only when C == 2 and means ``[1 - alpha, alpha]``, so a two-class softmax model with the same
    logit difference gives the same loss as :func:`sigmoid_focal_loss`.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.5, -1.0], [0.0, 0.0, 3.0]])
    >>> loss = softmax_focal_loss(logits, torch.tensor([0, 2]), alpha=[0.2, 0.3, 0.5], gamma=2.0)
    >>> bool(torch.isfinite(loss)) and loss.ndim == 0
    True
    """
    _check_gamma(gamma)
    if logits.ndim != 2:
        raise ValueError(f"softmax_focal_loss expects logits of shape (n, C); got {tuple(logits.shape)}")
    targets = targets.long()
    onehot = F.one_hot(targets, logits.shape[1]).bool()
    log_norm = torch.logsumexp(logits, dim=1)
    log_pt = logits.gather(1, targets[:, None]).squeeze(1) - log_norm
    loss = -log_pt
    if gamma:
        # log(1 - p_t) as the log of the other classes' share: exact and finite where p_t rounds to 1.
        log_rest = torch.logsumexp(logits.masked_fill(onehot, float("-inf")), dim=1) - log_norm
        loss = torch.exp(gamma * log_rest) * loss
    weights = _class_alpha(alpha, logits.shape[1], logits)
    if weights is not None:
        loss = weights[targets] * loss
    return _reduce(loss, reduction)


def _class_alpha(alpha: object, n_classes: int, like: torch.Tensor) -> torch.Tensor | None:
    if alpha is None:
        return None
    if isinstance(alpha, float | int) and not isinstance(alpha, bool):
        if n_classes != 2:
            raise ValueError(f"a scalar alpha needs exactly 2 classes; got {n_classes}: pass one alpha per class")
        alpha = [1.0 - float(alpha), float(alpha)]
    weights = torch.as_tensor(alpha, dtype=like.dtype, device=like.device).reshape(-1)
    if weights.numel() != n_classes or bool((weights < 0).any()):
        raise ValueError(f"alpha must hold {n_classes} non-negative class weights; got {alpha!r}")
    return weights


def weighted_bce_with_logits(
    logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    pos_weight: torch.Tensor | float | None = None,
    reduction: str = "mean",
) -> torch.Tensor:
    """Binary cross-entropy from logits with positives weighted by ``pos_weight`` (see :func:`pos_weight_from_labels`)."""
    weight = None if pos_weight is None else torch.as_tensor(pos_weight, dtype=logits.dtype, device=logits.device)
    loss = F.binary_cross_entropy_with_logits(logits, targets.to(logits.dtype), pos_weight=weight, reduction="none")
    return _reduce(loss, reduction)


def pos_weight_from_labels(y: np.ndarray | Sequence[int]) -> torch.Tensor:
    """``n_negative / n_positive`` of 0/1 training labels: the BCE ``pos_weight`` that balances the classes.

    Examples
    --------
    >>> float(pos_weight_from_labels([0, 0, 0, 1]))
    3.0
    """
    y = np.asarray(y).reshape(-1)
    n_pos = int(np.count_nonzero(y == 1))
    n_neg = int(np.count_nonzero(y == 0))
    if n_pos == 0 or n_neg == 0 or n_pos + n_neg != y.size:
        raise ValueError(
            f"pos_weight needs 0/1 labels with both classes; got {n_neg} zeros, {n_pos} ones, {y.size} rows"
        )
    return torch.tensor(n_neg / n_pos, dtype=torch.float32)


def class_weights_from_labels(y: np.ndarray | Sequence[int], n_classes: int) -> torch.Tensor:
    """Balanced class weights ``n / (C * count_c)`` for ``F.cross_entropy(weight=...)`` (sklearn's "balanced").

    Examples
    --------
    >>> class_weights_from_labels([0, 0, 0, 1], 2).tolist()
    [0.6666666865348816, 2.0]
    """
    y = np.asarray(y).reshape(-1).astype(np.int64)
    counts = np.bincount(y, minlength=n_classes) if y.size and y.min() >= 0 else np.zeros(0)
    if counts.size != n_classes or (counts == 0).any():
        raise ValueError(f"class weights need every class 0..{n_classes - 1} present; got counts {counts.tolist()}")
    return torch.tensor(y.size / (n_classes * counts), dtype=torch.float32)
