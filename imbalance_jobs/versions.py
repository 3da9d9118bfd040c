"""Immutable version folders: what goes in them, how they are written, verified and rolled back to.

Folder contents: ``model/`` (pipeline files), ``model.json``, ``metrics.json``, ``verdict.json``, the plots,
``validation/report.json`` + ``report.html``, ``config.json`` + ``config.yaml``, ``snapshot.json`` (the
ingest manifest), ``split_spec.json`` (the split contract: which rows the model saw), ``probe.parquet`` +
``probe_scores.json`` (a few test rows and their scores, so a rollback can prove the version still loads and
scores identically), ``model_card.md``, and ``_COMPLETE.json`` last.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

import numpy as np
import yaml

from imbalance_jobs.config import PipelineConfig, config_hash
from imbalance_jobs.context import PipelineLayout, RunContext
from imbalance_jobs.errors import ModelArtifactError, PromotionRejected, PublishError
from imbalance_jobs.features import ROW_ID
from imbalance_jobs.model_card import render_model_card
from imbalance_jobs.publishing import COMPLETE, move_champion, read_champion
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.storage import ConditionalWriteFailed, ObjectStore, join_uri

__all__ = ["PROBE_ROWS", "rollback", "verify_version", "write_version"]

PROBE_ROWS = 64
_COPIED = {
    "evaluation/pr_curve.png": "pr_curve.png",
    "evaluation/roc_curve.png": "roc_curve.png",
    "evaluation/calibration.png": "calibration.png",
    "evaluation/score_hist.png": "score_hist.png",
    "validation/report.json": "validation/report.json",
    "validation/report.html": "validation/report.html",
    "ingest/manifest.json": "snapshot.json",
    "split/spec.json": "split_spec.json",  # the evaluation contract: which rows this model saw
}


def write_version(ctx: RunContext, version: str, verdict: dict[str, Any]) -> str:
    """Write every file of the version (each at most once), then the completion marker. Returns the prefix."""
    prefix = ctx.layout.version_prefix(version)
    files = _version_files(ctx, version, verdict)
    for name, data in files.items():
        _put_once(ctx.store, join_uri(prefix, name), data)
    marker = {
        "version": version,
        "pipeline": ctx.config.name,
        "run_id": ctx.run_id,
        "created_at": verdict["created_at"],
        "candidate": verdict["candidate"]["name"],
        "decision": verdict["decision"],
        "forced": verdict["forced"],
        "average_precision": verdict["candidate"]["metrics"].get("average_precision"),
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())},
    }
    _put_once(ctx.store, join_uri(prefix, COMPLETE), _json_bytes(marker))
    return prefix


def _version_files(ctx: RunContext, version: str, verdict: dict[str, Any]) -> dict[str, bytes]:
    store, bundle = ctx.store, verdict["candidate"]["bundle"]
    files = {f"model/{o.uri.rsplit('/model/', 1)[1]}": store.get_bytes(o.uri) for o in store.list(bundle + "model/")}
    snapshot = store.get_json(ctx.staging_uri("ingest", "manifest.json"))
    description = {
        **store.get_json(join_uri(bundle, "model.json")),
        "version": version,
        "run_id": ctx.run_id,
        "config_hash": config_hash(ctx.config),
        "snapshot": {k: snapshot[k] for k in ("snapshot_id", "run_date", "lookback_days", "rows", "label_counts")},
    }
    files["model.json"] = _json_bytes(description)
    files["verdict.json"] = _json_bytes(verdict)
    files["metrics.json"] = _json_bytes(
        {
            "candidate": verdict["candidate"]["metrics"],
            "champion": verdict["champion"],
            "ap_gain": verdict["ap_gain"],
            "test_rows": verdict["test_rows"],
        }
    )
    for src, dst in _COPIED.items():
        files[dst] = store.get_bytes(ctx.staging_uri(src))
    files["config.json"] = _json_bytes(ctx.config.model_dump(mode="json"))
    files["config.yaml"] = yaml.safe_dump(ctx.config.model_dump(mode="json"), sort_keys=False).encode()
    files.update(_probe(ctx))
    files["model_card.md"] = render_model_card(ctx.config, version, description, verdict).encode()
    return files


def _probe(ctx: RunContext) -> dict[str, bytes]:
    test = ctx.store.get_frame(ctx.staging_uri("split", "test.parquet")).head(PROBE_ROWS)
    scores = ctx.store.get_frame(ctx.staging_uri("evaluation", "scores.parquet"))
    cols = [c for c in scores.columns if c.startswith("candidate_")]
    merged = test[[ROW_ID]].merge(scores[[ROW_ID, *cols]], on=ROW_ID, how="left")
    buf = io.BytesIO()
    test.to_parquet(buf, index=False)
    return {
        "probe.parquet": buf.getvalue(),
        "probe_scores.json": _json_bytes({"columns": cols, "scores": merged[cols].to_numpy().tolist()}),
    }


def _put_once(store: ObjectStore, uri: str, data: bytes) -> None:
    """Create an object that must never change; a retry that writes the same bytes is accepted."""
    try:
        store.put_bytes(uri, data, if_none_match=True, content_type=_content_type(uri))
    except ConditionalWriteFailed as exc:
        info = store.head(uri)
        if info is None or info.etag.strip('"') != hashlib.md5(data, usedforsecurity=False).hexdigest():
            raise PublishError(f"{uri}: already exists with other content; published versions are immutable") from exc


def _content_type(uri: str) -> str:
    for suffix, kind in (
        (".json", "application/json"),
        (".png", "image/png"),
        (".html", "text/html"),
        (".md", "text/markdown"),
    ):
        if uri.endswith(suffix):
            return kind
    return "application/octet-stream"


def _json_bytes(obj: Any) -> bytes:
    import json

    return json.dumps(obj, indent=2, sort_keys=True, default=str).encode()


def verify_version(store: ObjectStore, layout: PipelineLayout, version: str) -> DeployedModel:
    """Load a published version and prove it scores its probe rows exactly as when it was published."""
    prefix = layout.version_prefix(version)
    if not store.exists(join_uri(prefix, COMPLETE)):
        raise PromotionRejected(f"{prefix}: no such completely published version")
    model = DeployedModel.load(store, prefix)
    probe = store.get_frame(join_uri(prefix, "probe.parquet"))
    expected = np.asarray(store.get_json(join_uri(prefix, "probe_scores.json"))["scores"], dtype=np.float64)
    got = model.scores(probe)
    got = got.reshape(len(probe), -1)
    if expected.shape != got.shape or not np.allclose(got, expected, rtol=0, atol=1e-9):
        raise ModelArtifactError(f"{prefix}: model does not reproduce its recorded probe scores; refusing to use it")
    return model


def rollback(store: ObjectStore, config: PipelineConfig, *, to_version: str, reason: str, actor: str) -> dict[str, Any]:
    """Point the champion at an earlier version after verifying it loads and scores; recorded in history."""
    if not reason.strip():
        raise PromotionRejected("rollback needs a reason (--reason)")
    layout = PipelineLayout(config)
    current = read_champion(store, layout)
    if current is not None and current.version == to_version:
        raise PromotionRejected(f"{layout.champion_uri}: {to_version} is already the champion")
    verify_version(store, layout, to_version)
    return move_champion(
        store,
        layout,
        to_version=to_version,
        expected_etag=current.etag if current else None,
        expected_version=current.version if current else None,
        action="rollback",
        reason=reason,
        run_id=None,
        actor=actor,
    )
