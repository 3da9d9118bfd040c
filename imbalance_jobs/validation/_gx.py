"""The only module that imports Great Expectations (5-9 s), and only inside its functions.

One ephemeral context per call, an in-memory store, progress bars off (they flood task logs), GE's INFO
chatter muted. GE 1.x results may hold numpy scalars, which both ``json`` and GE's own Data Docs renderer reject
(``num_to_str received an invalid value``), so results are converted to plain Python before anything reads them.
Data Docs: GE's S3 store backends are gone, so the validation result page is rendered in memory with the same
renderer + view the Data Docs site builder uses, and the caller uploads the HTML.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from imbalance_jobs.validation._checks import Check

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class SuiteRun:
    """Per-check GE results (plain Python, in plan order), the rendered HTML page and the GE version."""

    results: list[tuple[bool, dict[str, Any], str | None]]
    html: str
    gx_version: str


def denumpy(value: Any) -> Any:
    """numpy scalars -> Python scalars and ``pd.NA`` -> None, keeping containers' types.

    GE's renderers reject numpy floats (``num_to_str``) and crash on ``pd.NA`` (``value != ""`` is ambiguous),
    e.g. in the sampled values of a nullable label column.
    """
    import pandas as pd

    if isinstance(value, dict):
        return {k: denumpy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(denumpy(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return None if value is pd.NA else value


def to_json_value(value: Any) -> Any:
    """Any GE/pandas/numpy value -> strict JSON (NaN and NA -> null, timestamps -> ISO strings)."""
    import pandas as pd

    value = denumpy(value)
    if isinstance(value, dict):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _quiet_import() -> Any:
    # GE logs INFO lines about docs decorators and datasource configs at import and per run; task logs run at INFO.
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx

    return gx


def _context(gx: Any) -> Any:
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _expectation(index: int, check: Check, severity: str) -> Any:
    import great_expectations.expectations as gxe

    cls = getattr(gxe, "".join(part.title() for part in check.expectation.split("_")))
    notes = f"check `{check.group}` ({severity})"
    return cls(**check.kwargs, severity=severity, notes=notes, meta={"index": index, "check": check.group})


def _error(result: Any) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message") or "unknown error").splitlines()[0]
    return None


@functools.cache
def _page_view() -> Any:
    """One view per process: each new one compiles its Jinja templates again (~0.25 s)."""
    from great_expectations.render.view import DefaultJinjaPageView

    return DefaultJinjaPageView()


def render_html(validation_result: Any) -> str:
    """The Data Docs validation-result page for one suite run, as a standalone HTML string that renders offline."""
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    document = ValidationResultsPageRenderer().render(validation_result)
    return offline_page(_page_view().render(document))


_REMOTE_ASSET = re.compile(
    r'<link[^>]*href="https?://[^"]+\.css"[^>]*>|<script[^>]*src="https?://[^"]+"[^>]*>\s*</script>', re.I
)
_HOME_LINK = re.compile(r'href="(?:\.\./)*index\.html"')


@functools.cache
def _local_assets() -> str:
    """Bootstrap 4 and jQuery from their wheels, inline: the page needs no network and no other file."""
    from importlib.resources import files

    css = (files("xstatic.pkg.bootstrap") / "data/css/bootstrap.min.css").read_text()
    scripts = [
        (files("xstatic.pkg.jquery") / "data/jquery.min.js").read_text(),
        (files("xstatic.pkg.bootstrap") / "data/js/bootstrap.bundle.min.js").read_text(),
    ]
    return f"<style>{css}{_STATUS_ICONS}</style>" + "".join(f"<script>{js}</script>" for js in scripts)


_STATUS_ICONS = (  # the Font Awesome icons the result pages use, as characters (the icon font is not shipped)
    ".fas::before{font-style:normal;font-weight:bold}"
    '.fa-check-circle::before{content:"\\2714"}.fa-times::before{content:"\\2716"}'
    '.fa-exclamation-triangle::before{content:"\\26A0"}.fa-question-circle::before{content:"?"}'
    '.fa-comment::before{content:"\\1F5E8"}'
)


def offline_page(html: str) -> str:
    """Data Docs as one self-contained file: CDN styles and scripts replaced by inlined local copies.

    Great Expectations links Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs, so the page
    renders unstyled offline (and behind a strict proxy); its "Home" link points at a Data Docs site index that
    a single validation page does not have. Charts (Vega) and table filters are left out; the results tables,
    badges and layout remain.
    """
    stripped = _REMOTE_ASSET.sub("", html)
    stripped = _HOME_LINK.sub('href="#"', stripped)
    return stripped.replace("</head>", _local_assets() + "</head>", 1)


def _label_page(outcome: Any, *, name: str, source: str) -> None:
    """Give the Data Docs page a run name and the data's URI instead of ``__none__`` / ``None``."""
    from great_expectations.core.run_identifier import RunIdentifier

    outcome.meta["run_id"] = RunIdentifier(run_name=name)
    outcome.meta["batch_kwargs"] = {"data_asset_name": source}


def run_suite(
    view: pd.DataFrame, checks: Sequence[Check], severities: Sequence[str], *, name: str, source: str
) -> SuiteRun:
    """Validate ``view`` against one suite built from ``checks``; results come back in ``checks`` order."""
    gx = _quiet_import()
    context = _context(gx)
    asset = context.data_sources.add_pandas("imbalance_jobs").add_dataframe_asset(name)
    batch_definition = asset.add_batch_definition_whole_dataframe("staged_frame")
    expectations = [_expectation(i, c, s) for i, (c, s) in enumerate(zip(checks, severities, strict=True))]
    suite = context.suites.add(gx.ExpectationSuite(name=f"{name}.validation", expectations=expectations))
    batch = batch_definition.get_batch(batch_parameters={"dataframe": view})
    outcome = batch.validate(suite, result_format="SUMMARY")
    for result in outcome.results:
        result.result = denumpy(result.result)
    ordered = sorted(outcome.results, key=lambda r: r.expectation_config.meta["index"])
    # GE's suite status counts warning-severity failures too; the page should agree with the stage's verdict.
    outcome.success = all(r.success or sev != "critical" for r, sev in zip(ordered, severities, strict=True))
    _label_page(outcome, name=name, source=source)
    results = [(bool(r.success), dict(r.result or {}), _error(r)) for r in ordered]
    return SuiteRun(results=results, html=render_html(outcome), gx_version=gx.__version__)
