"""``imbalance-jobs monitor``: champion health on a day's labeled partition, its alert rules, and delivery.

Exit 0 whenever the report was made, alarms included (an alarm is a finding, not an error); non-zero only for
errors. Channel settings come from env (``IMBALANCE_SMTP_URL``, ``IMBALANCE_SLACK_WEBHOOK_URL``,
``IMBALANCE_ALERT_WEBHOOK_URL``); a channel without its variable keeps its alerts queued for the next delivery.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

from imbalance_jobs.cli._common import emit_json, resolve_config, resolve_store
from imbalance_jobs.context import RunContext, RunOptions

__all__ = ["add_parser", "cmd_monitor", "render_monitor"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="the champion's recall on a day's partition, alert rules, alerts sent")
    p.add_argument("pipeline", help="config YAML path or pipeline name in configs/")
    p.add_argument(
        "--date", type=dt.date.fromisoformat, default=None, help="the partition day (YYYY-MM-DD; default today UTC)"
    )
    p.add_argument("--run-id", default=None, help="the nightly run this belongs to (its validation report is used)")
    p.add_argument("--json", action="store_true", help="print the machine-readable summary")
    p.add_argument(
        "--send",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="deliver queued alerts now with the channels set in env (--no-send: queue them for the next delivery)",
    )
    p.set_defaults(func=cmd_monitor)


def cmd_monitor(args: argparse.Namespace) -> int:
    from imbalance_jobs.alerts import deliver_pending, senders_from_env
    from imbalance_jobs.monitoring import MonitorRecord, monitor

    config = resolve_config(args.pipeline)
    now = dt.datetime.now(dt.UTC)
    ctx = RunContext(
        config=config,
        run_id=args.run_id or f"cli__{now:%Y%m%dT%H%M%S}",
        run_date=args.date or now.date(),
        store=resolve_store(),
        options=RunOptions(triggered_by="cli"),
    )
    summary = monitor(ctx)
    delivery, missing = None, {}
    if args.send:
        senders, missing = senders_from_env(config)
        delivery = deliver_pending(ctx.store, config, senders)
    if args.json:
        body = {"monitor": summary.to_json_dict(), "delivery": delivery.to_json_dict() if delivery else None}
        emit_json({**body, "channels_without_settings": missing})
        return 0
    record = MonitorRecord.model_validate(ctx.store.get_json(summary.record_uri)) if summary.record_uri else None
    print(render_monitor(summary, record, delivery, missing))
    return 0


def _ci(point: float | None, low: float | None, high: float | None) -> str:
    if point is None:
        return "n/a"
    return f"{point:.3f}" + (f" [{low:.3f}, {high:.3f}]" if low is not None and high is not None else "")


def _versus(now: float | None, then: float | None, label: str) -> str:
    if now is None or then is None:
        return ""
    return f"  {label} {then:.3f} ({now - then:+.3f})"


def _figure_lines(record: Any) -> list[str]:
    fig, promo = record.figures, record.promotion
    lines = [f"  data        {fig.rows} rows, {fig.positives} positives ({len(record.data_objects)} file(s))"]
    for label, name in (("recall", "recall"), ("precision", "precision"), ("AP", "average_precision")):
        ci = getattr(fig, name)
        line = f"  {label:<11} {_ci(ci.point, ci.low, ci.high):<26}"
        line += _versus(ci.point, getattr(promo, name) if promo else None, "at promotion")
        if name == "recall" and record.previous and record.recall_vs_previous is not None:
            line += f"  vs previous day {record.recall_vs_previous:+.3f}"
        lines.append(line.rstrip())
    return lines


def _rule_lines(record: Any) -> list[str]:
    lines = []
    for k, outcome in enumerate(record.rules):
        ev = outcome.evaluation
        figures = ""
        if ev.observed is not None and ev.threshold is not None:
            figures = f"{ev.metric or 'observed'} {ev.observed:.3f}, threshold {ev.threshold:.3f}"
        sent = f"  ({outcome.sent_today} sent today)" if outcome.sent_today else ""
        head = "  rules       " if k == 0 else " " * 14
        status = ev.status.upper() if ev.status == "breach" else ev.status
        lines.append(f"{head}{ev.rule:<22} {status:<22} {figures}{sent}".rstrip())
    return lines


def _delivery_lines(delivery: Any, missing: dict[str, str]) -> list[str]:
    if delivery is None:
        return ["  delivery    not sent (--no-send): alerts stay queued for the next delivery"]
    lines = [f"  delivery    {len(delivery.sent)} sent" + (f": {', '.join(delivery.sent)}" if delivery.sent else "")]
    for failed in delivery.failed:
        lines.append(
            f"              FAILED {failed.channel}:{failed.alert_id} after {failed.attempts} attempt(s), kept for the next run: {failed.error}"
        )
    for channel, count in delivery.waiting.items():
        why = missing.get(channel, "no sender here")
        lines.append(f"              {channel}: {count} alert(s) waiting ({why})")
    lines += [f"              dropped after outbox_max_age_days: {key}" for key in delivery.expired]
    return lines


def render_monitor(summary: Any, record: Any, delivery: Any, missing: dict[str, str]) -> str:
    """The readable report: figures with intervals, comparisons, each rule, alerts raised and their delivery."""
    champion = summary.champion_version or "(none)"
    lines = [f"{summary.pipeline} · monitor {summary.day} · champion {champion} · {summary.status.upper()}"]
    if record is not None and record.figures is not None:
        lines += _figure_lines(record)
    if summary.note:
        lines.append(f"  note        {summary.note}")
    if record is not None and record.rules:
        lines += _rule_lines(record)
    raised = [f"{a.rule} {a.kind} ({a.severity})" for a in summary.alerts]
    lines.append(f"  alerts      {', '.join(raised) if raised else 'none raised'}")
    lines += _delivery_lines(delivery, missing)
    if summary.record_uri:
        lines.append(f"  record      {summary.record_uri}")
    return "\n".join(lines)
