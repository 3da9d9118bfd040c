"""HTML of the Models view: Jinja2 templates (autoescaped) over :mod:`imbalance_jobs.registry_view` records.

Server-rendered pages with no JavaScript: they load inside the Airflow UI's iframe (nav "Models", a DAG's "Models"
tab, a run's "Run outcome" tab) and as plain pages from the extra links. Stored records are read with ``.get`` so
that records written by older or newer versions of the product still render.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jinja2 import Environment
from markdown_it import MarkdownIt
from markupsafe import Markup

from imbalance_jobs.monitoring import MonitorRecord

__all__ = ["render"]

_MARKDOWN = MarkdownIt("js-default")  # tables on, raw HTML off: a model card cannot inject markup

_BASE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Models</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a202c;background:#f7fafc}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
nav.crumbs{font-size:13px;color:#4a5568;margin-bottom:8px} a{color:#0b5cad} h1{font-size:22px;margin:4px 0 12px}
h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e2e8f0;padding:5px 8px;text-align:left;vertical-align:top} th{background:#edf2f7}
.card{background:#fff;border:1px solid #cbd5e0;border-radius:8px;padding:12px 16px;margin:8px 0}
.big{font-size:18px;font-weight:600} .muted{color:#718096} .mono{font-family:ui-monospace,monospace;font-size:12px}
.tag{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600}
.promote,.ok,.pass{background:#c6f6d5;color:#22543d} .reject,.breach,.fail{background:#fed7d7;color:#822727}
.insufficient_evidence,.no_data,.no_champion,.na,.disabled{background:#fefcbf;color:#744210}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.plots img{width:100%;background:#fff;border:1px solid #e2e8f0} .card table{margin-top:6px}
</style></head><body><main>
<nav class="crumbs"><a href="{{ root }}/">Models</a>{% for label, href in crumbs %} / <a href="{{ href }}">{{ label }}</a>{% endfor %}</nav>
{{ body }}
</main></body></html>"""

_INDEX = """<h1>Models</h1>
<p class="muted">The champion each retraining pipeline serves, and why. Read-only; data from the object store.</p>
{% if not rows %}<p>No pipeline you may read is configured.</p>{% else %}
<table><tr><th>pipeline</th><th>champion</th><th>AP (test)</th><th>recall @ threshold</th><th>promoted</th>
<th>why</th><th>latest monitoring</th><th>DAG</th></tr>
{% for r in rows %}<tr><td><a href="{{ root }}/pipelines/{{ r.name }}">{{ r.name }}</a></td>
<td class="mono">{{ r.version or "none yet" }}</td><td>{{ r.ap }}</td><td>{{ r.recall }}</td><td>{{ r.at }}</td>
<td>{{ r.reason }}</td><td>{% if r.status %}<span class="tag {{ r.status }}" title="{{ status_text.get(r.status, '') }}">{{ r.status }}</span>
 {{ r.day }}<div class="muted">{{ status_text.get(r.status, '') }}</div>{% endif %}</td>
<td><a href="{{ airflow }}/dags/{{ r.dag_id }}" target="_top">{{ r.dag_id }}</a></td></tr>{% endfor %}</table>{% endif %}"""

_PIPELINE = """<h1>{{ o.name }}</h1>
<div class="card" id="champion">{% if c %}
<div class="big">Serving <span class="mono">{{ c.version }}</span>
 <span class="tag {{ v.get('decision', 'na') }}">{{ c.get('action', 'promote') }}d</span></div>
<div>{{ c.get('action', 'promote') }}d {{ when(c.get('at')) }} by {{ c.get('actor') or 'unknown' }}{% if c.get('run_id') %} in run
 <a href="{{ root }}/pipelines/{{ o.name }}/runs/{{ c.run_id }}">{{ c.run_id }}</a>{% endif %}
 — because: <b>{{ c.get('reason') or 'no reason recorded' }}</b></div>
<table><tr><th>AP on test rows</th><th>recall at threshold</th><th>precision</th><th>threshold</th><th>test positives</th><th>gain vs previous champion</th></tr>
<tr><td>{{ ap }}</td><td>{{ recall_text(m) }}</td><td>{{ num(m.get('precision')) }}</td><td>{{ num(m.get('threshold')) }}</td>
<td>{{ m.get('positives', 'n/a') }}</td><td>{{ gain }}</td></tr></table>
<p><a href="{{ root }}/pipelines/{{ o.name }}/versions/{{ c.version }}">Model card, plots, verdict and validation report →</a></p>
{% if v.get('summary') %}<p class="mono">{{ v.summary }}</p>{% endif %}
{% else %}<div class="big">No champion yet</div><p>No run of this pipeline has been promoted.</p>{% endif %}</div>

<h2>Monitoring: minority recall of the champion on fresh data</h2>
{% if trend_svg %}{{ trend_svg }}{% endif %}
{% if o.monitoring %}<table><tr><th>day</th><th>status</th><th>champion</th><th>recall [CI]</th><th>positives</th><th>note</th></tr>
{% for r in o.monitoring %}<tr><td>{{ r.day }}</td><td><span class="tag {{ r.status }}" title="{{ status_text.get(r.status, '') }}">{{ r.status }}</span></td>
<td class="mono">{{ r.champion_version or '' }}</td><td>{{ recall_ci(r) }}</td><td>{{ r.figures.positives if r.figures else '' }}</td>
<td>{{ r.note }}</td></tr>{% endfor %}</table>{% else %}<p class="muted">No monitoring records yet.</p>{% endif %}

<h2>Versions</h2>{% if o.versions %}
<table><tr><th>version</th><th>created</th><th>candidate</th><th>decision</th><th>AP</th><th>run</th></tr>
{% for x in o.versions %}<tr><td class="mono"><a href="{{ root }}/pipelines/{{ o.name }}/versions/{{ x.version }}">{{ x.version }}</a>
{% if c and x.version == c.version %} <span class="tag ok">champion</span>{% endif %}</td><td>{{ when(x.get('created_at')) }}</td>
<td>{{ x.get('candidate') }}</td><td>{{ x.get('decision') }}{% if x.get('forced') %} (forced){% endif %}</td>
<td>{{ num(x.get('average_precision')) }}</td><td class="mono">{{ x.get('run_id') }}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No published versions.</p>{% endif %}

<h2>Promotion and rollback history</h2>{% if o.history %}
<table><tr><th>when</th><th>action</th><th>from</th><th>to</th><th>by</th><th>why</th></tr>
{% for h in o.history %}<tr><td>{{ when(h.get('at')) }}</td><td>{{ h.get('action') }}</td><td class="mono">{{ h.get('previous') or '—' }}</td>
<td class="mono">{{ h.get('version') }}</td><td>{{ h.get('actor') }}</td><td>{{ h.get('reason') }}</td></tr>{% endfor %}</table>
{% else %}<p class="muted">No promotions yet.</p>{% endif %}"""

_VERSION = """<h1>{{ o.name }} · <span class="mono">{{ d.version }}</span>
{% if d.is_champion %}<span class="tag ok">champion</span>{% endif %}</h1>
{{ verdict_html }}
<h2>Plots (test rows)</h2><div class="plots">{% for f in plots %}<figure><img alt="{{ f }}"
 src="{{ root }}/pipelines/{{ o.name }}/versions/{{ d.version }}/files/{{ f }}"><figcaption>{{ f }}</figcaption></figure>{% endfor %}</div>
{% if 'validation_report.html' in d.files %}<p><a href="{{ root }}/pipelines/{{ o.name }}/versions/{{ d.version }}/files/validation_report.html">
Validation report of the training data →</a></p>{% endif %}
<h2>Model card</h2><div class="card">{{ card }}</div>"""

_VERDICT = """<div class="card" id="verdict"><div class="big"><span class="tag {{ v.get('decision', 'na') }}">{{ v.get('decision', 'unknown') }}</span>
{% if v.get('forced') %}(forced: {{ v.get('force_reason') }}){% endif %}</div>
<p class="mono">{{ v.get('summary', '') }}</p>
{% if v.get('reasons') %}<p>Reasons:</p><ul>{% for r in v.reasons %}<li>{{ r }}</li>{% endfor %}</ul>{% endif %}
{% if v.get('rules') %}<table><tr><th>rule</th><th>what</th><th>observed</th><th>threshold</th><th>result</th></tr>
{% for r in v.rules %}<tr><td>{{ r.get('name') }}</td><td>{{ r.get('description') }}</td><td>{{ num(r.get('observed')) }}</td>
<td>{{ num(r.get('threshold')) }}</td><td>{% if r.get('passed') is none %}<span class="tag na">not judged</span>{% elif r.get('passed') %}
<span class="tag pass">pass</span>{% else %}<span class="tag fail">fail</span>{% endif %}</td></tr>{% endfor %}</table>{% endif %}
{% if extra %}<table>{% for k, val in extra %}<tr><th>{{ k }}</th><td class="mono">{{ val }}</td></tr>{% endfor %}</table>{% endif %}
</div>"""

_RUN = """<h1>{{ o.name }} · run <span class="mono">{{ r.run_id }}</span></h1>
{% if r.verdict %}{{ verdict_html }}{% else %}<p>This run wrote no verdict (it stopped before <code>evaluate</code>).</p>{% endif %}
{% if r.rejection %}<p>Outcome: {{ r.rejection.get('note') }}</p>{% endif %}
{% if version %}<p>Published as <a href="{{ root }}/pipelines/{{ o.name }}/versions/{{ version }}">{{ version }}</a>.</p>{% endif %}
{% if r.has_validation_report %}<p><a id="validation-report" href="{{ root }}/pipelines/{{ o.name }}/runs/{{ r.run_id }}/files/validation_report.html">
Validation report of this run's data →</a></p>{% endif %}"""

_MESSAGE = """<h1>{{ heading }}</h1><p>{{ text }}</p>"""

STATUS_TEXT = {
    "ok": "recall within its limits",
    "breach": "recall below its floor or dropped since promotion",
    "insufficient_evidence": "too few positives that day to judge recall",
    "no_champion": "no champion yet that day (monitoring runs before promotion)",
    "no_data": "no data for that day",
    "disabled": "monitoring is off for this pipeline",
}
_VERDICT_KEYS = ("run_id", "run_date", "created_at", "triggered_by", "dry_run", "test_rows", "split", "rows")


def num(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def when(value: Any) -> str:
    """ISO timestamps as ``2026-11-27 02:03 UTC``; anything else as it is."""
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    return stamp.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ci(low: Any, high: Any) -> str:
    return f" [{num(low)}, {num(high)}]" if low is not None and high is not None else ""


def ap_text(metrics: dict[str, Any]) -> str:
    """The candidate AP with its bootstrap CI: its own interval when stored, else the paired bootstrap's."""
    cand = metrics.get("candidate") or {}
    ci = cand.get("average_precision_ci") or (metrics.get("ap_gain") or {}).get("b_ci") or {}
    return num(cand.get("average_precision")) + _ci(ci.get("low"), ci.get("high"))


def recall_text(candidate: dict[str, Any]) -> str:
    ci = candidate.get("recall_ci") or {}
    return num(candidate.get("recall")) + _ci(ci.get("low"), ci.get("high"))


def gain_text(metrics: dict[str, Any]) -> str:
    gain = metrics.get("ap_gain") or {}
    if not gain:
        return "first champion (nothing to compare)"
    return f"{num(gain.get('delta'))}{_ci(gain.get('ci_low'), gain.get('ci_high'))}"


def recall_ci(record: MonitorRecord) -> str:
    if record.figures is None:
        return ""
    rec = record.figures.recall
    return num(rec.point) + _ci(rec.low, rec.high)


def trend_svg(records: list[MonitorRecord], floor: float | None) -> Markup:
    """Daily recall with its CI as an inline SVG, oldest left, with the floor as a dashed red line."""
    points = [r for r in reversed(records) if r.figures is not None and r.figures.recall.point is not None]
    if not points:
        return Markup("")
    width, height, pad = 640, 180, 30
    step = (width - 2 * pad) / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return height - pad - value * (height - 2 * pad)

    parts = [f'<svg id="trend" width="{width}" height="{height}" role="img" aria-label="recall trend">']
    parts.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#fff" stroke="#e2e8f0"/>')
    for tick in (0.0, 0.5, 1.0):
        parts.append(f'<text x="4" y="{y(tick) + 4:.0f}" font-size="10" fill="#718096">{tick:.1f}</text>')
    if floor:
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y(floor):.1f}" y2="{y(floor):.1f}" stroke="#c53030"')
        parts.append(f' stroke-dasharray="4 3"/><text x="{width - pad - 60}" y="{y(floor) - 4:.0f}" font-size="10"')
        parts.append(f' fill="#c53030">floor {floor:.2f}</text>')
    coords = []
    for i, rec in enumerate(points):
        x, ci = pad + i * step, rec.figures.recall  # type: ignore[union-attr]
        if ci.low is not None and ci.high is not None:
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y(ci.low):.1f}" y2="{y(ci.high):.1f}" stroke="#90cdf4"')
            parts.append(' stroke-width="6"/>')
        coords.append(f"{x:.1f},{y(ci.point):.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y(ci.point):.1f}" r="3" fill="#2b6cb0"><title>{rec.day}: ')
        parts.append(f"{ci.point:.3f}</title></circle>")
        parts.append(f'<text x="{x - 14:.1f}" y="{height - 8}" font-size="9" fill="#718096">{rec.day:%m-%d}</text>')
    parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="#2b6cb0"/></svg>')
    return Markup("".join(parts))


def _shown(value: Any) -> str:
    import json

    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else num(value)


def verdict_html(verdict: dict[str, Any]) -> Markup:
    extra = [(k, _shown(verdict[k])) for k in _VERDICT_KEYS if verdict.get(k) not in (None, "", {}, [])]
    return Markup(_ENV.from_string(_VERDICT).render(v=verdict, extra=extra, num=num))


_ENV = Environment(autoescape=True)
_ENV.globals.update(num=num, when=when, recall_ci=recall_ci, recall_text=recall_text, status_text=STATUS_TEXT)
_PAGES = {"index": _INDEX, "pipeline": _PIPELINE, "version": _VERSION, "run": _RUN, "message": _MESSAGE}


def render(page: str, *, title: str, root: str, crumbs: list[tuple[str, str]] | None = None, **values: Any) -> str:
    """One full page: the named body template inside the common layout."""
    body = Markup(_ENV.from_string(_PAGES[page]).render(root=root, **values))
    return _ENV.from_string(_BASE).render(title=title, root=root, crumbs=crumbs or [], body=body)


def model_card_html(markdown: str) -> Markup:
    return Markup(_MARKDOWN.render(markdown))
