"""Finding pipeline configs at parse time: every ``*.yaml`` in the configs folder, in sorted order.

A broken config never stops the other pipelines from loading: :func:`discover` splits the folder into valid
configs and broken ones, the DAG factory file builds the valid ones, and ``retrain_config_errors.py`` turns the
broken ones into a single Airflow import error that names each file and every problem in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from imbalance_jobs.config import PipelineConfig, load_config
from imbalance_jobs.errors import ConfigError

__all__ = ["BrokenPipelineConfigs", "Discovery", "configs_dir", "dag_id_for", "discover", "raise_for_broken"]

CONFIGS_ENV = "IMBALANCE_CONFIGS_DIR"
DAG_ID_PREFIX = "retrain_"


def configs_dir() -> Path:
    """``$IMBALANCE_CONFIGS_DIR``, else ``configs/`` beside the dags folder (the repository layout)."""
    configured = os.environ.get(CONFIGS_ENV)
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "configs"


def dag_id_for(config: PipelineConfig) -> str:
    return f"{DAG_ID_PREFIX}{config.name}"


@dataclass(frozen=True)
class Discovery:
    """Valid configs (path, config) and broken ones (path, error), both in sorted path order."""

    valid: list[tuple[Path, PipelineConfig]] = field(default_factory=list)
    broken: list[tuple[Path, ConfigError]] = field(default_factory=list)


def discover(folder: Path | None = None) -> Discovery:
    """Load every config in ``folder``; a config whose name another file already uses is broken too."""
    folder = folder or configs_dir()
    found = Discovery()
    owners: dict[str, Path] = {}
    paths = sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])
    for path in paths:
        try:
            config = load_config(path)
        except ConfigError as exc:
            found.broken.append((path, exc))
            continue
        if config.name in owners:
            problem = f"name: '{config.name}' is already used by {owners[config.name]}; DAG ids must be unique"
            found.broken.append((path, ConfigError(str(path), [problem])))
            continue
        owners[config.name] = path
        found.valid.append((path, config))
    return found


class BrokenPipelineConfigs(Exception):
    """Raised at parse time so that Airflow lists the broken configs under "DAG Import Errors"."""

    def __init__(self, broken: list[tuple[Path, ConfigError]], folder: Path):
        self.broken = broken
        what = "config is broken; its DAG is" if len(broken) == 1 else "configs are broken; their DAGs are"
        lines = [f"{len(broken)} pipeline {what} not loaded, the other pipelines are ({folder}):"]
        for path, error in broken:
            lines.append(f"- {path.name} (DAG {_guess_dag_id(path)}):")
            lines.extend(f"    {problem}" for problem in error.problems)
        lines.append("Fix the file(s), or check them with: imbalance-jobs config validate " + str(folder / "*.yaml"))
        super().__init__("\n".join(lines))


def _guess_dag_id(path: Path) -> str:
    """The DAG id a broken file would have had: its ``name`` when still readable, else its file name."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    return f"{DAG_ID_PREFIX}{name if isinstance(name, str) and name else path.stem}"


def raise_for_broken(folder: Path | None = None) -> None:
    """Raise :class:`BrokenPipelineConfigs` when any config in the folder is broken."""
    folder = folder or configs_dir()
    broken = discover(folder).broken
    if broken:
        raise BrokenPipelineConfigs(broken, folder)
