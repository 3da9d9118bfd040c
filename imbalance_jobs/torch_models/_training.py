"""The training loop: AdamW, a learning-rate schedule, early stopping on validation average precision.

Average precision (not loss) is the early-stopping monitor because it is the metric candidates are selected and
gated on, and a focal or weighted loss can keep falling while the ranking of the rare class gets worse.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from sklearn.metrics import average_precision_score
from torch import nn
from torch.utils.data import DataLoader

from imbalance_jobs.errors import StrategyError
from imbalance_jobs.torch_models._data import TabularTensors
from imbalance_jobs.torch_models._device import autocast

__all__ = ["LR_SCHEDULES", "TrainResult", "TrainSettings", "predict_logits", "train_module"]

Criterion = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings taken from the estimator's parameters."""

    max_epochs: int
    patience: int
    learning_rate: float
    weight_decay: float
    lr_schedule: str
    device: torch.device
    amp: bool


@dataclass
class TrainResult:
    """What a fit learned besides the weights: the best epoch and one record per epoch."""

    best_epoch: int = 0
    history: list[dict[str, float | None]] = field(default_factory=list)


def _cosine(optimizer: torch.optim.Optimizer, settings: TrainSettings) -> torch.optim.lr_scheduler.LRScheduler:
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, settings.max_epochs))


def _plateau(optimizer: torch.optim.Optimizer, settings: TrainSettings) -> torch.optim.lr_scheduler.ReduceLROnPlateau:
    return torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="max", factor=0.5, patience=max(1, settings.patience // 2)
    )


LR_SCHEDULES: dict[str, Callable | None] = {"cosine": _cosine, "plateau": _plateau, "none": None}


def predict_logits(
    module: nn.Module, data: TabularTensors, device: torch.device, *, amp: bool, batch_size: int = 8192
) -> np.ndarray:
    """Positive-class logits as float64 numpy, computed in eval mode in batches."""
    module.eval()
    out = []
    with torch.inference_mode(), autocast(device, amp):
        for start in range(0, len(data), batch_size):
            chunk = data.rows(slice(start, start + batch_size)).to(device)
            out.append(module(chunk.numeric, chunk.codes).float().cpu())
    return torch.cat(out).double().numpy() if out else np.zeros(0)


def _train_epoch(
    module: nn.Module,
    loader: DataLoader,
    criterion: Criterion,
    optimizer: torch.optim.Optimizer,
    settings: TrainSettings,
) -> tuple[float, int]:
    module.train()
    total = torch.zeros((), device=settings.device)
    rows = 0
    non_blocking = settings.device.type == "cuda"
    for numeric, codes, target in loader:
        numeric, codes, target = (t.to(settings.device, non_blocking=non_blocking) for t in (numeric, codes, target))
        optimizer.zero_grad(set_to_none=True)
        with autocast(settings.device, settings.amp):
            logits = module(numeric, codes)
        loss = criterion(logits.float(), target)
        loss.backward()
        optimizer.step()
        total += loss.detach() * len(target)
        rows += len(target)
    return float(total) / max(rows, 1), rows


def _validation_ap(
    module: nn.Module, val: tuple[TabularTensors, np.ndarray] | None, settings: TrainSettings
) -> float | None:
    if val is None:
        return None
    return float(average_precision_score(val[1], predict_logits(module, val[0], settings.device, amp=settings.amp)))


def _snapshot(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def train_module(
    module: nn.Module,
    loader: DataLoader,
    criterion: Criterion,
    settings: TrainSettings,
    val: tuple[TabularTensors, np.ndarray] | None,
) -> TrainResult:
    """Train in place; with validation data, stop after ``patience`` epochs without a better AP and keep the best."""
    optimizer = torch.optim.AdamW(module.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    make_schedule = LR_SCHEDULES[settings.lr_schedule]
    scheduler = make_schedule(optimizer, settings) if make_schedule else None
    result, best_score, best_state, stale = TrainResult(), -math.inf, None, 0
    for epoch in range(1, settings.max_epochs + 1):
        started = time.perf_counter()
        loss, rows = _train_epoch(module, loader, criterion, optimizer, settings)
        train_seconds = time.perf_counter() - started
        if not math.isfinite(loss):
            raise StrategyError(
                f"TorchMLPClassifier: training loss became {loss} at epoch {epoch}; lower learning_rate "
                f"(now {settings.learning_rate}) or check the input scaling"
            )
        score = _validation_ap(module, val, settings)
        result.history.append(_record(epoch, loss, score, optimizer, rows, train_seconds))
        monitor = score if score is not None else -loss
        if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(monitor)
        elif scheduler is not None:
            scheduler.step()
        if val is None:
            result.best_epoch = epoch
        elif monitor > best_score:
            best_score, best_state, stale, result.best_epoch = monitor, _snapshot(module), 0, epoch
        else:
            stale += 1
            if stale >= settings.patience:
                break
    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    return result


def _record(
    epoch: int, loss: float, score: float | None, optimizer: torch.optim.Optimizer, rows: int, seconds: float
) -> dict[str, float | None]:
    return {
        "epoch": epoch,
        "train_loss": loss,
        "val_average_precision": score,
        "learning_rate": float(optimizer.param_groups[0]["lr"]),
        "train_rows": rows,
        "train_seconds": seconds,
        "rows_per_second": rows / seconds if seconds > 0 else None,
    }
