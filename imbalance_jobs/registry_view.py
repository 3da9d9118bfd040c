"""A read-only view of one pipeline's registry: champion, versions, history, monitoring, one version's files.

It is what the Airflow Models view (``plugins/imbalance_models_view.py``) shows, and it only calls the existing
readers (:mod:`imbalance_jobs.publishing`, :class:`~imbalance_jobs.context.PipelineLayout`,
:mod:`imbalance_jobs.monitoring`), so the object layout keeps one definition. Files are served by name from fixed
allow-lists and only for published versions or existing runs: a caller can never turn a request into an arbitrary
object key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.monitoring import MonitorRecord, previous_records
from imbalance_jobs.publishing import list_history, list_versions, read_champion
from imbalance_jobs.storage import ObjectStore

__all__ = [
    "RUN_FILES",
    "VERSION_FILES",
    "NotFound",
    "PipelineOverview",
    "RunOutcome",
    "VersionDetail",
    "pipeline_overview",
    "run_file",
    "run_outcome",
    "version_detail",
    "version_file",
]

# name shown in a URL -> (object name inside the version folder, content type)
VERSION_FILES: dict[str, tuple[str, str]] = {
    "pr_curve.png": ("pr_curve.png", "image/png"),
    "roc_curve.png": ("roc_curve.png", "image/png"),
    "calibration.png": ("calibration.png", "image/png"),
    "score_hist.png": ("score_hist.png", "image/png"),
    "validation_report.html": ("validation/report.html", "text/html; charset=utf-8"),
    "model_card.md": ("model_card.md", "text/markdown; charset=utf-8"),
}
RUN_FILES: dict[str, tuple[tuple[str, ...], str]] = {
    "validation_report.html": (("validation", "report.html"), "text/html; charset=utf-8"),
}
MONITORING_DAYS = 90


class NotFound(LookupError):
    """The pipeline has no such published version, run or file."""


@dataclass(frozen=True)
class PipelineOverview:
    """Everything the pipeline page shows; dicts are the stored records as they are (read fields with ``.get``)."""

    name: str
    champion: dict[str, Any] | None
    champion_metrics: dict[str, Any]
    champion_verdict: dict[str, Any]
    versions: list[dict[str, Any]]
    history: list[dict[str, Any]]
    monitoring: list[MonitorRecord]
    recall_floor: float | None = None


@dataclass(frozen=True)
class VersionDetail:
    version: str
    marker: dict[str, Any]
    verdict: dict[str, Any]
    metrics: dict[str, Any]
    model: dict[str, Any]
    model_card: str
    is_champion: bool
    files: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    verdict: dict[str, Any] | None
    rejection: dict[str, Any] | None
    has_validation_report: bool


def pipeline_overview(store: ObjectStore, config: PipelineConfig, *, today: dt.date | None = None) -> PipelineOverview:
    """The champion with its recorded figures, every version and pointer move (newest first), monitoring days."""
    layout = PipelineLayout(config)
    champion = read_champion(store, layout)
    metrics: dict[str, Any] = {}
    verdict: dict[str, Any] = {}
    if champion is not None:
        metrics = _optional_json(store, layout.version_uri(champion.version, "metrics.json"))
        verdict = _optional_json(store, layout.version_uri(champion.version, "verdict.json"))
    after = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    return PipelineOverview(
        name=config.name,
        champion=champion.record if champion else None,
        champion_metrics=metrics,
        champion_verdict=verdict,
        versions=list(reversed(list_versions(store, layout))),
        history=list(reversed(list_history(store, layout))),
        monitoring=previous_records(store, layout, after, MONITORING_DAYS),
        recall_floor=config.monitoring.recall_floor,
    )


def version_detail(store: ObjectStore, config: PipelineConfig, version: str) -> VersionDetail:
    """One published version's verdict, metrics, description and model card; :class:`NotFound` otherwise."""
    layout = PipelineLayout(config)
    marker = _published(store, layout, version)
    champion = read_champion(store, layout)
    card = store.get_bytes(layout.version_uri(version, "model_card.md")).decode("utf-8", errors="replace")
    present = set(marker.get("files") or {})
    return VersionDetail(
        version=version,
        marker=marker,
        verdict=_optional_json(store, layout.version_uri(version, "verdict.json")),
        metrics=_optional_json(store, layout.version_uri(version, "metrics.json")),
        model=_optional_json(store, layout.version_uri(version, "model.json")),
        model_card=card,
        is_champion=champion is not None and champion.version == version,
        files=[name for name, (key, _) in VERSION_FILES.items() if key in present],
    )


def version_file(store: ObjectStore, config: PipelineConfig, version: str, name: str) -> tuple[bytes, str]:
    """Bytes and content type of an allow-listed file of a published version."""
    if name not in VERSION_FILES:
        raise NotFound(f"{name!r} is not a file the view serves; one of {sorted(VERSION_FILES)}")
    layout = PipelineLayout(config)
    marker = _published(store, layout, version)
    key, kind = VERSION_FILES[name]
    if key not in (marker.get("files") or {}):
        raise NotFound(f"version {version} has no {key}")
    return store.get_bytes(layout.version_uri(version, key)), kind


def run_outcome(store: ObjectStore, config: PipelineConfig, run_id: str) -> RunOutcome:
    """What a run decided (its staged verdict and rejection record); :class:`NotFound` when the run wrote nothing."""
    layout = PipelineLayout(config)
    prefix = _run_prefix(layout, run_id)
    if not store.list(prefix):
        raise NotFound(f"{config.name} has no outputs for run {run_id!r}")
    return RunOutcome(
        run_id=run_id,
        verdict=_optional_json(store, layout.run_uri(run_id, "verdict.json")) or None,
        rejection=_optional_json(store, layout.run_uri(run_id, "rejection.json")) or None,
        has_validation_report=store.exists(layout.run_uri(run_id, "validation", "report.html")),
    )


def run_file(store: ObjectStore, config: PipelineConfig, run_id: str, name: str) -> tuple[bytes, str]:
    """Bytes and content type of an allow-listed staging file of a run."""
    if name not in RUN_FILES:
        raise NotFound(f"{name!r} is not a run file the view serves; one of {sorted(RUN_FILES)}")
    layout = PipelineLayout(config)
    _run_prefix(layout, run_id)
    parts, kind = RUN_FILES[name]
    uri = layout.run_uri(run_id, *parts)
    if not store.exists(uri):
        raise NotFound(f"run {run_id!r} of {config.name} has no {'/'.join(parts)}")
    return store.get_bytes(uri), kind


def _published(store: ObjectStore, layout: PipelineLayout, version: str) -> dict[str, Any]:
    """The completion marker of a published version; versions are looked up, never turned into keys blindly."""
    for marker in list_versions(store, layout):
        if marker.get("version") == version:
            return marker
    raise NotFound(f"{layout.config.name} has no published version {version!r}")


def _run_prefix(layout: PipelineLayout, run_id: str) -> str:
    try:
        return layout.run_prefix(run_id)
    except ValueError as exc:
        raise NotFound(f"{run_id!r} is not a run id") from exc


def _optional_json(store: ObjectStore, uri: str) -> dict[str, Any]:
    """A JSON object, or {} when the object does not exist (older versions may lack a file)."""
    if not store.exists(uri):
        return {}
    value = store.get_json(uri)
    return value if isinstance(value, dict) else {}
