"""The run context every stage receives, and the object layout of a pipeline in the store.

Layout (per pipeline, under ``s3://<artifacts.bucket>/<artifacts.prefix>/<pipeline>/``)::

    runs/<run_id>/...                 staging outputs of one run; a stage re-run overwrites its own files
    versions/<version>/...            immutable published versions
    champion.json                     pointer to the promoted version, moved only by a conditional write
    history/<ts>-<version>.json       one record per promotion / rollback
    monitoring/<day>.json             one champion-health record per monitored day
    alerts/<rule>.json                alert state per rule, for deduplication and recovery messages
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.storage import ObjectStore, join_uri

__all__ = ["PipelineLayout", "RunContext", "RunOptions", "safe_run_id"]


def safe_run_id(run_id: str) -> str:
    """Make an Airflow run id (``manual__2026-11-27T02:00:00+00:00``) safe as one path segment."""
    cleaned = re.sub(r"[^A-Za-z0-9._=-]+", "_", run_id).strip("_.")
    if not cleaned:
        raise ValueError(f"run id {run_id!r} has no usable characters")
    return cleaned


@dataclass(frozen=True)
class PipelineLayout:
    """Where everything of one pipeline lives in the object store."""

    config: PipelineConfig

    @property
    def root(self) -> str:
        art = self.config.artifacts
        return join_uri(f"s3://{art.bucket}", art.prefix, self.config.name)

    def run_prefix(self, run_id: str) -> str:
        return join_uri(self.root, "runs", safe_run_id(run_id)) + "/"

    def run_uri(self, run_id: str, *names: str) -> str:
        return join_uri(self.run_prefix(run_id), *names)

    def version_prefix(self, version: str) -> str:
        return join_uri(self.root, "versions", version) + "/"

    def version_uri(self, version: str, *names: str) -> str:
        return join_uri(self.version_prefix(version), *names)

    @property
    def versions_prefix(self) -> str:
        return join_uri(self.root, "versions") + "/"

    @property
    def champion_uri(self) -> str:
        return join_uri(self.root, "champion.json")

    @property
    def history_prefix(self) -> str:
        return join_uri(self.root, "history") + "/"

    @property
    def published_prefixes(self) -> tuple[str, str, str]:
        """Versions, champion pointer and history: what a run publishes and a failed run must leave unchanged."""
        return (self.versions_prefix, self.champion_uri, self.history_prefix)

    def monitoring_uri(self, day: dt.date) -> str:
        return join_uri(self.root, "monitoring", f"{day.isoformat()}.json")

    @property
    def monitoring_prefix(self) -> str:
        return join_uri(self.root, "monitoring") + "/"

    def alert_state_uri(self, rule: str) -> str:
        return join_uri(self.root, "alerts", f"{rule}.json")


@dataclass(frozen=True)
class RunOptions:
    """Per-run overrides, from CLI flags or the Airflow trigger form."""

    dry_run: bool = False
    sample_fraction: float = 1.0
    candidates: tuple[str, ...] | None = None
    lookback_days: int | None = None
    force: Literal["promote", "reject"] | None = None
    force_reason: str | None = None
    triggered_by: str = "cli"

    def __post_init__(self) -> None:
        if not 0.0 < self.sample_fraction <= 1.0:
            raise ValueError(f"sample_fraction must be in (0, 1]; got {self.sample_fraction}")
        if self.force and not (self.force_reason and self.force_reason.strip()):
            raise ValueError(f"force {self.force!r} needs a reason")
        if self.lookback_days is not None and self.lookback_days < 1:
            raise ValueError(f"lookback_days must be >= 1; got {self.lookback_days}")


@dataclass(frozen=True)
class RunContext:
    """Everything a stage needs besides the URIs of its inputs."""

    config: PipelineConfig
    run_id: str
    run_date: dt.date
    store: ObjectStore
    options: RunOptions = field(default_factory=RunOptions)

    @property
    def layout(self) -> PipelineLayout:
        return PipelineLayout(self.config)

    def staging_uri(self, *names: str) -> str:
        """A path under this run's staging prefix."""
        return self.layout.run_uri(self.run_id, *names)

    @property
    def lookback_days(self) -> int:
        return self.options.lookback_days or self.config.source.lookback_days
