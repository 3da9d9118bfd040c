"""Focal loss and weighted BCE against the direct formula, on hand-picked cases, extremes and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from imbalance_jobs.torch_models import (
    class_weights_from_labels,
    pos_weight_from_labels,
    sigmoid_focal_loss,
    softmax_focal_loss,
    weighted_bce_with_logits,
)

LOGITS = [2.0, -1.0, 0.5, -3.0, 0.0]
TARGETS = [1, 0, 0, 1, 1]


def _direct_binary(z: float, t: int, alpha: float, gamma: float) -> float:
    """-alpha_t (1 - p_t)^gamma log(p_t), written out the way the paper states it."""
    p = 1.0 / (1.0 + math.exp(-z))
    p_t = p if t == 1 else 1.0 - p
    alpha_t = alpha if t == 1 else 1.0 - alpha
    return -alpha_t * (1.0 - p_t) ** gamma * math.log(p_t)


def _direct_softmax(z: list[float], t: int, alpha: list[float], gamma: float) -> float:
    p_t = math.exp(z[t]) / sum(math.exp(v) for v in z)
    return -alpha[t] * (1.0 - p_t) ** gamma * math.log(p_t)


@pytest.mark.parametrize(("alpha", "gamma"), [(0.25, 2.0), (0.75, 1.0), (0.5, 0.5), (0.1, 3.0)])
def test_sigmoid_focal_loss_matches_direct_formula(alpha: float, gamma: float) -> None:
    loss = sigmoid_focal_loss(
        torch.tensor(LOGITS, dtype=torch.float64), torch.tensor(TARGETS), alpha=alpha, gamma=gamma, reduction="none"
    )
    expected = [_direct_binary(z, t, alpha, gamma) for z, t in zip(LOGITS, TARGETS)]
    assert loss.tolist() == pytest.approx(expected, rel=1e-12)


def test_sigmoid_focal_loss_alpha_weights_positives_by_alpha_and_negatives_by_one_minus_alpha() -> None:
    z, t = torch.tensor(LOGITS, dtype=torch.float64), torch.tensor(TARGETS, dtype=torch.float64)
    ratio = sigmoid_focal_loss(z, t, alpha=0.2, gamma=2.0, reduction="none") / sigmoid_focal_loss(
        z, t, alpha=None, gamma=2.0, reduction="none"
    )
    assert ratio[t == 1].tolist() == pytest.approx([0.2] * int(t.sum()))
    assert ratio[t == 0].tolist() == pytest.approx([0.8] * int((1 - t).sum()))


def test_sigmoid_focal_loss_gamma_zero_is_alpha_weighted_bce() -> None:
    z, t = torch.tensor(LOGITS, dtype=torch.float64), torch.tensor(TARGETS, dtype=torch.float64)
    weights = 0.3 * t + 0.7 * (1 - t)
    expected = F.binary_cross_entropy_with_logits(z, t, weight=weights, reduction="none")
    assert torch.allclose(sigmoid_focal_loss(z, t, alpha=0.3, gamma=0.0, reduction="none"), expected)


def test_sigmoid_focal_loss_without_alpha_and_gamma_is_plain_bce() -> None:
    z, t = torch.tensor(LOGITS), torch.tensor(TARGETS, dtype=torch.float32)
    expected = F.binary_cross_entropy_with_logits(z, t)
    assert torch.allclose(sigmoid_focal_loss(z, t, alpha=None, gamma=0.0), expected)


def test_sigmoid_focal_loss_shrinks_easy_rows_more_than_hard_rows() -> None:
    t = torch.ones(2)
    z = torch.tensor([4.0, -1.0])  # an easy positive and a hard one
    ratio = sigmoid_focal_loss(z, t, alpha=None, gamma=2.0, reduction="none") / F.binary_cross_entropy_with_logits(
        z, t, reduction="none"
    )
    assert ratio[0] < 0.001 < 0.5 < ratio[1]


@pytest.mark.parametrize(("reduction", "combine"), [("mean", torch.mean), ("sum", torch.sum)])
def test_sigmoid_focal_loss_reductions_combine_the_per_row_losses(reduction: str, combine) -> None:
    z, t = torch.tensor(LOGITS), torch.tensor(TARGETS)
    rows = sigmoid_focal_loss(z, t, reduction="none")
    assert rows.shape == z.shape
    assert torch.allclose(sigmoid_focal_loss(z, t, reduction=reduction), combine(rows))


def test_sigmoid_focal_loss_unknown_reduction_is_refused() -> None:
    with pytest.raises(ValueError, match=r"reduction must be one of \['mean', 'none', 'sum'\]; got 'avg'"):
        sigmoid_focal_loss(torch.zeros(2), torch.ones(2), reduction="avg")


@pytest.mark.parametrize("kwargs", [{"alpha": 1.5}, {"gamma": -1.0}])
def test_sigmoid_focal_loss_out_of_range_settings_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match="must be"):
        sigmoid_focal_loss(torch.zeros(2), torch.ones(2), **kwargs)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_loss_extreme_logits_give_finite_loss_and_gradient(gamma: float) -> None:
    z = torch.tensor([100.0, -100.0, 100.0, -100.0], requires_grad=True)
    t = torch.tensor([1.0, 0.0, 0.0, 1.0])  # two certain hits, two certain misses
    loss = sigmoid_focal_loss(z, t, gamma=gamma, reduction="none")
    loss.sum().backward()
    assert torch.isfinite(loss).all()
    assert torch.isfinite(z.grad).all()
    assert loss[2].item() == pytest.approx(0.75 * 100.0, rel=1e-3)  # a sure miss costs alpha_t * |z|


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_sigmoid_focal_loss_passes_gradcheck_in_float64(gamma: float) -> None:
    generator = torch.Generator().manual_seed(0)
    z = (torch.randn(12, generator=generator, dtype=torch.float64) * 4).requires_grad_()
    t = (torch.rand(12, generator=generator) < 0.3).double()
    assert torch.autograd.gradcheck(lambda x: sigmoid_focal_loss(x, t, alpha=0.25, gamma=gamma, reduction="none"), (z,))


def test_softmax_focal_loss_matches_direct_formula_with_per_class_alpha() -> None:
    logits = [[2.0, 0.5, -1.0], [0.0, 0.0, 3.0], [-2.0, 1.0, 0.3]]
    targets, alpha = [0, 2, 0], [0.2, 0.3, 0.5]
    loss = softmax_focal_loss(
        torch.tensor(logits, dtype=torch.float64), torch.tensor(targets), alpha=alpha, gamma=2.0, reduction="none"
    )
    expected = [_direct_softmax(z, t, alpha, 2.0) for z, t in zip(logits, targets)]
    assert loss.tolist() == pytest.approx(expected, rel=1e-12)


def test_softmax_focal_loss_gamma_zero_is_class_weighted_cross_entropy() -> None:
    generator = torch.Generator().manual_seed(1)
    logits, targets = torch.randn(10, 4, generator=generator), torch.randint(0, 4, (10,), generator=generator)
    weight = torch.tensor([0.1, 0.2, 0.3, 0.4])
    loss = softmax_focal_loss(logits, targets, alpha=weight, gamma=0.0, reduction="sum")
    assert torch.allclose(loss, F.cross_entropy(logits, targets, weight=weight, reduction="sum"))


def test_softmax_focal_loss_with_two_classes_equals_sigmoid_focal_loss() -> None:
    z = torch.tensor(LOGITS, dtype=torch.float64)
    two_class = torch.stack([torch.zeros_like(z), z], dim=1)
    binary = sigmoid_focal_loss(z, torch.tensor(TARGETS), alpha=0.25, gamma=2.0, reduction="none")
    softmax = softmax_focal_loss(two_class, torch.tensor(TARGETS), alpha=0.25, gamma=2.0, reduction="none")
    assert torch.allclose(softmax, binary)


def test_softmax_focal_loss_extreme_logits_give_finite_loss_and_gradient() -> None:
    logits = torch.tensor([[100.0, -100.0, 0.0], [100.0, -100.0, 0.0]], requires_grad=True)
    loss = softmax_focal_loss(logits, torch.tensor([0, 1]), alpha=[0.3, 0.3, 0.4], gamma=0.5)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()


def test_softmax_focal_loss_passes_gradcheck_in_float64() -> None:
    generator = torch.Generator().manual_seed(2)
    logits = (torch.randn(8, 3, generator=generator, dtype=torch.float64) * 3).requires_grad_()
    targets = torch.randint(0, 3, (8,), generator=generator)
    alpha = torch.tensor([0.2, 0.5, 0.3], dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda x: softmax_focal_loss(x, targets, alpha=alpha, gamma=1.5, reduction="none"), (logits,)
    )


@pytest.mark.parametrize(
    ("alpha", "match"), [(0.25, "scalar alpha needs exactly 2 classes"), ([0.5, 0.5], "must hold 3 non-negative")]
)
def test_softmax_focal_loss_alpha_that_does_not_fit_the_classes_is_refused(alpha, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        softmax_focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), alpha=alpha)


def test_pos_weight_from_labels_is_negatives_over_positives() -> None:
    y = np.array([0] * 95 + [1] * 5)
    assert float(pos_weight_from_labels(y)) == pytest.approx(19.0)


def test_pos_weight_from_labels_without_positives_is_refused() -> None:
    with pytest.raises(ValueError, match="0 ones"):
        pos_weight_from_labels([0, 0, 0])


def test_weighted_bce_with_logits_scales_positive_rows_only() -> None:
    z, t = torch.tensor(LOGITS), torch.tensor(TARGETS, dtype=torch.float32)
    plain = F.binary_cross_entropy_with_logits(z, t, reduction="none")
    weighted = weighted_bce_with_logits(z, t, pos_weight=pos_weight_from_labels([0, 0, 0, 1]), reduction="none")
    assert torch.allclose(weighted[t == 1], 3.0 * plain[t == 1])
    assert torch.allclose(weighted[t == 0], plain[t == 0])


def test_class_weights_from_labels_give_every_class_the_same_total_weight() -> None:
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    weights = class_weights_from_labels(y, 3)
    totals = weights * torch.tensor(np.bincount(y), dtype=torch.float32)
    assert torch.allclose(totals, totals[0].expand(3))
