"""``load_config`` is the single entry point from YAML to a validated :class:`PipelineConfig`.

Every schema problem is reported at once, each as a key path with its YAML line, the rule and the value seen:
``configs/fraud.yaml > training > candidates[2] > imbalance (line 31): Input should be 'none', ... ; got 'smtoe'``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from imbalance_jobs.config._schema import PipelineConfig
from imbalance_jobs.errors import ConfigError, format_key_path

__all__ = ["config_hash", "load_config", "parse_config"]


def load_config(path: str | Path) -> PipelineConfig:
    """Read and validate one pipeline YAML file.

    Raises
    ------
    ConfigError
        If the file is missing, is not YAML, or breaks the schema; lists every problem found.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(source, [f"cannot read file: {exc.strerror or exc}"]) from exc
    return parse_config(text, source=source)


def parse_config(text: str, *, source: str = "<config>") -> PipelineConfig:
    """Validate YAML text; ``source`` names it in error messages."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(source, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from exc
    if not isinstance(data, dict):
        raise ConfigError(source, [f"top level must be a mapping of keys; got {type(data).__name__}"])
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_describe(err, node) for err in exc.errors()]) from exc


def config_hash(config: PipelineConfig) -> str:
    """A stable digest of the effective config (defaults included), recorded with every published model."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _describe(err: dict[str, Any], root: yaml.Node | None) -> str:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-after", "literal")))]
    path = format_key_path(loc) or "(top level)"
    line = _line_of(root, loc)
    where = f" (line {line})" if line else ""
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{path}{where}: unknown key (check the spelling; allowed keys are in the config reference)"
    if err["type"] == "missing":
        return f"{path}{where}: required key is missing"
    got = err.get("input")
    shown = "" if isinstance(got, dict | list) or (got is None and "input" not in err) else f"; got {got!r}"
    return f"{path}{where}: {msg}{shown}"


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int | None:
    """The 1-based YAML line of the deepest node on ``loc`` that exists."""
    line = None
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
