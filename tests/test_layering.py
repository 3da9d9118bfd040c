"""imbalance_jobs never imports airflow, and its light modules stay light (the DAG factory imports config)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

BLOCK_AIRFLOW = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "airflow" or name.startswith("airflow."):
            raise ImportError(f"imbalance_jobs must not import {name}")
        return None
sys.meta_path.insert(0, Block())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)


def test_every_core_module_imports_with_airflow_blocked() -> None:
    result = _run(
        BLOCK_AIRFLOW
        + """
import importlib, pkgutil, imbalance_jobs
names = [m.name for m in pkgutil.walk_packages(imbalance_jobs.__path__, "imbalance_jobs.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) > 20


def test_config_import_pulls_no_heavy_library() -> None:
    result = _run(
        """
import sys
import imbalance_jobs.config
heavy = sorted(m for m in ("pandas", "sklearn", "imblearn", "torch", "great_expectations", "boto3", "pyarrow", "matplotlib") if m in sys.modules)
print(",".join(heavy))
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
