"""The trigger form's conf check: unknown keys, Param rules and cross-field rules fail the first task clearly."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from imbalance_dags.params import PARAM_NAMES, RunConfError, run_spec, trigger_params

from imbalance_jobs.config import PipelineConfig
from tests.conftest import BASE_CONFIG, merge

pytestmark = pytest.mark.airflow

DAY = dt.date(2026, 11, 27)
CONFIG = PipelineConfig.model_validate(
    merge(
        BASE_CONFIG, {"training": {"candidates": [{"name": "hgb"}, {"name": "logreg", "model": "logistic_regression"}]}}
    )
)


def spec(**conf: Any) -> dict[str, Any]:
    return run_spec(CONFIG, conf=conf, run_id="manual__2026-11-27T10:00:00+00:00", default_date=DAY, triggered_by="t")


def test_trigger_params_cover_every_conf_key_in_sections() -> None:
    params = trigger_params(CONFIG)
    assert tuple(params) == PARAM_NAMES
    assert all(p.schema.get("section") and p.description for p in params.values())


def test_trigger_params_defaults_validate_for_a_scheduled_run() -> None:
    for name, param in trigger_params(CONFIG).items():
        param.resolve()  # raises ParamValidationError if a default breaks its own schema
        assert name


def test_candidates_param_is_a_multi_select_of_config_names() -> None:
    schema = trigger_params(CONFIG)["candidates"].schema
    assert schema["examples"] == ["hgb", "logreg"]
    assert schema["items"]["enum"] == ["hgb", "logreg"]
    assert "array" in schema["type"]


def test_run_spec_defaults_to_the_run_day_and_config_options() -> None:
    out = spec()
    assert out["run_date"] == "2026-11-27"
    assert out["options"]["candidates"] is None
    assert out["options"]["dry_run"] is False
    assert out["run_prefix"].endswith("/runs/manual__2026-11-27T10_00_00_00_00/")


def test_run_spec_takes_overrides_from_conf() -> None:
    out = spec(data_date="2026-10-01", lookback_days=3, candidates=["logreg"], sample_fraction=0.25, dry_run=True)
    assert out["run_date"] == "2026-10-01"
    assert out["options"] | {"triggered_by": ""} == {
        "dry_run": True,
        "sample_fraction": 0.25,
        "candidates": ("logreg",),
        "lookback_days": 3,
        "force": None,
        "force_reason": None,
        "triggered_by": "",
    }


def test_run_spec_rejects_unknown_keys_and_suggests_the_spelling() -> None:
    with pytest.raises(RunConfError, match=r"unknown conf key\(s\) 'sample_frac' \(did you mean 'sample_fraction'\?\)"):
        spec(sample_frac=0.5)


def test_run_spec_rejects_force_without_reason() -> None:
    with pytest.raises(RunConfError, match="force: 'promote' needs force_reason"):
        spec(force="promote", force_reason="   ")


def test_run_spec_rejects_reason_without_force() -> None:
    with pytest.raises(RunConfError, match="force_reason: is only used together with force"):
        spec(force_reason="because")


def test_run_spec_keeps_a_forced_decision_with_its_reason() -> None:
    out = spec(force="reject", force_reason=" data incident INC-42 ")
    assert (out["options"]["force"], out["options"]["force_reason"]) == ("reject", "data incident INC-42")


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"candidates": ["nope"]}, r"candidates: 'nope' is not one of \['hgb', 'logreg'\]"),
        ({"candidates": []}, r"candidates: \[\] should be non-empty"),
        ({"sample_fraction": 0}, r"sample_fraction: 0 is less than or equal to the minimum of 0"),
        ({"sample_fraction": 1.5}, r"sample_fraction: 1.5 is greater than the maximum of 1"),
        ({"data_date": "27/11/2026"}, r"data_date: '27/11/2026' is not a 'date'"),
        ({"lookback_days": 0}, r"lookback_days: 0 is less than the minimum of 1"),
        ({"force": "maybe"}, r"force: 'maybe' is not one of"),
    ],
)
def test_run_spec_rejects_values_their_param_forbids(conf: dict[str, Any], message: str) -> None:
    with pytest.raises(RunConfError, match=message):
        spec(**conf)


def test_prepare_records_a_scheduled_run_as_airflow_scheduled() -> None:
    import enum
    from types import SimpleNamespace

    from imbalance_dags.tasks import prepare

    class RunType(enum.Enum):  # str() of a plain Enum member is "RunType.SCHEDULED", as the SDK's model gives
        SCHEDULED = "scheduled"

    when = dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC)
    dag_run = SimpleNamespace(conf={}, run_after=when, triggering_user_name=None, run_type=RunType.SCHEDULED)
    context = {"dag_run": dag_run, "logical_date": when, "run_id": "scheduled__2026-11-27T02:00:00+00:00"}
    assert prepare(CONFIG, context)["options"]["triggered_by"] == "airflow:scheduled"
