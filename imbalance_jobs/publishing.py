"""Publishing: immutable version folders, the champion pointer, and its history.

A version folder is written completely (each object with If-None-Match, a ``_COMPLETE.json`` marker last)
before the champion pointer moves. The pointer moves only by a conditional write: If-Match on the ETag read
when the run was evaluated (If-None-Match for the first champion), so of two runs promoting at once exactly
one wins and the other is told why. Every move appends a history record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any, Literal

from imbalance_jobs.context import PipelineLayout, RunContext
from imbalance_jobs.errors import PromotionRejected, PublishError, StorageError
from imbalance_jobs.storage import ConditionalWriteFailed, ObjectInfo, ObjectStore, join_uri
from imbalance_jobs.summary import Summary

__all__ = [
    "SWEEP_GRACE",
    "Champion",
    "PublishSummary",
    "list_history",
    "list_versions",
    "move_champion",
    "publish",
    "read_champion",
    "require_complete",
    "sweep_incomplete",
    "verify_files",
    "version_id",
]

COMPLETE = "_COMPLETE.json"
SWEEP_GRACE = dt.timedelta(hours=1)
"""An incomplete version folder this old is a crashed publish, never one in progress (publishing takes seconds)."""
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Champion:
    version: str
    etag: str
    record: dict[str, Any]


class PublishSummary(Summary):
    decision: str
    published: bool
    promoted: bool
    version: str | None
    version_uri: str | None
    champion_before: str | None
    champion_after: str | None
    note: str
    swept: list[str] = []


def version_id(created_at: dt.datetime, run_id: str) -> str:
    """Sortable and unique per run: ``20261127T020312Z-3fa4c1`` (the suffix names the run: :func:`_run_tag`)."""
    return f"{created_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{_run_tag(run_id)}"


def _run_tag(run_id: str) -> str:
    return hashlib.sha256(run_id.encode()).hexdigest()[:6]


def read_champion(store: ObjectStore, layout: PipelineLayout) -> Champion | None:
    """The current champion pointer and its ETag, or None before the first promotion."""
    found = store.get_with_etag(layout.champion_uri)
    if found is None:
        return None
    raw, etag = found
    import json

    try:
        record = json.loads(raw)
        return Champion(version=record["version"], etag=etag, record=record)
    except (ValueError, KeyError) as exc:
        raise StorageError(f"{layout.champion_uri}: champion pointer is unreadable ({exc})") from exc


def publish(ctx: RunContext, verdict_uri: str) -> PublishSummary:
    """Stage: publish the version and move the pointer when the verdict says promote; otherwise record why not."""
    verdict = ctx.store.get_json(verdict_uri)
    decision = verdict["decision"]
    before = verdict["champion"]["version"] if verdict["champion"] else None
    summary = PublishSummary(
        decision=decision,
        published=False,
        promoted=False,
        version=None,
        version_uri=None,
        champion_before=before,
        champion_after=before,
        note=f"not promoted ({decision}): " + "; ".join(verdict["reasons"]),
    )
    if ctx.options.dry_run:
        summary = summary.model_copy(update={"note": "dry run: nothing published"})
    version = version_id(dt.datetime.fromisoformat(verdict["created_at"]), ctx.run_id)
    if not ctx.options.dry_run:  # whatever the decision: a crashed publish must not linger until the next promotion
        swept = sweep_incomplete(ctx.store, ctx.layout, run_id=ctx.run_id, keep=version)
        summary = summary.model_copy(update={"swept": swept})
    if decision != "promote" or ctx.options.dry_run:
        record = {"decision": decision, "note": summary.note, "verdict": verdict_uri}
        ctx.store.put_json(ctx.staging_uri("rejection.json"), record)
        return summary
    from imbalance_jobs.versions import write_version

    prefix = write_version(ctx, version, verdict)
    move_champion(
        ctx.store,
        ctx.layout,
        to_version=version,
        expected_etag=verdict["champion"]["etag"] if verdict["champion"] else None,
        expected_version=before,
        action="promote",
        reason="; ".join(verdict["reasons"]),
        run_id=ctx.run_id,
        actor=ctx.options.triggered_by,
    )
    update = {"published": True, "promoted": True, "version": version, "version_uri": prefix}
    return summary.model_copy(update={**update, "champion_after": version, "note": verdict["summary"]})


def move_champion(
    store: ObjectStore,
    layout: PipelineLayout,
    *,
    to_version: str,
    expected_etag: str | None,
    expected_version: str | None,
    action: Literal["promote", "rollback"],
    reason: str,
    run_id: str | None,
    actor: str,
) -> dict[str, Any]:
    """Move the pointer iff it is still what the caller saw; append the history record. Returns the record."""
    if not store.exists(join_uri(layout.version_prefix(to_version), COMPLETE)):
        raise PublishError(f"{layout.version_prefix(to_version)}: version is not completely published")
    now = dt.datetime.now(dt.UTC)
    record = {
        "version": to_version,
        "previous": expected_version,
        "action": action,
        "reason": reason,
        "run_id": run_id,
        "actor": actor,
        "at": now.isoformat(timespec="milliseconds"),
    }
    try:
        if expected_etag is None:
            store.put_json(layout.champion_uri, record, if_none_match=True)
        else:
            store.put_json(layout.champion_uri, record, if_match=expected_etag)
    except ConditionalWriteFailed as exc:
        now_champ = read_champion(store, layout)
        current = now_champ.version if now_champ else None
        if now_champ and current == to_version and run_id and now_champ.record.get("run_id") == run_id:
            return _ensure_history(store, layout, now_champ.record)  # a retry of this very promotion
        raise PromotionRejected(
            f"{layout.champion_uri}: champion changed from {expected_version or 'none'} to {current} while this "
            f"run was deciding; {to_version} stays published but not champion. Re-run to compare against {current}."
        ) from exc
    return _ensure_history(store, layout, record)


def _ensure_history(store: ObjectStore, layout: PipelineLayout, record: dict[str, Any]) -> dict[str, Any]:
    """Write the history record of a pointer move unless a retry already did."""
    if any(h == record for h in list_history(store, layout)):
        return record
    at = dt.datetime.fromisoformat(record["at"])
    history_uri = join_uri(layout.history_prefix, f"{at:%Y%m%dT%H%M%S%fZ}-{record['version']}.json")
    store.put_json(history_uri, record, if_none_match=True)
    return record


def list_versions(store: ObjectStore, layout: PipelineLayout) -> list[dict[str, Any]]:
    """Completely published versions, oldest first, each with its marker record."""
    markers = [o for o in store.list(layout.versions_prefix) if o.uri.endswith("/" + COMPLETE)]
    return [store.get_json(m.uri) for m in markers]


def list_history(store: ObjectStore, layout: PipelineLayout) -> list[dict[str, Any]]:
    """Every promotion and rollback, oldest first."""
    return [store.get_json(o.uri) for o in store.list(layout.history_prefix) if o.uri.endswith(".json")]


def incomplete_versions(store: ObjectStore, layout: PipelineLayout) -> dict[str, list[ObjectInfo]]:
    """Version folders without a completion marker (a publish that crashed or is still writing)."""
    folders: dict[str, list[ObjectInfo]] = {}
    for obj in store.list(layout.versions_prefix):
        version = obj.uri[len(layout.versions_prefix) :].split("/", 1)[0]
        folders.setdefault(version, []).append(obj)
    return {v: objs for v, objs in folders.items() if not any(o.uri.endswith("/" + COMPLETE) for o in objs)}


def sweep_incomplete(
    store: ObjectStore,
    layout: PipelineLayout,
    *,
    run_id: str,
    keep: str | None = None,
    now: dt.datetime | None = None,
    grace: dt.timedelta = SWEEP_GRACE,
) -> list[str]:
    """Delete incomplete version folders left by a crashed publish; record what went under ``sweeps/``.

    A folder goes when it belongs to an earlier attempt of this same run (its model.json names ``run_id``) or
    when nothing in it changed for ``grace``; a folder another run may still be writing is left alone.
    """
    now = now or dt.datetime.now(dt.UTC)
    removed = []
    for version, objs in sorted(incomplete_versions(store, layout).items()):
        if version == keep:
            continue  # a retry of this very publish completes its own folder
        newest = max((o.modified for o in objs if o.modified), default=None)
        mine = version.endswith("-" + _run_tag(run_id)) or _owner_run(store, layout, version, objs) == run_id
        stale = newest is not None and now - newest >= grace
        if mine or stale:
            store.delete_prefix(layout.version_prefix(version))
            removed.append(version)
            why = "an earlier attempt of this run" if mine else f"untouched since {newest:%Y-%m-%dT%H:%M:%SZ}"
            logger.warning("swept incomplete version folder %s (%s)", layout.version_prefix(version), why)
    if removed:
        record = {"at": now.isoformat(timespec="milliseconds"), "run_id": run_id, "removed": removed,
                  "rule": f"no {COMPLETE}; same run id, or untouched for {grace}"}  # fmt: skip
        store.put_json(join_uri(layout.root, "sweeps", f"{now:%Y%m%dT%H%M%S%fZ}.json"), record)
    return removed


def _owner_run(store: ObjectStore, layout: PipelineLayout, version: str, objs: list[ObjectInfo]) -> str | None:
    uri = layout.version_uri(version, "model.json")
    if not any(o.uri == uri for o in objs):
        return None
    try:
        return store.get_json(uri).get("run_id")
    except StorageError:
        return None  # a half-written model.json: judged by age alone


def require_complete(store: ObjectStore, layout: PipelineLayout, version: str) -> dict[str, Any]:
    """The completion marker of a published version; a clear refusal for an incomplete or unknown one."""
    prefix = layout.version_prefix(version)
    found = store.get_with_etag(join_uri(prefix, COMPLETE))
    if found is None:
        what = "was never completely published (no " + COMPLETE + "; an interrupted publish, swept by the next run)"
        if not store.list(prefix):
            what = "does not exist"
        raise PublishError(f"{prefix}: version {version} {what}; refusing to use it")
    import json

    try:
        return json.loads(found[0])
    except ValueError as exc:
        raise PublishError(f"{join_uri(prefix, COMPLETE)}: completion marker is unreadable ({exc})") from exc


def verify_files(store: ObjectStore, layout: PipelineLayout, marker: dict[str, Any]) -> list[str]:
    """What differs between a version folder and the SHA-256 of each file its marker recorded: [] when intact."""
    prefix = layout.version_prefix(marker["version"])
    expected: dict[str, str] = marker.get("files", {})
    present = {o.uri[len(prefix) :] for o in store.list(prefix)} - {COMPLETE}
    problems = [f"{name}: missing" for name in sorted(set(expected) - present)]
    problems += [f"{name}: not part of the published version" for name in sorted(present - set(expected))]
    for name in sorted(set(expected) & present):
        if hashlib.sha256(store.get_bytes(join_uri(prefix, name))).hexdigest() != expected[name]:
            problems.append(f"{name}: content changed since publishing")
    return problems
