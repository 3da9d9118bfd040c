"""The ``imbalance-jobs`` command. ``main(argv) -> int``; one small function per subcommand.

Exit codes: 0 ok, 1 expected error, 2 usage, 3 bug, 4 bad config, 5 data validation failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import traceback
from collections.abc import Sequence

from imbalance_jobs import __version__
from imbalance_jobs.cli._common import EXIT_BUG, EXIT_CONFIG, EXIT_INTERRUPTED, EXIT_OK, exit_code_for
from imbalance_jobs.errors import ConfigError, ImbalanceJobsError

__all__ = ["main"]


def cmd_config_validate(args: argparse.Namespace) -> int:
    from imbalance_jobs.config import load_config

    failed = 0
    for path in args.files:
        try:
            config = load_config(path, build_estimators=True)
        except ConfigError as exc:
            failed += 1
            print(exc, file=sys.stderr)
            continue
        if args.rows is not None and not _costs_fit(path, config, args.rows, args.positive_share):
            failed += 1
            continue
        print(f"{path}: ok ({config.name}, {len(config.training.candidates)} candidate(s))")
    return EXIT_CONFIG if failed else EXIT_OK


def _costs_fit(path: str, config, rows: int, positive_share: float) -> bool:
    """Print the cost warnings of ``config`` at ``rows`` rows; False (and the refusals) when one cannot finish."""
    from imbalance_jobs.costs import cost_problems

    refusals, warnings = cost_problems(config, rows, positive_share=positive_share)
    for line in warnings:
        print(f"{path} > {line}: warning", file=sys.stderr)
    for line in refusals:
        print(f"{path} > {line}", file=sys.stderr)
    return not refusals


def build_parser() -> argparse.ArgumentParser:
    from imbalance_jobs.cli import _local, _models, _monitor, _run

    parser = argparse.ArgumentParser(
        prog="imbalance-jobs", description="Nightly retraining for rare-event classifiers."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--verbose", "-v", action="store_true", help="show tracebacks and debug logs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the whole pipeline: ingest -> ... -> publish")
    _run.add_run_arguments(p)
    p.set_defaults(func=_run.cmd_run)

    p = sub.add_parser("stage", help="run one stage of a run (continues from the stored earlier stages)")
    _run.add_stage_arguments(p)
    p.set_defaults(func=_run.cmd_stage)

    p = sub.add_parser("config", help="check pipeline configs")
    p.add_argument("action", choices=["validate"])
    p.add_argument("files", nargs="+")
    p.add_argument(
        "--rows",
        type=int,
        default=None,
        help="expected rows in the window: estimate each candidate's nightly cost, warn or refuse (exit 4)",
    )
    p.add_argument(
        "--positive-share",
        type=float,
        default=0.05,
        help="with --rows: expected share of positive rows (default 0.05); sets what negative sampling keeps",
    )
    p.set_defaults(func=cmd_config_validate)

    p = sub.add_parser("models", help="list / show / history of published versions")
    p.add_argument("action", choices=["list", "show", "history"])
    p.add_argument("pipeline")
    p.add_argument("--version", dest="version", default=None, help="with show: a version other than the champion")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_models.cmd_models)

    p = sub.add_parser("rollback", help="point the champion at an earlier published version")
    p.add_argument("pipeline")
    p.add_argument("--to", required=True, metavar="VERSION")
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default=None, help="who (default: the OS user)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_models.cmd_rollback)

    p = sub.add_parser("predict", help="score a parquet/CSV file with the champion and its threshold")
    p.add_argument("pipeline")
    p.add_argument("file", help="local path or s3:// URI (.parquet or .csv)")
    p.add_argument("--version", default=None, help="a published version other than the champion")
    p.add_argument("--output", "-o", default=None, help="output .csv/.parquet (default: CSV to stdout)")
    p.set_defaults(func=_models.cmd_predict)

    _monitor.add_parser(sub)

    p = sub.add_parser("local-s3", help="start/stop the embedded S3-compatible server (SeaweedFS)")
    p.add_argument("action", choices=["start", "stop", "status"])
    p.add_argument("--port", type=int, default=None)
    p.set_defaults(func=_local.cmd_local_s3)

    p = sub.add_parser("seed", help="write synthetic labeled partitions for a pipeline")
    p.add_argument("pipeline")
    p.add_argument("--end-date", type=dt.date.fromisoformat, default=dt.datetime.now(dt.UTC).date())
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--rows", type=int, default=2000, help="rows per day")
    p.add_argument("--drift", type=float, default=0.0, help="0..1: move the signal to other features")
    p.set_defaults(func=_local.cmd_seed)

    p = sub.add_parser("demo", help="local S3 + synthetic data + every example pipeline, end to end")
    p.add_argument("--date", type=dt.date.fromisoformat, default=None)
    p.add_argument("--rows", type=int, default=2000, help="rows per day")
    p.set_defaults(func=_local.cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ImbalanceJobsError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return exit_code_for(exc)
    except Exception:
        traceback.print_exc()
        print("imbalance-jobs: unexpected error (a bug); please report it with the traceback above", file=sys.stderr)
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
