"""``imbalance-jobs run`` and ``imbalance-jobs stage``: the nightly run, whole or one stage at a time."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from imbalance_jobs.alerts import deliver_pending, report_run_failure, report_run_outcome, senders_from_env
from imbalance_jobs.cli._common import emit_json, resolve_config, resolve_store
from imbalance_jobs.context import RunContext, RunOptions
from imbalance_jobs.errors import ImbalanceJobsError
from imbalance_jobs.pipeline import STAGES, RunSummary, run_pipeline, run_stage

logger = logging.getLogger(__name__)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("pipeline", help="config YAML path or pipeline name in configs/")
    parser.add_argument(
        "--date", type=dt.date.fromisoformat, default=None, help="newest partition day (YYYY-MM-DD; default today UTC)"
    )
    parser.add_argument("--run-id", default=None, help="run id (default: cli__<timestamp>); re-using one re-runs it")
    parser.add_argument("--lookback-days", type=int, default=None, help="override source.lookback_days")
    parser.add_argument("--candidates", default=None, help="comma-separated subset of candidate names")
    parser.add_argument("--sample-fraction", type=float, default=1.0, help="stratified sample of rows for a quick run")
    parser.add_argument("--dry-run", action="store_true", help="everything but publishing and moving the champion")
    force = parser.add_mutually_exclusive_group()
    force.add_argument(
        "--force-promote", metavar="REASON", default=None, help="promote whatever the gate says (recorded)"
    )
    force.add_argument(
        "--force-reject", metavar="REASON", default=None, help="reject whatever the gate says (recorded)"
    )
    parser.add_argument("--json", action="store_true", help="print the machine-readable summary")


def build_context(args: argparse.Namespace) -> RunContext:
    config = resolve_config(args.pipeline, build_estimators=True)
    now = dt.datetime.now(dt.UTC)
    force = "promote" if args.force_promote else "reject" if args.force_reject else None
    try:
        options = RunOptions(
            dry_run=args.dry_run,
            sample_fraction=args.sample_fraction,
            candidates=tuple(c.strip() for c in args.candidates.split(",") if c.strip()) if args.candidates else None,
            lookback_days=args.lookback_days,
            force=force,
            force_reason=args.force_promote or args.force_reject,
            triggered_by="cli",
        )
    except ValueError as exc:
        raise SystemExit(f"imbalance-jobs: error: {exc}") from None
    return RunContext(
        config=config,
        run_id=args.run_id or f"cli__{now:%Y%m%dT%H%M%S}",
        run_date=args.date or now.date(),
        store=resolve_store(),
        options=options,
    )


def cmd_run(args: argparse.Namespace) -> int:
    ctx = build_context(args)
    quiet = args.json
    if not quiet:
        print(
            f"{ctx.config.name}: run {ctx.run_id} for {ctx.run_date} ({ctx.lookback_days} day window)", file=sys.stderr
        )
    progress = _Progress(quiet=quiet)
    try:
        summary = run_pipeline(ctx, on_stage=progress)
    except ImbalanceJobsError as exc:
        progress.stop()
        _alert(ctx, report_run_failure, failed_tasks=[progress.current], error=str(exc), after=None)
        raise  # the run's own error, whatever happened while alerting about it
    finally:
        progress.stop()
    publish = summary.stages["publish"]
    _alert(ctx, report_run_outcome, decision=publish["decision"], promoted=publish["promoted"], after=publish)
    if args.json:
        emit_json(summary.to_json_dict())
    else:
        print(render_run(summary))
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    ctx = build_context(args)
    if args.run_id is None:
        raise SystemExit("imbalance-jobs: error: stage needs --run-id (the run whose earlier stages it continues)")
    result = run_stage(ctx, args.stage)
    body = [r.to_json_dict() for r in result] if isinstance(result, list) else result.to_json_dict()
    emit_json(body)
    return 0


def add_stage_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("stage", choices=STAGES)
    add_run_arguments(parser)


class _Progress:
    """Prints stage progress for humans and remembers the running stage (named in failure alerts).

    A stage that runs long says so every ``HEARTBEAT_S`` seconds, so a run waiting on a slow store or a long fit
    is never silent.
    """

    HEARTBEAT_S = 60.0

    def __init__(self, *, quiet: bool):
        self.quiet = quiet
        self.current = "ingest"
        self._done = threading.Event()

    def __call__(self, stage: str, event: str, seconds: float | None) -> None:
        self.current = stage
        self.stop()
        if self.quiet:
            return
        done = f"done in {seconds:.1f}s" if event == "done" else "..."
        print(f"  {stage:<9} {done}", file=sys.stderr, flush=True)
        if event == "start":
            self._done = threading.Event()
            threading.Thread(target=self._heartbeat, args=(stage, self._done), daemon=True).start()

    def stop(self) -> None:
        self._done.set()

    def _heartbeat(self, stage: str, done: threading.Event) -> None:
        started = time.monotonic()
        while not done.wait(self.HEARTBEAT_S):
            print(f"  {stage:<9} still running after {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)


def _alert(ctx: RunContext, report: Callable[..., Any], *, after: dict[str, Any] | None, **kwargs: Any) -> None:
    """Raise the run's event alerts like the DAG does, then deliver whatever the outbox holds to the channels
    configured through IMBALANCE_* variables.

    Alerting is secondary: a failure here (the store down, a bug) is printed as a warning and never replaces
    the run's own error, nor turns a finished run (``after``: its publish summary) into a failed one.
    """
    try:
        report(ctx, **kwargs)
        senders, _ = senders_from_env(ctx.config)
        deliver_pending(ctx.store, ctx.config, senders)
    except Exception as exc:  # any alerting failure is secondary by design
        logger.debug("alerting failed", exc_info=True)
        print(secondary_failure_message(exc, after), file=sys.stderr, flush=True)


def secondary_failure_message(exc: BaseException, publish: dict[str, Any] | None) -> str:
    """One line for an alerting failure, saying what the run itself achieved (so nobody re-promotes by hand)."""
    kind = "" if isinstance(exc, ImbalanceJobsError) else f" ({type(exc).__name__}, a bug; --verbose for details)"
    if publish is None:
        outcome = "the run's own error follows"
    elif publish.get("promoted"):
        outcome = f"the run succeeded: version {publish['version']} was published and is now champion"
    else:
        outcome = f"the run succeeded: {publish.get('note') or 'nothing promoted'}"
    return f"warning: alerts were not raised or delivered{kind}: {exc}; {outcome}"


def render_run(summary: RunSummary) -> str:
    """The readable end-of-run report."""
    s = summary.stages
    lines = [f"{summary.pipeline} · run {summary.run_id} · data up to {summary.run_date}"]
    add = lines.append
    ing = s["ingest"]
    add(
        f"  ingest    {ing['rows']} rows from {ing['objects']} file(s), {len(ing['days'])} day(s); classes {ing['label_counts']}"
    )
    if ing.get("skipped"):
        add(f"            skipped {len(ing['skipped'])} file(s):{_list(ing['skipped'])}")
    beta = ing.get("negative_sample_beta", 1.0)
    if beta < 1.0:
        read = sum(ing.get("population_label_counts", {}).values())
        add(
            f"            negative sample: kept {ing['rows']} of {read} rows (every positive, {beta:.4%} of "
            f"negatives); figures below are weighted back to the whole window"
        )
    val = s["validate"]
    add(f"  validate  passed; {len(val['warnings'])} warning(s){_list(val['warnings'])}")
    mon = s["monitor"]
    recall = "" if mon["recall"] is None else f"; champion recall {mon['recall']:.4f} on {mon['positives']} positives"
    alerts = f"; {len(mon['alerts'])} alert(s)" if mon["alerts"] else ""
    add(f"  monitor   {mon['status']}{recall}{alerts}")
    spl = s["split"]
    add(f"  split     {spl['method']}: " + ", ".join(f"{k} {sum(v.values())}" for k, v in spl["counts"].items()))
    add("  train     " + _leaderboard(s["train"]))
    sel = s["select"]
    cal = sel["calibration"]
    brier = f" (Brier {cal['brier_before']:.4f} -> {cal['brier_after']:.4f})" if "brier_before" in cal else ""
    thr = "argmax" if sel["threshold"] is None else f"{sel['threshold']:.4f}"
    add(f"  select    {sel['candidate']}; threshold {thr}; calibration {cal['method']}{brier}")
    if sel.get("selection_reason"):
        add(f"            why: {sel['selection_reason']}")
    if sel.get("blend"):
        add(f"            blend: {sel['blend']['why']}")
    if sel.get("calibrated_on"):
        add(f"            fit on {sel['fit_rows']} rows; calibrated and thresholded on {sel['calibrated_on']}")
    comparison = s["evaluate"].get("compare_rule")
    if comparison and comparison != "no_champion":
        add(f"            compared with the champion on {s['evaluate']['compared_rows']} test rows ({comparison})")
    add(f"  evaluate  {s['evaluate']['summary']}")
    pub = s["publish"]
    add(f"  publish   {'version ' + pub['version'] + ' is now champion' if pub['promoted'] else pub['note']}")
    add(f"  verdict   {s['evaluate']['verdict_uri']}")
    add(
        f"  time      {sum(summary.seconds.values()):.1f}s ("
        + ", ".join(f"{k} {v:.1f}s" for k, v in summary.seconds.items())
        + ")"
    )
    return "\n".join(lines)


def _leaderboard(results: list[dict[str, Any]]) -> str:
    parts = []
    for r in sorted(results, key=lambda r: -(r["cv_mean"] if r["cv_mean"] is not None else -1)):
        if r["status"] == "ok":
            parts.append(f"{r['name']} {r['cv_mean']:.4f}±{r['cv_std']:.4f}")
        else:
            parts.append(f"{r['name']} FAILED ({r['error']})")
    return "; ".join(parts)


def _list(items: list[str]) -> str:
    return "".join(f"\n            - {w}" for w in items)
