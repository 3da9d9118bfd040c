"""``load_config`` is the single entry point from YAML to a validated :class:`PipelineConfig`.

Every schema problem is reported at once, each as a key path with its YAML line, the rule and the value seen:
``configs/fraud.yaml > training > candidates[2] > imbalance (line 31): Input should be 'none', ... ; got 'smtoe'``.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from imbalance_jobs.config._schema import PipelineConfig
from imbalance_jobs.errors import ConfigError, format_key_path

__all__ = ["check_estimators", "config_hash", "load_config", "parse_config"]


def load_config(path: str | Path, *, build_estimators: bool = False) -> PipelineConfig:
    """Read and validate one pipeline YAML file.

    ``build_estimators`` also constructs every candidate's model and sampler, so unknown ``model_params`` or an
    invalid ``imbalance_params`` value is refused now, not hours later in training (imports scikit-learn, so the
    DAG factory leaves it off).

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or breaks the schema; lists every problem found.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason})"
        raise ConfigError(source, [f"cannot read file: {reason or exc}"]) from exc
    return parse_config(text, source=source, build_estimators=build_estimators)


def parse_config(text: str, *, source: str = "<config>", build_estimators: bool = False) -> PipelineConfig:
    """Validate YAML text; ``source`` names it in error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(source, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(data, dict):
        line = f" (line {node.start_mark.line + 1})" if node is not None else ""
        got = "an empty file" if data is None else type(data).__name__
        raise ConfigError(source, [f"(top level){line or ' (line 1)'}: must be a mapping of keys; got {got}"])
    duplicates = _duplicate_keys(node, [])
    if duplicates:  # YAML keeps the last silently; a typo'd override must not win unseen
        raise ConfigError(source, duplicates)
    try:
        config = PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, _merge_union_branches([_describe(err, node) for err in exc.errors()])) from exc
    if build_estimators:
        problems = [_place(path, message, node) for path, message in check_estimators(config)]
        if problems:
            raise ConfigError(source, problems)
    return config


def check_estimators(config: PipelineConfig) -> list[tuple[list[Any], str]]:
    """Construct each candidate's sampler and model exactly as training will; ``(key path, problem)`` for each
    candidate the estimators refuse (unknown parameter, value out of the estimator's own range)."""
    import numpy as np

    from imbalance_jobs.errors import StrategyError
    from imbalance_jobs.features import FeatureSpec
    from imbalance_jobs.models import MODELS
    from imbalance_jobs.resampling import build_strategy

    k = len(config.label.classes)
    y = np.repeat(np.arange(k), [50] + [10] * (k - 1))
    shapes = [("a", "b", "c"), ()], [("a", "b"), ("c",)], [(), ("c", "d")]
    problems = []
    for i, cand in enumerate(config.training.candidates):
        for numeric, categorical in shapes:  # some strategies need (or refuse) categorical columns: data, not config
            try:
                strategy = build_strategy(cand, FeatureSpec(numeric=numeric, categorical=categorical), y, seed=0)
                MODELS[cand.model].build(cand, seed=config.seed, strategy=strategy, categorical=[])
            except (TypeError, ValueError) as exc:  # a constructor that validates in __init__
                problem: tuple[list[Any], str] | None = (["model_params"], f"{cand.model} refuses: {exc}")
            except StrategyError as exc:
                match = _CANDIDATE_ERROR.match(str(exc))
                path = match["path"].split(" > ") if match else []
                problem = (path, match["rule"] if match else str(exc))
                if path[:1] not in (["model_params"], ["imbalance_params"]):
                    continue  # depends on the data's feature kinds; judged when training sees the data
            else:
                problem = None
            if problem is not None:
                problems.append((["training", "candidates", i, *problem[0]], problem[1]))
            break
    return problems


_CANDIDATE_ERROR = re.compile(r"^candidates '[^']*' > (?P<path>[\w]+(?: > [\w]+)*): (?P<rule>.*)$", re.S)


def _place(loc: list[Any], message: str, root: yaml.Node | None) -> str:
    line = _line_of(root, loc)
    return f"{format_key_path(loc)}{f' (line {line})' if line else ''}: {message}"


def _duplicate_keys(node: yaml.Node | None, loc: list[Any]) -> list[str]:
    """Every key given twice in one mapping, with both lines."""
    found: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            if name in first:
                path = format_key_path([*loc, name])
                found.append(
                    f"{path} (line {line}): duplicate key; first given at line {first[name]} "
                    f"(YAML would silently keep only the last); remove one"
                )
            first.setdefault(name, line)
            found += _duplicate_keys(value, [*loc, name])
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_keys(item, [*loc, i])
    return found


def config_hash(config: PipelineConfig) -> str:
    """A stable digest of the effective config (defaults included), recorded with every published model."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_BRANCH = re.compile(r"^(function-after\[.*|literal\[.*|int|str|float|bool|none|list\[.*\]|dict\[.*\])$")
"""Tags pydantic puts in an error location for the member of a union or a validator wrapper, not config keys."""


def _describe(err: dict[str, Any], root: yaml.Node | None) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and _BRANCH.match(p))]
    path = format_key_path(loc) or "(top level)"
    line = _line_of(root, loc) if loc else _line_named_in(root, err["msg"])
    where = f" (line {line})" if line else ""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{path}{where}: unknown key (check the spelling; allowed keys are in the config reference)"
    if err["type"] == "missing":
        return f"{path}{where}: required key is missing"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or (got is None and "input" not in err) else f"; got {got!r}"
    return f"{path}{where}: {msg}{shown}"


def _merge_union_branches(problems: list[str]) -> list[str]:
    """``label > positive: valid integer`` and ``label > positive: valid string`` (one per union member)
    become one problem: ``label > positive: Input should be a valid integer, or a valid string``."""
    out: list[str] = []
    for problem in problems:
        head, _, rule = problem.partition(": ")
        if out and out[-1].startswith(head + ": "):
            rule = rule.removeprefix("Input should be ")
            out[-1] = f"{out[-1]}, or {rule}"
        else:
            out.append(problem)
    return out


def _line_named_in(root: yaml.Node | None, message: str) -> int | None:
    """A cross-field problem has no location of its own: the line of the first key path its message names
    (``split.method``, ``validation.class_shares``), else of the first top-level key it mentions, else line 1."""
    if root is None:
        return None
    for dotted in re.findall(r"\b([a-z_]+(?:\.[a-z_]+)+)\b", message):
        line = _line_of(root, dotted.split("."))
        if line:
            return line
    if isinstance(root, yaml.MappingNode):
        for key, _ in root.value:
            if isinstance(key, yaml.ScalarNode) and re.search(rf"\b{re.escape(str(key.value))}\b", message):
                return key.start_mark.line + 1
    return root.start_mark.line + 1


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """The 1-based YAML line of the deepest node on ``loc`` that exists (a missing key: its parent's line)."""
    line = node.start_mark.line + 1 if node is not None and loc else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)]
            if not match:
                break
            key, node = match[0]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
