"""Config fuzzer: malformed configs generated from every example config in configs/*.yaml.

Each must be refused by ``imbalance-jobs config validate`` with exit 4, name the key path and a YAML line, and
never print a traceback. Mutations are invalid by construction (a wrong type, a removed required key, an
unknown key, a value outside its rule, a syntax or duplicate-key fault), so "accepted" is always a bug.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from imbalance_jobs.cli import main
from imbalance_jobs.errors import format_key_path
from tests.conftest import REPO

EXAMPLES = sorted((REPO / "configs").glob("*.yaml"))
FREE_FORM = ("model_params", "imbalance_params")  # values of any type; judged by the estimators (see SEMANTIC)


@dataclass(frozen=True)
class Mutant:
    name: str
    text: str
    path: tuple[Any, ...]  # where the fault is; () for whole-file faults


def _paths(node: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield at, node
    if isinstance(node, dict) and not (at and at[-1] in FREE_FORM):
        for key, value in node.items():
            yield from _paths(value, (*at, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*at, i))


def _set(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


_DELETE = object()
REQUIRED = [("name",), ("source",), ("artifacts",), ("label",), ("source", "bucket"), ("artifacts", "bucket"),
            ("label", "column"), ("training", "candidates", 0, "name")]  # fmt: skip
SEMANTIC: list[tuple[str, tuple[Any, ...], Any]] = [
    ("cron_out_of_range", ("schedule",), "61 25 * * *"),
    ("cron_prose", ("schedule",), "every night please"),
    ("cron_six_fields", ("schedule",), "0 0 2 * * *"),
    ("cron_zero_step", ("schedule",), "*/0 * * * *"),
    ("inf_cost", ("threshold", "fn_cost"), math.inf),
    ("nan_cost", ("threshold", "fp_cost"), math.nan),
    ("negative_cost", ("threshold", "fp_cost"), -1.0),
    ("absurd_run_timeout", ("airflow", "run_timeout_minutes"), 10**20),
    ("absurd_retry_delay", ("airflow", "retry_delay_minutes"), 1e20),
    ("absurd_alert_timeout", ("alerts", "timeout_seconds"), 1e20),
    ("artifacts_escape", ("artifacts", "prefix"), "../../etc"),
    ("artifacts_dot", ("artifacts", "prefix"), "a/./b"),
    ("source_escape", ("source", "prefix"), "../{date}/"),
    ("source_open_brace", ("source", "prefix"), "x/{date}/{"),
    ("source_close_brace", ("source", "prefix"), "x/dt={date}}/"),
    ("source_no_date", ("source", "prefix"), "x/static/"),
    ("source_unknown_placeholder", ("source", "prefix"), "x/{date}/{region}/"),
    ("range_reversed", ("validation", "value_ranges", "amount"), {"min": 5, "max": 1}),
    ("share_reversed", ("validation", "minority_share"), {"min": 0.4, "max": 0.1}),
    ("share_above_one", ("validation", "max_null_fraction"), 1.5),
    ("cv_folds_bool", ("training", "cv_folds"), True),
    ("cv_folds_one", ("training", "cv_folds"), 1),
    ("cv_folds_huge", ("training", "cv_folds"), 1000),
    ("lookback_zero", ("source", "lookback_days"), 0),
    ("seed_negative", ("seed",), -1),
    ("bucket_caps", ("source", "bucket"), "Labeled_Data"),
    ("name_caps", ("name",), "Fraud Model"),
    ("format_xlsx", ("source", "format"), "xlsx"),
    ("imbalance_typo", ("training", "candidates", 0, "imbalance"), "smtoe"),
    ("model_typo", ("training", "candidates", 0, "model"), "xgboost"),
    ("unknown_model_param", ("training", "candidates", 0, "model_params"), {"n_estimatorz": 3}),
    ("bad_model_param_value", ("training", "candidates", 0, "model_params"), {"max_iter": -5}),
    ("bad_sampling_strategy", ("training", "candidates", 0), {"name": "s", "imbalance": "smote",
                                                                 "imbalance_params": {"sampling_strategy": 7}}),
    ("duplicate_candidates", ("training", "candidates"), [{"name": "a"}, {"name": "a"}]),
    ("no_candidates", ("training", "candidates"), []),
    ("positive_not_a_class", ("label", "positive"), 7),
    ("one_class", ("label", "classes"), [1]),
    ("bootstrap_zero", ("evaluation", "bootstrap_samples"), 0),
    ("objective_typo", ("threshold", "objective"), "max_f2"),
]  # fmt: skip
TEXT_FAULTS = {
    "empty_file": lambda text: "",
    "top_level_list": lambda text: "- a\n- b\n",
    "top_level_scalar": lambda text: "just a sentence\n",
    "tab_indent": lambda text: text.replace("\n  ", "\n\t", 1),
    "unclosed_bracket": lambda text: text + "extra: [1, 2\n",
    "duplicate_top_key": lambda text: text + "seed: 7\n",
    "duplicate_nested_key": lambda text: text.replace("source:\n", "source:\n  format: csv\n", 1),
    "truncated": lambda text: text[: len(text) // 2] + '\n  "unterminated\n',
}


def _wrong_type(value: Any, *, labels: bool) -> list[Any]:
    if isinstance(value, bool):
        return ["maybe"]
    if isinstance(value, int | float):
        return [[value]] if labels else ["lots", [value]]  # a class may be named by any string
    if isinstance(value, str):
        return [{"text": value}, [value]]
    if isinstance(value, list):
        return [{"items": value}]
    if isinstance(value, dict):
        return [[value], 42]
    return []


def mutants() -> list[Mutant]:
    """Every malformed variant of every example config, deterministic and named."""
    out: list[Mutant] = []
    for example in EXAMPLES:
        text = example.read_text()
        data = yaml.safe_load(text)
        stem = example.stem

        def add(name: str, path: tuple[Any, ...], new: dict[str, Any] | str, stem: str = stem) -> None:
            body = new if isinstance(new, str) else yaml.safe_dump(new, sort_keys=False)
            if all(m.text != body for m in out):  # two faults that render the same file are one case
                out.append(Mutant(f"{stem}-{name}", body, path))

        for path in REQUIRED:
            add(f"missing-{format_key_path(path)}", path, _set(data, path, _DELETE))
        for path, node in _paths(data):
            if isinstance(node, dict) and (not path or path[-1] not in FREE_FORM):
                add(f"unknown-key-in-{format_key_path(path) or 'top'}", (*path, "colour"), _set_key(data, path))
            if path and path[-1] not in ("description",) and not any(p in FREE_FORM for p in path):
                for k, wrong in enumerate(_wrong_type(node, labels=path[0] == "label")):
                    add(f"type{k}-{format_key_path(path)}", path, _set(data, path, wrong))
        for name, path, value in SEMANTIC:
            add(name, path, _set(data, path, value))
        for name, fault in TEXT_FAULTS.items():
            add(name, (), fault(text))
    return out


def _set_key(data: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    node = out
    for part in path:
        node = node[part]
    node["colour"] = "red"
    return out


MUTANTS = mutants()


def test_fuzzer_generates_at_least_100_distinct_malformed_configs() -> None:
    assert len(EXAMPLES) >= 2
    assert len({m.name for m in MUTANTS}) == len(MUTANTS) >= 100
    assert len({m.text for m in MUTANTS}) == len(MUTANTS)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_config_validate_refuses_malformed(mutant: Mutant, tmp_path: Path, capsys, tally) -> None:
    path = tmp_path / "mutant.yaml"
    path.write_text(mutant.text)
    tally["configs_tried"] += 1
    code = main(["config", "validate", str(path)])
    captured = capsys.readouterr()
    tally["tracebacks"] += "Traceback" in captured.err
    assert "Traceback" not in captured.err
    assert code == 4, f"accepted or crashed ({code}): {captured.out}{captured.err}"
    assert "ok (" not in captured.out
    problems = [line for line in captured.err.splitlines() if line.startswith(f"  {path} > ")]
    assert problems, captured.err
    assert all(" (line " in p or "> line " in p for p in problems), captured.err
    if mutant.path:
        keys = [format_key_path(mutant.path[:n]) for n in range(len(mutant.path), 0, -1)]
        assert any(f"> {k} (line" in p or f"> {k}[" in p for p in problems for k in keys) or any(
            "(top level)" in p and str(mutant.path[0]) in p for p in problems
        ), captured.err
    tally["configs_refused"] += 1
