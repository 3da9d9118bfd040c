"""Fault-injection suite fixtures: a private, killable S3 server and a tally of what was injected and survived.

Set ``IMBALANCE_FAULT_FIGURES=path.json`` to write the tally at the end of the session (docs/RELIABILITY.md
quotes it). The tally only counts; every test asserts its own outcome.
"""

from __future__ import annotations

import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import StorageError
from imbalance_jobs.local_s3 import LocalS3Server
from imbalance_jobs.publishing import list_history, list_versions, read_champion, verify_files
from imbalance_jobs.storage import ObjectStore, StorageSettings

TALLY: Counter[str] = Counter()
"""faults_injected, faults_survived, configs_refused, configs_tried, bad_inputs_tried, bad_inputs_refused,
tracebacks, objects_lost."""


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    target = os.environ.get("IMBALANCE_FAULT_FIGURES")
    if target and TALLY:
        Path(target).write_text(json.dumps(dict(sorted(TALLY.items())), indent=2) + "\n")


@pytest.fixture
def tally() -> Counter[str]:
    return TALLY


class KillableServer:
    """A SeaweedFS server of one module's own, killed with SIGKILL and restarted on the same port and data."""

    def __init__(self, data_dir: Path):
        self.server = LocalS3Server(data_dir)
        self._seeded = False

    @property
    def settings(self) -> StorageSettings:
        return self.server.settings

    SENTINEL = "s3://fault-sentinel/alive"

    def start(self) -> None:
        """Start (or restart on the same data) and wait until stored objects read back, not just until the
        gateway answers: after a crash SeaweedFS serves reads only once its volume has re-registered."""
        self.server.start(timeout=90)
        store = ObjectStore(self.settings)
        if not self._seeded:
            store.ensure_bucket("fault-sentinel")
            store.put_bytes(self.SENTINEL, b"1")
            self._seeded = True
        deadline = time.monotonic() + 60
        while True:
            try:
                store.get_bytes(self.SENTINEL)
                return
            except StorageError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.25)

    def kill(self) -> None:
        """SIGKILL at once: the crash we are simulating does not get a grace period."""
        if self.server.process is not None:
            self.server.process.kill()
            self.server.process.wait()
            self.server.process = None

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KillableServer]:
    server = KillableServer(tmp_path_factory.mktemp("seaweedfs-faults"))
    server.start()
    yield server
    server.server.stop()


@pytest.fixture
def own_store(own_server: KillableServer) -> ObjectStore:
    if own_server.server.process is None:
        own_server.start()
    return ObjectStore(own_server.settings)


def published_state(store: ObjectStore, layout: PipelineLayout) -> dict[str, dict]:
    """Every completely published version's marker, by version."""
    return {m["version"]: m for m in list_versions(store, layout)}


def assert_store_consistent(
    store: ObjectStore, layout: PipelineLayout, before: dict[str, dict], tally: Counter[str]
) -> None:
    """After a fault: no published version changed or vanished, the champion points at a complete version,
    and the history is one unbroken chain ending at the champion."""
    after = published_state(store, layout)
    lost = [v for v in before if v not in after]
    tally["objects_lost"] += len(lost)
    assert not lost, f"published versions lost: {lost}"
    for version, marker in before.items():
        assert after[version] == marker
        assert verify_files(store, layout, marker) == [], version
    champion = read_champion(store, layout)
    history = list_history(store, layout)
    if champion is None:
        assert history == []
        return
    assert champion.version in after
    assert history, "a champion without history"
    assert history[-1]["version"] == champion.version
    for prev, rec in itertools.pairwise(history):
        assert rec["previous"] == prev["version"]
    assert all(rec["version"] in after for rec in history)
