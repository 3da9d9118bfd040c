"""Crashed publishes and readers: orphan folders are swept and recorded, incomplete or tampered versions are
refused or flagged (issue 12 items 2 and 3). Version folders are built by hand on the real local S3 server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest

from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import PublishError
from imbalance_jobs.publishing import (
    COMPLETE,
    SWEEP_GRACE,
    incomplete_versions,
    require_complete,
    sweep_incomplete,
    verify_files,
)

pytestmark = pytest.mark.integration


def _folder(store, layout, version, *, run_id, complete: bool) -> dict:
    files = {"model.json": json.dumps({"run_id": run_id}).encode(), "metrics.json": b"{}"}
    for name, data in files.items():
        store.put_bytes(layout.version_uri(version, name), data)
    marker = {"version": version, "files": {n: hashlib.sha256(d).hexdigest() for n, d in files.items()}}
    if complete:
        store.put_json(layout.version_uri(version, COMPLETE), marker)
    return marker


def test_sweep_removes_this_runs_orphan_and_stale_ones_and_records_it(store, make_config) -> None:
    layout = PipelineLayout(make_config())
    _folder(store, layout, "v-done", run_id="r0", complete=True)
    _folder(store, layout, "v-mine", run_id="r1", complete=False)
    _folder(store, layout, "v-other-fresh", run_id="r2", complete=False)
    assert sorted(incomplete_versions(store, layout)) == ["v-mine", "v-other-fresh"]
    assert sweep_incomplete(store, layout, run_id="r1") == ["v-mine"]
    later = dt.datetime.now(dt.UTC) + SWEEP_GRACE + dt.timedelta(minutes=1)
    assert sweep_incomplete(store, layout, run_id="r3", now=later) == ["v-other-fresh"]
    assert list(incomplete_versions(store, layout)) == []
    assert store.exists(layout.version_uri("v-done", COMPLETE))
    records = [store.get_json(o.uri) for o in store.list(layout.root + "/sweeps/")]
    assert [r["removed"] for r in records] == [["v-mine"], ["v-other-fresh"]]


def test_sweep_leaves_the_version_being_retried(store, make_config) -> None:
    layout = PipelineLayout(make_config())
    _folder(store, layout, "v-retry", run_id="r1", complete=False)
    assert sweep_incomplete(store, layout, run_id="r1", keep="v-retry") == []
    assert "v-retry" in incomplete_versions(store, layout)


def test_require_complete_refuses_incomplete_and_unknown_versions(store, make_config) -> None:
    layout = PipelineLayout(make_config())
    _folder(store, layout, "v-half", run_id="r1", complete=False)
    with pytest.raises(PublishError, match=r"versions/v-half/: version v-half was never completely published"):
        require_complete(store, layout, "v-half")
    with pytest.raises(PublishError, match=r"version v-nope does not exist"):
        require_complete(store, layout, "v-nope")
    marker = _folder(store, layout, "v-ok", run_id="r1", complete=True)
    assert require_complete(store, layout, "v-ok") == marker


def test_verify_files_flags_changed_missing_and_extra_files(store, make_config) -> None:
    layout = PipelineLayout(make_config())
    marker = _folder(store, layout, "v1", run_id="r1", complete=True)
    assert verify_files(store, layout, marker) == []
    store.put_bytes(layout.version_uri("v1", "metrics.json"), b'{"ap": 0.99}')
    store.put_bytes(layout.version_uri("v1", "backdoor.py"), b"print(1)")
    store.delete_prefix(layout.version_uri("v1", "model.json"))
    assert verify_files(store, layout, marker) == [
        "model.json: missing",
        "backdoor.py: not part of the published version",
        "metrics.json: content changed since publishing",
    ]
