"""Shared CLI plumbing: exit codes, resolving a pipeline argument, the object store, the local server state."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from imbalance_jobs.config import PipelineConfig, load_config
from imbalance_jobs.errors import ConfigError, DataValidationError, ImbalanceJobsError
from imbalance_jobs.storage import ObjectStore, StorageSettings

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_BUG = 3
EXIT_CONFIG = 4
EXIT_VALIDATION = 5
EXIT_INTERRUPTED = 130


def exit_code_for(exc: ImbalanceJobsError) -> int:
    """Bad config, failed data validation and every other expected error exit differently."""
    if isinstance(exc, ConfigError):
        return EXIT_CONFIG
    if isinstance(exc, DataValidationError):
        return EXIT_VALIDATION
    return EXIT_ERROR


def local_dir() -> Path:
    """Where the demo keeps its local S3 server data and state (``.local`` unless IMBALANCE_LOCAL_DIR)."""
    return Path(os.environ.get("IMBALANCE_LOCAL_DIR", ".local"))


def configs_dir() -> Path:
    return Path(os.environ.get("IMBALANCE_CONFIGS_DIR", "configs"))


def resolve_config(target: str, *, build_estimators: bool = False) -> PipelineConfig:
    """A pipeline argument is a YAML path or the name of a config in the configs directory."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_config(path, build_estimators=build_estimators)
    candidate = configs_dir() / f"{target}.yaml"
    if candidate.exists():
        return load_config(candidate, build_estimators=build_estimators)
    known = sorted(p.stem for p in configs_dir().glob("*.yaml"))
    raise ConfigError(
        target, [f"no such config file, and no pipeline of that name in {configs_dir()}/ (known: {known})"]
    )


def local_server_state() -> dict[str, Any] | None:
    """The running local S3 server started by ``imbalance-jobs local-s3 start``, if its process is alive."""
    state_file = local_dir() / "s3" / "server.json"
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    try:
        os.kill(int(state["pid"]), 0)
    except (ProcessLookupError, ValueError, KeyError):
        return None
    return state


def resolve_store() -> ObjectStore:
    """Env settings win; else a running local demo server; else boto3's default chain (AWS)."""
    env = StorageSettings.from_env()
    if env.endpoint_url:
        return ObjectStore(env)
    state = local_server_state()
    if state:
        return ObjectStore(
            StorageSettings(
                endpoint_url=state["endpoint_url"],
                access_key_id=state["access_key_id"],
                secret_access_key=state["secret_access_key"],
            )
        )
    return ObjectStore(env)


def emit_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
