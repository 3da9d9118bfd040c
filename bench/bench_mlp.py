"""Benchmark TorchMLPClassifier: training rows/s per epoch, peak memory, fit time and test AP, per device.

Trains on make_classification data of a chosen size and positive rate (standardised, 20% stratified test split)
with early stopping off (``patience = epochs``) so every device runs the same number of epochs. CPU memory is
the process RSS sampled every 20 ms during the fit (psutil); CUDA memory is ``torch.cuda.max_memory_allocated``.
A device that is not present is skipped with a printed line.

    python -m bench.bench_mlp --rows 200000
    python -m bench.bench_mlp --rows 500000 --devices cpu,cuda --json bench-mlp.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import psutil
from sklearn.datasets import make_classification
from sklearn.metrics import average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class DeviceResult:
    """One device's figures."""

    device: str
    train_rows: int
    epochs: int
    rows_per_second_median: float
    fit_seconds: float
    peak_memory_mb: float
    memory_kind: str
    test_average_precision: float
    torch_threads: int


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_mlp", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows generated (train + 20%% test)")
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--devices", default="cpu,cuda", help="comma-separated: cpu, cuda")
    parser.add_argument("--positive-rate", type=float, default=0.05)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the model's default, 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.devices.split(",")) - {"cpu", "cuda"})
    if unknown:
        parser.error(f"--devices: unknown device(s) {unknown}; choose from cpu, cuda")
    if not 0 < args.positive_rate < 1:
        parser.error(f"--positive-rate must be in (0, 1); got {args.positive_rate}")
    return args


def make_data(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardised train/test split of an imbalanced make_classification set."""
    X, y = make_classification(
        n_samples=args.rows,
        n_features=args.features,
        n_informative=max(2, args.features // 2),
        weights=[1 - args.positive_rate, args.positive_rate],
        random_state=args.seed,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, random_state=args.seed)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


class RssSampler:
    """Peak resident set size of this process while the ``with`` block runs."""

    def __init__(self, interval: float = 0.02):
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._process = psutil.Process()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def run_device(device: str, data: tuple, args: argparse.Namespace) -> DeviceResult:
    """Fit and score on one device; the model is told to fail rather than fall back to CPU."""
    import torch

    from imbalance_jobs.torch_models import TorchMLPClassifier, threads_for

    X_train, X_test, y_train, y_test = data
    clf = TorchMLPClassifier(
        max_epochs=args.epochs,
        patience=args.epochs,
        batch_size=args.batch_size,
        device=device,
        require_cuda=device == "cuda",
        seed=args.seed,
        n_threads=args.threads,
    )
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    with RssSampler() as rss:
        started = time.perf_counter()
        clf.fit(X_train, y_train)
        fit_seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated() if device == "cuda" else rss.peak
    return DeviceResult(
        device=device,
        train_rows=int(clf.history_[0]["train_rows"]),
        epochs=len(clf.history_),
        rows_per_second_median=statistics.median(h["rows_per_second"] for h in clf.history_),
        fit_seconds=fit_seconds,
        peak_memory_mb=peak / 2**20,
        memory_kind="cuda max allocated" if device == "cuda" else "process RSS",
        test_average_precision=float(average_precision_score(y_test, clf.predict_proba(X_test)[:, 1])),
        torch_threads=threads_for(args.threads) if device == "cpu" else 0,
    )


def available(device: str) -> bool:
    if device == "cpu":
        return True
    import torch

    return torch.cuda.is_available()


def print_table(results: list[DeviceResult]) -> None:
    header = f"{'device':<7} {'train rows':>10} {'epochs':>6} {'rows/s (median)':>16} {'fit s':>7} {'peak MB':>9}  {'memory':<18} {'test AP':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.device:<7} {r.train_rows:>10,} {r.epochs:>6} {r.rows_per_second_median:>16,.0f} {r.fit_seconds:>7.1f} "
            f"{r.peak_memory_mb:>9,.0f}  {r.memory_kind:<18} {r.test_average_precision:>7.3f}"
        )


def environment() -> dict[str, object]:
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": psutil.cpu_count(logical=True),
        "cuda_device": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "machine": platform.machine(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"data: {args.rows:,} rows x {args.features} features, positive rate {args.positive_rate}, seed {args.seed}")
    data = make_data(args)
    results = []
    for device in args.devices.split(","):
        if not available(device):
            print(f"{device}: skipped (CUDA is not available on this machine)")
            continue
        results.append(run_device(device, data, args))
    print_table(results)
    if args.json:
        payload = {"args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}}
        payload |= {"environment": environment(), "results": [asdict(r) for r in results]}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
