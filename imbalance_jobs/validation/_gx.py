"""The only module that imports Great Expectations (5-9 s), and only inside its functions.

One ephemeral context per window (:class:`Session`): one suite of the row checks, one batch per partition slice,
because building a context and suite per partition costs ~0.2 s each. An in-memory store, progress bars off
(they flood task logs), GE's INFO chatter muted. GE 1.x results may hold numpy scalars, which both ``json`` and GE's own Data Docs renderer reject
(``num_to_str received an invalid value``), so results are converted to plain Python before anything reads them.
Data Docs: GE's S3 store backends are gone, so the validation result page is rendered in memory with the same
renderer + view the Data Docs site builder uses, and the caller uploads the HTML. The window's page holds one
result per expectation (row checks summed over the partitions, window checks on the window's counts) and a
"Partitions" section listing each source object, its rows and classes, and what failed in it.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from imbalance_jobs.validation._checks import Check

if TYPE_CHECKING:
    import pandas as pd


RawResult = tuple[bool, dict[str, Any], str | None]
"""One expectation's outcome in plain Python: success, GE's ``result`` dict, GE's error line (or None)."""


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


class Session:
    """One ephemeral GE context for a window, with a suite of its schema checks and one of its row checks.

    GE's cost per batch is mostly planning, about 10-40 ms per expectation whatever the rows, so the context and
    suites are built once, the schema checks run once (:meth:`schema`) and only the row checks run per batch
    (:meth:`rows`), a batch holding several small partitions; figures in docs/benchmarks.md.
    """

    def __init__(self, checks: Sequence[Check], severities: Sequence[str], *, name: str):
        gx = _quiet_import()
        self.version: str = gx.__version__
        self._context = _context(gx)
        self._datasource = self._context.data_sources.add_pandas("imbalance_jobs")
        asset = self._datasource.add_dataframe_asset(name)
        self._batches = asset.add_batch_definition_whole_dataframe("partition")
        self._suites = {}
        for scope in ("schema", "rows"):
            expectations = [_expectation(i, c, severities[i]) for i, c in enumerate(checks) if c.scope == scope]
            suite = gx.ExpectationSuite(name=f"{name}.validation.{scope}", expectations=expectations)
            self._suites[scope] = self._context.suites.add(suite)
        self.meta: dict[str, Any] = {}

    def schema(self, view: pd.DataFrame) -> dict[int, RawResult]:
        """Schema-check results (columns, dtypes) on ``view``, which may have no rows."""
        return self._run("schema", view)

    def rows(self, view: pd.DataFrame, *, complete: bool = False) -> dict[int, RawResult]:
        """Row-check results for one batch, keyed by the check's index in the plan.

        ``complete``: every unexpected value and its row index (GE's COMPLETE format, without the index query), so
        a batch holding several partitions can be cut by row; otherwise GE's SUMMARY.
        """
        fmt = {"result_format": "COMPLETE", "return_unexpected_index_query": False} if complete else "SUMMARY"
        return self._run("rows", view, fmt)

    def _release(self) -> None:
        """Drop GE's reference to the last batch's frame.

        The datasource keeps its execution engine, and the engine the last batch it loaded, until the next batch
        replaces it, so without this the previous batch would sit beside the next one at validate's peak.
        """
        manager = self._datasource.get_execution_engine().batch_manager
        manager.reset_batch_cache()
        manager.batch_data_cache.clear()

    def _run(
        self, scope: str, view: pd.DataFrame, result_format: str | dict[str, Any] = "SUMMARY"
    ) -> dict[int, RawResult]:
        if not self._suites[scope].expectations:
            return {}
        outcome = self._batches.get_batch(batch_parameters={"dataframe": view}).validate(
            self._suites[scope], result_format=result_format
        )
        self._release()
        self.meta = dict(outcome.meta)
        return {
            int(r.expectation_config.meta["index"]): (bool(r.success), denumpy(dict(r.result or {})), _error(r))
            for r in outcome.results
        }


def render_window(
    checks: Sequence[Check],
    severities: Sequence[str],
    results: Sequence[RawResult],
    partitions: Sequence[dict[str, str]],
    *,
    session: Session,
    name: str,
    source: str,
) -> str:
    """The Data Docs page of a whole window: one result per check plus a table of the partitions.

    ``partitions`` rows are column -> text (day, source object, rows, classes, failed checks).
    """
    from great_expectations.core import ExpectationSuiteValidationResult, ExpectationValidationResult
    from great_expectations.render import RenderedSectionContent, RenderedTableContent
    from great_expectations.render.renderer import ValidationResultsPageRenderer

    evrs = []
    for i, (check, severity, (success, raw, error)) in enumerate(zip(checks, severities, results, strict=True)):
        info = {"raised_exception": bool(error), "exception_message": error, "exception_traceback": None}
        evrs.append(
            ExpectationValidationResult(
                success=success,
                expectation_config=_expectation(i, check, severity).configuration,
                result=raw,
                exception_info=info,
            )
        )
    failed = sum(not r.success for r in evrs)
    statistics = {
        "evaluated_expectations": len(evrs),
        "successful_expectations": len(evrs) - failed,
        "unsuccessful_expectations": failed,
        "success_percent": 100.0 * (len(evrs) - failed) / len(evrs) if evrs else None,
    }
    outcome = ExpectationSuiteValidationResult(
        success=all(r.success or sev != "critical" for r, sev in zip(evrs, severities, strict=True)),
        results=evrs,
        suite_name=f"{name}.validation",
        statistics=statistics,
        meta=dict(session.meta),
    )
    _label_page(outcome, name=name, source=source)
    document = ValidationResultsPageRenderer().render(outcome)
    if partitions:
        header = list(partitions[0])
        table = RenderedTableContent(
            header={"content_block_type": "string_template", "string_template": {"template": "Partitions"}},
            subheader={
                "content_block_type": "string_template",
                "string_template": {"template": "Row checks ran on each source object's rows in turn"},
            },
            header_row=header,
            table=[[row[h] for h in header] for row in partitions],
            styling={"classes": ["col-12", "mt-2"], "body": {"classes": ["table", "table-sm"]}},
        )
        document.sections.append(RenderedSectionContent(section_name="Partitions", content_blocks=[table]))
    return offline_page(_page_view().render(document))
