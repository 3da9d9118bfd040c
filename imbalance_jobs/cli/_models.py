"""``imbalance-jobs models``, ``rollback`` and ``predict``: the published side of a pipeline."""

from __future__ import annotations

import argparse
import getpass
import io
import os
import sys
from pathlib import Path

from imbalance_jobs.cli._common import emit_json, resolve_config, resolve_store
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import ImbalanceJobsError, IngestError
from imbalance_jobs.publishing import (
    incomplete_versions,
    list_history,
    list_versions,
    read_champion,
    require_complete,
    verify_files,
)


def cmd_models(args: argparse.Namespace) -> int:
    config = resolve_config(args.pipeline)
    store, layout = resolve_store(), PipelineLayout(config)
    champion = read_champion(store, layout)
    if args.action == "list":
        return _list(store, layout, config.name, champion, as_json=args.json)
    if args.action == "history":
        rows = list_history(store, layout)
        if args.json:
            emit_json(rows)
            return 0
        for row in rows:
            print(
                f"{row['at']}  {row['action']:<8} {row['previous'] or '(none)'} -> {row['version']}  by {row['actor']}: {row['reason']}"
            )
        return 0
    version = args.version or (champion.version if champion else None)
    if version is None:
        raise ImbalanceJobsError(f"{layout.champion_uri}: no champion yet; name a version with --version")
    require_complete(store, layout, version)
    model = store.get_json(layout.version_uri(version, "model.json"))
    if args.json:
        emit_json(model)
    else:
        print(store.get_bytes(layout.version_uri(version, "model_card.md")).decode())
    return 0


def _list(store, layout: PipelineLayout, name: str, champion, *, as_json: bool) -> int:
    """Every published version with its integrity (files against the SHA-256 its marker recorded), and any
    incomplete folder a crashed publish left behind."""
    rows = [{**row, "problems": verify_files(store, layout, row)} for row in list_versions(store, layout)]
    incomplete = sorted(incomplete_versions(store, layout))
    if as_json:
        emit_json({"champion": champion.version if champion else None, "versions": rows, "incomplete": incomplete})
        return 0
    print(f"{name}: {len(rows)} version(s); champion {champion.version if champion else '(none)'}")
    for row in rows:
        mark = "*" if champion and row["version"] == champion.version else " "
        ap = row.get("average_precision")
        state = "ok" if not row["problems"] else "TAMPERED: " + "; ".join(row["problems"][:3])
        print(
            f" {mark} {row['version']}  {row['candidate']:<20} AP {ap if ap is None else f'{ap:.4f}'}  "
            f"run {row['run_id']}  {state}"
        )
    for version in incomplete:
        print(f"   {version}  INCOMPLETE: an interrupted publish (no _COMPLETE.json); swept by the next run")
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from imbalance_jobs.versions import rollback

    config = resolve_config(args.pipeline)
    record = rollback(
        resolve_store(), config, to_version=args.to, reason=args.reason, actor=args.actor or getpass.getuser()
    )
    if args.json:
        emit_json(record)
    else:
        print(
            f"{config.name}: champion {record['previous']} -> {record['version']} (rollback by {record['actor']}: {record['reason']})"
        )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from imbalance_jobs.scoring import DeployedModel

    config = resolve_config(args.pipeline)
    store, layout = resolve_store(), PipelineLayout(config)
    version = args.version or _champion_version(store, layout)
    require_complete(store, layout, version)
    model = DeployedModel.load(store, layout.version_prefix(version))
    frame, notes = model.check_input(read_table(args.file), source=args.file)
    for note in notes:
        print(f"note: {args.file}: {note}", file=sys.stderr)
    scores = model.scores(frame)
    out = frame.copy()
    names = model.description["label"]["class_names"]
    if scores.ndim == 1:
        out["score"] = scores
        out["prediction"] = [names[c] for c in model.decisions(scores)]
    else:
        for k, name in enumerate(names):
            out[f"proba_{name}"] = scores[:, k]
        out["prediction"] = [names[c] for c in model.decisions(scores)]
    try:
        write_table(out, args.output)
    except BrokenPipeError:  # `predict ... | head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
        print(f"{config.name} {version}: output closed by the reader after part of {len(out)} rows", file=sys.stderr)
        return 0
    positives = int((out["prediction"] == str(config.label.positive)).sum())
    print(
        f"{config.name} {version}: scored {len(out)} rows; {positives} predicted '{config.label.positive}'",
        file=sys.stderr,
    )
    return 0


def _champion_version(store, layout: PipelineLayout) -> str:
    champion = read_champion(store, layout)
    if champion is None:
        raise ImbalanceJobsError(f"{layout.champion_uri}: no champion yet; run the pipeline or pass --version")
    return champion.version


def read_table(path: str):
    """A local or s3:// parquet/CSV file as a DataFrame."""
    import pandas as pd

    raw = resolve_store().get_bytes(path) if path.startswith("s3://") else None
    source = io.BytesIO(raw) if raw is not None else path
    try:
        if path.endswith(".csv"):
            return pd.read_csv(source)
        return pd.read_parquet(source)
    except pd.errors.EmptyDataError as exc:
        raise IngestError(f"{path}: the file is empty; nothing to score") from exc
    except (OSError, ValueError, ImportError) as exc:
        raise IngestError(
            f"{path}: cannot read input file as {'CSV' if path.endswith('.csv') else 'parquet'} "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def write_table(frame, output: str | None) -> None:
    if output is None:
        frame.to_csv(sys.stdout, index=False)
    elif output.endswith(".parquet"):
        frame.to_parquet(Path(output), index=False)
    else:
        frame.to_csv(Path(output), index=False)
