"""Device choice, mixed precision, CPU threads and seeding for torch training.

A nightly job must not die because a GPU worker was swapped for a CPU one, unless its config says the GPU is
required; so ``device="cuda"`` on a machine without CUDA logs one warning and trains on CPU, while
``require_cuda=True`` turns that into a clear error. Global torch state (RNG, thread count, deterministic
mode) is changed only for the duration of a fit and restored afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

import torch

from imbalance_jobs.errors import StrategyError

__all__ = [
    "DEVICES",
    "allowed_threads",
    "autocast",
    "limit_threads",
    "resolve_device",
    "threads_for",
    "training_session",
]

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(requested: str = "auto", *, require_cuda: bool = False) -> torch.device:
    """The device to train on: ``auto`` and ``cuda`` use CUDA when present; otherwise CPU with a log line.

    Raises
    ------
    StrategyError
        When ``require_cuda`` is true and CUDA is not available.
    """
    if requested not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}; got {requested!r}")
    if requested == "cpu":
        return torch.device("cpu")
    if torch.cuda.is_available():
        return torch.device("cuda", torch.cuda.current_device())
    if require_cuda:
        raise StrategyError(
            f"device {requested!r} with require_cuda=True: CUDA is not available on this machine "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda or 'none'}); "
            "run on a GPU worker or set require_cuda=False to fall back to CPU"
        )
    if requested == "cuda":
        logger.warning("device 'cuda' requested but CUDA is not available; training on CPU")
    return torch.device("cpu")


def autocast(device: torch.device, enabled: bool) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA devices that support it; a no-op everywhere else (CPU always runs float32)."""
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    if not torch.cuda.is_bf16_supported():
        logger.info("amp=True but this GPU has no bf16 support; training in float32")
        return contextlib.nullcontext()
    return torch.autocast(device_type="cuda", dtype=torch.bfloat16)


def allowed_threads() -> int:
    """CPU threads torch may use: the cores this process may run on, capped by ``OMP_NUM_THREADS`` if set."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        cores = min(cores, int(env))
    return max(1, cores)


def threads_for(requested: int | None = None) -> int:
    """CPU threads for a fit or a prediction: ``requested`` capped by :func:`allowed_threads`; None means 1.

    One thread is the default because this MLP's per-batch ops are small: on a 2-core machine a second thread
    gave at most 1.2x more rows/s while the cores were otherwise idle, and made training 5-20x slower while
    other processes (parallel Airflow tasks, CV folds, other jobs) used them, because OpenMP threads spin and
    wait for each other on every op. Ask for more threads only on a machine the job has to itself.
    """
    if requested is None:
        return 1
    return max(1, min(int(requested), allowed_threads()))


@contextlib.contextmanager
def limit_threads(threads: int) -> Iterator[None]:
    """Run torch's CPU ops on at most ``threads`` threads, restoring the caller's setting afterwards."""
    previous = torch.get_num_threads()
    if threads != previous:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


@contextlib.contextmanager
def training_session(seed: int, device: torch.device, threads: int) -> Iterator[None]:
    """Seed torch and set its CPU threads for one fit (plus deterministic kernels on CUDA); restore after.

    The RNG is forked (``torch.random.fork_rng``) so seeding a model never changes the caller's random stream.
    The CPU kernels this MLP uses are deterministic for a fixed thread count already, and
    ``torch.use_deterministic_algorithms`` costs a multi-second import of torch's compiler stack on first use,
    so it is switched on only for CUDA (``warn_only``: an op without a deterministic kernel warns, not fails).
    """
    cuda_devices = [device.index if device.index is not None else 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices), _deterministic_cuda(bool(cuda_devices)), limit_threads(threads):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _deterministic_cuda(enabled: bool) -> Iterator[None]:
    if not enabled:
        yield
        return
    previous = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
