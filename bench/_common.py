"""Shared plumbing of the benchmarks: child-process measurements, medians, tables, the machine, JSON results.

Every timed measurement runs in its own child process so that its peak memory is its own and so that a runaway
measurement can be killed at a time limit and reported as impractical instead of holding the whole benchmark
hostage.

Peak memory is the child's ``VmHWM`` (high-water RSS of its address space, /proc/<pid>/status), polled while it
runs; the last value read before it exits is its peak. Not ``ru_maxrss`` from ``wait4``: on Linux that one
starts from the *parent's* RSS at fork time (the high-water mark survives exec), so a child started by a parent
holding a few hundred MB of data would report that much even if it used nothing.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from bench import THREADS

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "bench" / "results"
LIBRARIES = ("scikit-learn", "imbalanced-learn", "numpy", "pandas", "pyarrow", "apache-airflow", "torch")


@dataclass(frozen=True)
class ChildRun:
    """One measured child process: wall seconds, peak RSS (MiB), exit status, its stdout and stderr."""

    seconds: float
    peak_rss_mb: float
    returncode: int | None
    timed_out: bool
    output: str
    errors: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out

    def tail(self, lines: int = 15) -> str:
        text = (self.output.strip() + "\n" + self.errors.strip()).strip()
        return "\n".join(text.splitlines()[-lines:])


def run_child(
    cmd: Sequence[str], *, timeout: float, env: dict[str, str] | None = None, cwd: Path | None = None
) -> ChildRun:
    """Run ``cmd`` to completion or until ``timeout`` seconds, then kill its whole process group.

    The wall time counts the process start (interpreter and imports): that is what a user waits for.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd or REPO, start_new_session=True)
        status, peak_kb, timed_out = _wait(proc.pid, start + timeout)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else None
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    return ChildRun(
        seconds=seconds,
        peak_rss_mb=peak_kb / 1024 if peak_kb else float("nan"),
        returncode=None if timed_out else proc.returncode,
        timed_out=timed_out,
        output=output,
        errors=errors,
    )


def _wait(pid: int, deadline: float) -> tuple[int | None, int, bool]:
    """Wait for ``pid`` (killing its process group at ``deadline``); returns (status, peak RSS in KiB, timed out)."""
    last_hwm: dict[int, int] = {}
    polls = 0
    while True:
        waited, status, _ = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            return status, max(last_hwm.values(), default=0), False
        if time.perf_counter() >= deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            _, status, _ = os.wait4(pid, 0)
            return status, max(last_hwm.values(), default=0), True
        for member in [pid, *(_descendants(pid) if polls % 25 == 0 else [p for p in last_hwm if p != pid])]:
            hwm = _hwm_kb(member)
            if hwm:  # the latest reading wins: before exec a child still shows its parent's address space
                last_hwm[member] = hwm
        polls += 1
        time.sleep(0.02)


def _hwm_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    try:
        import psutil

        return [c.pid for c in psutil.Process(pid).children(recursive=True)]
    except Exception:  # the process may be gone; psutil raises several types
        return []


RESULT_MARK = "BENCH-RESULT "


def emit_result(body: Any) -> None:
    """Print a child's result on one marked line (libraries may print their own lines to stdout too)."""
    print(RESULT_MARK + json.dumps(body, default=str), flush=True)


def read_result(child: ChildRun) -> Any:
    """The last marked result line of a finished child."""
    for line in reversed(child.output.splitlines()):
        if line.startswith(RESULT_MARK):
            return json.loads(line[len(RESULT_MARK) :])
    raise RuntimeError(f"child printed no result line; its output ends with:\n{child.tail()}")


def child_env(**extra: str) -> dict[str, str]:
    """This environment (threads already pinned by ``bench/__init__``) plus ``extra``, repo on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def python_child(module: str, *args: str) -> list[str]:
    """The command that runs ``python -m <module> args`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def machine() -> dict[str, Any]:
    """What the figures came from: CPU, cores, memory, load, library versions, commit, thread settings."""
    return {
        "cpu": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "memory_gib": round(_memory_bytes() / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libraries": {name: _version(name) for name in LIBRARIES},
        "commit": _git_commit(),
        "native_threads": THREADS,
        "load_average_at_start": [round(x, 2) for x in load_average()],
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return 0


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    except OSError:
        return None
    return out.stdout.strip() or None


def write_results(name: str, payload: dict[str, Any], *, path: Path | None = None) -> Path:
    """Write ``payload`` (plus the load average at the end) as JSON; returns the path written."""
    target = path or RESULTS_DIR / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    body = {**payload, "load_average_at_end": [round(x, 2) for x in load_average()]}
    target.write_text(json.dumps(body, indent=2, default=str) + "\n")
    return target


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None) -> str:
    """A plain-text table; the first column is left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))

    out = [title] if title else []
    out += [line(cells[0]), "  ".join("-" * w for w in widths), *(line(r) for r in cells[1:])]
    return "\n".join(out)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """The same table in Markdown, for pasting into docs/benchmarks.md."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def seconds_text(value: float | None) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"
