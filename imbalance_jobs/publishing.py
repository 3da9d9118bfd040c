"""Publishing: immutable version folders, the champion pointer, and its history.

A version folder is written completely (each object with If-None-Match, a ``_COMPLETE.json`` marker last)
before the champion pointer moves. The pointer moves only by a conditional write: If-Match on the ETag read
when the run was evaluated (If-None-Match for the first champion), so of two runs promoting at once exactly
one wins and the other is told why. Every move appends a history record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Literal

from imbalance_jobs.context import PipelineLayout, RunContext
from imbalance_jobs.errors import PromotionRejected, PublishError, StorageError
from imbalance_jobs.storage import ConditionalWriteFailed, ObjectStore, join_uri
from imbalance_jobs.summary import Summary

__all__ = [
    "Champion",
    "PublishSummary",
    "list_history",
    "list_versions",
    "move_champion",
    "publish",
    "read_champion",
    "version_id",
]

COMPLETE = "_COMPLETE.json"


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


def version_id(created_at: dt.datetime, run_id: str) -> str:
    """Sortable and unique per run: ``20261127T020312Z-3fa4c1``."""
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:6]
    return f"{created_at.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-{digest}"


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
    if decision != "promote" or ctx.options.dry_run:
        record = {"decision": decision, "note": summary.note, "verdict": verdict_uri}
        ctx.store.put_json(ctx.staging_uri("rejection.json"), record)
        return summary
    from imbalance_jobs.versions import write_version

    version = version_id(dt.datetime.fromisoformat(verdict["created_at"]), ctx.run_id)
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
