"""Run every benchmark in turn (``make bench``); each prints its tables and writes JSON under bench/results/.

Each benchmark runs as its own process with the same pinned native threads (``BENCH_THREADS``, default 1; see
bench/__init__.py). Their printed output is also saved as bench/results/<name>.txt, and the run's wall time per
benchmark as bench/results/run_all.json.

    python -m bench.run_all                          # full size: about two hours on 2 cores
    python -m bench.run_all --quick                  # small sizes: checks that every script works (minutes)
    python -m bench.run_all --only quality,parse     # a subset
    python -m bench.run_all --wait-for-load 1.2      # first wait (up to --max-wait s) for a quiet machine
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench._common import RESULTS_DIR, child_env, load_average, machine, write_results

BENCHMARKS = {
    "quality": ("bench.bench_quality", []),
    "overhead": ("bench.bench_overhead", []),
    "parse": ("bench.bench_parse", []),
    "scaling": ("bench.bench_scaling", []),
    "mlp": ("bench.bench_mlp", ["--devices", "cpu,cuda", "--json", str(RESULTS_DIR / "mlp.json")]),
    "gate": ("bench.bench_gate", []),
    "sweep": ("bench.bench_sweep", []),
    "validation": ("bench.bench_validation", []),
    "negative_sample": ("bench.bench_negative_sample", []),
    "window": ("bench.bench_window", []),
    "hgb_preprocess": ("bench.bench_hgb_preprocess", []),
}
QUICK_MLP = ["--rows", "20000", "--epochs", "2"]


def wait_for_load(threshold: float, max_wait: float) -> float:
    """Sleep until the 1-minute load average is under ``threshold`` (or ``max_wait`` passes); returns the load."""
    deadline = time.monotonic() + max_wait
    while (load := load_average()[0]) >= threshold and time.monotonic() < deadline:
        print(f"load average {load:.2f} >= {threshold}; waiting", file=sys.stderr, flush=True)
        time.sleep(60)
    return load


def run_one(name: str, quick: bool) -> dict[str, object]:
    """Run one benchmark, echoing its output and saving it to bench/results/<name>.txt."""
    module, extra = BENCHMARKS[name]
    args = [*extra, *(QUICK_MLP if name == "mlp" and quick else ["--quick"] if quick else [])]
    print(f"\n=== {name}: python -m {module} {' '.join(args)} ===", flush=True)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with open(RESULTS_DIR / f"{name}.txt", "w") as saved:
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True, env=child_env()
        )
        for line in proc.stdout:
            sys.stdout.write(line)
            saved.write(line)
        code = proc.wait()
    seconds = time.perf_counter() - started
    print(f"=== {name}: exit {code} in {seconds / 60:.1f} min ===", flush=True)
    return {"exit": code, "seconds": round(seconds, 1), "load_average_after": [round(x, 2) for x in load_average()]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat: checks the scripts work")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {list(BENCHMARKS)}")
    parser.add_argument("--wait-for-load", type=float, default=None, metavar="LOAD")
    parser.add_argument("--max-wait", type=float, default=3600.0, help="seconds to wait for --wait-for-load")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"--only: unknown {unknown}; choose from {list(BENCHMARKS)}")
    if args.wait_for_load is not None:
        wait_for_load(args.wait_for_load, args.max_wait)
    env, started = machine(), time.perf_counter()
    runs = {name: run_one(name, args.quick) for name in names}
    total = time.perf_counter() - started
    write_results("run_all", {"machine": env, "quick": args.quick, "runs": runs, "total_seconds": round(total, 1)})
    print(
        f"\nall done in {total / 60:.1f} min: " + ", ".join(f"{n} {r['seconds'] / 60:.1f} min" for n, r in runs.items())
    )
    return 1 if any(r["exit"] for r in runs.values()) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
