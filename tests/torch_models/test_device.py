"""Device choice with and without CUDA, thread caps, and that a training session leaves torch as it found it."""

from __future__ import annotations

import logging

import pytest
import torch

from imbalance_jobs.errors import StrategyError
from imbalance_jobs.torch_models import allowed_threads, autocast, resolve_device
from imbalance_jobs.torch_models._device import threads_for, training_session

FALLBACK_LINE = "device 'cuda' requested but CUDA is not available; training on CPU"


@pytest.fixture
def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Behave like a CPU-only machine even where a GPU is present."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_resolve_device_cpu_is_cpu() -> None:
    assert resolve_device("cpu").type == "cpu"


@pytest.mark.usefixtures("no_cuda")
def test_resolve_device_cuda_without_cuda_falls_back_with_a_log_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="imbalance_jobs.torch_models"):
        device = resolve_device("cuda")
    assert device.type == "cpu"
    assert FALLBACK_LINE in caplog.messages


@pytest.mark.usefixtures("no_cuda")
def test_resolve_device_auto_without_cuda_is_cpu_silently(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="imbalance_jobs.torch_models"):
        assert resolve_device("auto").type == "cpu"
    assert caplog.messages == []


@pytest.mark.usefixtures("no_cuda")
@pytest.mark.parametrize("requested", ["cuda", "auto"])
def test_resolve_device_require_cuda_without_cuda_raises(requested: str) -> None:
    with pytest.raises(StrategyError, match=r"require_cuda=True: CUDA is not available on this machine"):
        resolve_device(requested, require_cuda=True)


def test_resolve_device_unknown_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"device must be one of \['auto', 'cpu', 'cuda'\]; got 'tpu'"):
        resolve_device("tpu")


def test_autocast_is_off_on_cpu() -> None:
    with autocast(torch.device("cpu"), True):
        assert not torch.is_autocast_enabled("cpu")


def test_allowed_threads_respects_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert allowed_threads() == 1


def test_allowed_threads_ignores_a_malformed_omp_num_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "lots")
    assert allowed_threads() >= 1


def test_training_session_restores_the_callers_rng_and_threads() -> None:
    state, threads = torch.get_rng_state(), torch.get_num_threads()
    with training_session(7, torch.device("cpu"), 1):
        torch.rand(5)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.get_num_threads() == threads


def test_training_session_same_seed_same_draws() -> None:
    with training_session(7, torch.device("cpu"), 1):
        first = torch.rand(5)
    with training_session(7, torch.device("cpu"), 1):
        second = torch.rand(5)
    assert torch.equal(first, second)


def test_threads_for_default_is_one_thread() -> None:
    assert threads_for() == 1


def test_threads_for_a_request_is_capped_by_the_allowed_cores() -> None:
    assert threads_for(10_000) == allowed_threads()
