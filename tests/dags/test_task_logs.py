"""Task logs stay readable: loading skops inside an Airflow process floods no deprecation warnings.

skops names scipy's ufuncs on import by reading the name from every loaded module; in a task process that hits
Airflow's deprecated-module shims (one DeprecatedImportWarning each, ~1,160 log lines). ``model_io`` names the
ufuncs first. Each case runs in a fresh interpreter, because skops does this once per process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.airflow

SCRIPT = """
import json, sys, warnings
if {airflow}:
    import airflow.sdk, airflow.models  # what a task process has loaded
    import airflow.utils.timezone, airflow.utils.trigger_rule, airflow.serialization.serde  # deprecated shims
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    if {fixed}:
        from imbalance_jobs.model_io import _skops_io
        _skops_io()
    else:
        import skops.io
from skops.io._trusted_types import SCIPY_UFUNC_TYPE_NAMES
print(json.dumps({{"warnings": len(caught), "names": sorted(SCIPY_UFUNC_TYPE_NAMES)}}))
"""


def _run(*, airflow: bool, fixed: bool) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(airflow=airflow, fixed=fixed)], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def unfixed() -> dict:
    return _run(airflow=True, fixed=False)


def test_skops_import_in_an_airflow_process_warns_without_the_fix(unfixed: dict) -> None:
    assert unfixed["warnings"] > 100  # the flood this module guards against


def test_model_io_loads_skops_in_an_airflow_process_without_warnings(unfixed: dict) -> None:
    fixed = _run(airflow=True, fixed=True)
    assert fixed["warnings"] == 0
    assert fixed["names"] == unfixed["names"]  # the trusted scipy type names skops computes are unchanged
