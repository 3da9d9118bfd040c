"""The trigger form of every retraining DAG, and the check that turns a run's conf into ``RunOptions``.

Airflow validates each Param against its JSON schema when a run is triggered from the UI or the REST API, but it
lets conf keys that match no Param through silently, and it cannot express rules across fields (a forced
decision needs a reason). :func:`check_conf` closes both gaps twice: in the api-server before a run exists (the
plugin's ``TriggerConfCheck`` middleware answers 400) and in the first task of every run (:func:`run_spec`), for
runs created without the api-server (``dag.test()``, the CLI).

It lives in ``plugins/`` because both the api-server (middleware) and the DAG files import it; the plugins folder
is on the path of every Airflow process, the dags folder only of the ones that parse DAGs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
from collections.abc import Mapping
from typing import Any

from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout, RunOptions

__all__ = ["PARAM_NAMES", "RunConfError", "check_conf", "run_spec", "trigger_params"]

DATA = "Data window"
CANDIDATES = "Candidates"
PUBLISHING = "Publishing"
PARAM_NAMES = ("data_date", "lookback_days", "sample_fraction", "candidates", "dry_run", "force", "force_reason")


class RunConfError(ValueError):
    """The conf of a triggered run is unusable; the message names the key, the rule and the value seen."""


def trigger_params(config: PipelineConfig) -> dict[str, Param]:
    """Params shown in the Airflow 3 trigger form, grouped in sections; every default is valid for a scheduled run."""
    names = [c.name for c in config.training.candidates]
    return {
        **_data_params(config),
        "candidates": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "enum": names},
            uniqueItems=True,
            minItems=1,
            examples=names,
            title="Candidates",
            description="Train only these candidates. Leave empty to train every candidate in the config.",
            section=CANDIDATES,
        ),
        **_publishing_params(),
    }


def _data_params(config: PipelineConfig) -> dict[str, Param]:
    return {
        "data_date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Data date",
            description="Newest partition day to read (YYYY-MM-DD). Empty: the day the run is for "
            "(its logical date, or the trigger time for a manual run).",
            section=DATA,
        ),
        "lookback_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            maximum=3660,
            title="Lookback days",
            description=f"Days of partitions to read, ending at the data date. Empty: the config's "
            f"{config.source.lookback_days}.",
            section=DATA,
        ),
        "sample_fraction": Param(
            1.0,
            type="number",
            exclusiveMinimum=0,
            maximum=1,
            title="Sample fraction",
            description="Stratified share of the rows to use, for a quick trial run. 1 uses every row.",
            section=DATA,
        ),
    }


def _publishing_params() -> dict[str, Param]:
    return {
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Run every stage but publishing: no version is written and the champion does not move.",
            section=PUBLISHING,
        ),
        "force": Param(
            None,
            type=["null", "string"],
            enum=[None, "promote", "reject"],
            values_display={"null": "no override: the gate decides", "promote": "promote", "reject": "reject"},
            title="Force decision",
            description="Override the promotion gate. Needs a reason; both are recorded in the verdict and history.",
            section=PUBLISHING,
        ),
        "force_reason": Param(
            None,
            type=["null", "string"],
            title="Reason for forcing",
            description="Required when 'Force decision' is set: who asked and why.",
            section=PUBLISHING,
        ),
    }


def run_spec(
    config: PipelineConfig,
    *,
    conf: Mapping[str, Any],
    run_id: str,
    default_date: dt.date,
    triggered_by: str,
) -> dict[str, Any]:
    """Check a run's conf and return the small JSON every later task rebuilds its ``RunContext`` from.

    Raises
    ------
    RunConfError
        On an unknown key, a value its Param rejects, or a combination that makes no sense.
    """
    values = check_conf(config, conf)
    options = _options(values, triggered_by)
    run_date = dt.date.fromisoformat(values["data_date"]) if values["data_date"] else default_date
    return {
        "pipeline": config.name,
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "run_prefix": PipelineLayout(config).run_prefix(run_id),
        "options": dataclasses.asdict(options),
    }


def check_conf(config: PipelineConfig, conf: Mapping[str, Any]) -> dict[str, Any]:
    """Every Param's value for this conf; :class:`RunConfError` on an unknown key, a bad value or combination."""
    values = _resolved(config, conf)
    if values["force"] and not (values["force_reason"] or "").strip():
        raise RunConfError(f"force: '{values['force']}' needs force_reason (who asked and why); got none")
    if values["force_reason"] and not values["force"]:
        raise RunConfError("force_reason: is only used together with force ('promote' or 'reject'); force is empty")
    _options(values, "check")
    return values


def _resolved(config: PipelineConfig, conf: Mapping[str, Any]) -> dict[str, Any]:
    """Every Param's value for this run, each validated against its schema; unknown keys are an error."""
    params = trigger_params(config)
    unknown = sorted(set(conf) - set(params))
    if unknown:
        hints = [
            f"'{k}' (did you mean '{m[0]}'?)" if (m := difflib.get_close_matches(k, params, 1)) else f"'{k}'"
            for k in unknown
        ]
        raise RunConfError(
            f"unknown conf key(s) {', '.join(hints)} for pipeline '{config.name}'; allowed keys: {', '.join(params)}"
        )
    values = {}
    for key, param in params.items():
        try:
            values[key] = param.resolve(conf[key]) if key in conf else param.resolve()
        except ParamValidationError as exc:
            detail = getattr(exc.args[0], "message", str(exc)) if exc.args else str(exc)
            raise RunConfError(f"{key}: {detail}; got {conf.get(key)!r}") from exc
    return values


def _options(values: dict[str, Any], triggered_by: str) -> RunOptions:
    try:
        return RunOptions(
            dry_run=bool(values["dry_run"]),
            sample_fraction=float(values["sample_fraction"]),
            candidates=tuple(values["candidates"]) if values["candidates"] else None,
            lookback_days=values["lookback_days"],
            force=values["force"],
            force_reason=(values["force_reason"] or "").strip() or None,
            triggered_by=triggered_by,
        )
    except ValueError as exc:
        raise RunConfError(str(exc)) from exc
