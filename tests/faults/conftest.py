"""Fault-injection suite fixtures: a private, killable S3 server and a tally of what was injected and survived.

Set ``IMBALANCE_FAULT_FIGURES=path.json`` to write the tally at the end of the session (docs/RELIABILITY.md
quotes it). The tally only counts; every test asserts its own outcome.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from imbalance_jobs.local_s3 import LocalS3Server
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

    @property
    def settings(self) -> StorageSettings:
        return self.server.settings

    def start(self) -> None:
        self.server.start(timeout=90)

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
