"""Champion pointer races, rollback, and refusal of tampered or pickled artifacts (real local S3 server)."""

from __future__ import annotations

import datetime as dt
import itertools
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest

from imbalance_jobs import pipeline
from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.errors import ModelArtifactError, PromotionRejected
from imbalance_jobs.publishing import list_history, publish, read_champion
from imbalance_jobs.scoring import DeployedModel
from imbalance_jobs.versions import rollback, verify_version
from tests.conftest import RUN_DATE, seed

pytestmark = pytest.mark.integration
STAGES_BEFORE_PUBLISH = ("ingest", "validate", "split", "train", "select", "evaluate")


def _evaluated(make_context, config, run_id, **options):
    ctx = make_context(config, run_id=run_id, **options)
    for stage in STAGES_BEFORE_PUBLISH:
        pipeline.run_stage(ctx, stage)
    return ctx


def _clone(store, make_context, base, run_id):
    """A copy of an evaluated run under another run id: same verdict, its own version id. No retraining."""
    ctx = make_context(base.config, run_id=run_id, force="promote", force_reason="race")
    for obj in store.list(base.layout.run_prefix(base.run_id)):
        store.put_bytes(
            obj.uri.replace(base.layout.run_prefix(base.run_id), ctx.layout.run_prefix(run_id)),
            store.get_bytes(obj.uri),
        )
    return ctx


def _point_verdicts_at_current_champion(store, contexts) -> None:
    """Each racing run evaluated against whatever is champion now (as runs started together would have)."""
    champion = read_champion(store, contexts[0].layout)
    for ctx in contexts:
        uri = pipeline.load_summary(ctx, "evaluate")["verdict_uri"]
        verdict = store.get_json(uri)
        verdict["champion"] = {"version": champion.version, "etag": champion.etag, "metrics": {}} if champion else None
        store.put_json(uri, verdict)


def test_concurrent_promotions_have_one_winner_per_round(store, quick_config, make_context) -> None:
    config = quick_config()
    seed(store, config)
    layout = PipelineLayout(config)
    base = _evaluated(make_context, config, "base", force="promote", force_reason="race")
    n, rounds = 4, 2
    for round_no in range(rounds):
        contexts = [_clone(store, make_context, base, f"r{round_no}-{i}") for i in range(n)]
        _point_verdicts_at_current_champion(store, contexts)
        before = read_champion(store, layout)

        def attempt(ctx):
            try:
                return publish(ctx, pipeline.load_summary(ctx, "evaluate")["verdict_uri"]).version
            except PromotionRejected as exc:
                return exc

        with ThreadPoolExecutor(n) as pool:
            outcomes = list(pool.map(attempt, contexts))
        winners = [o for o in outcomes if isinstance(o, str)]
        losers = [o for o in outcomes if isinstance(o, PromotionRejected)]
        assert len(winners) == 1
        assert len(losers) == n - 1
        assert all("champion changed from" in str(e) for e in losers)
        assert read_champion(store, layout).version == winners[0]
        last = list_history(store, layout)[-1]
        assert (last["previous"], last["version"]) == (before.version if before else None, winners[0])
    history = list_history(store, layout)
    assert len(history) == rounds
    assert all(h["previous"] == prev["version"] for prev, h in itertools.pairwise(history))


def _two_promotions(store, quick_config, run_stage_ctx):
    config = quick_config()
    seed(store, config, days=4)
    first = pipeline.run_pipeline(run_stage_ctx(config, run_id="one", run_date=RUN_DATE - dt.timedelta(days=1)))
    second = pipeline.run_pipeline(run_stage_ctx(config, run_id="two", force="promote", force_reason="newer data"))
    return config, first.stages["publish"]["version"], second.stages["publish"]["version"]


def test_rollback_moves_pointer_and_is_recorded(store, quick_config, make_context) -> None:
    config, v1, v2 = _two_promotions(store, quick_config, make_context)
    layout = PipelineLayout(config)
    assert read_champion(store, layout).version == v2
    record = rollback(store, config, to_version=v1, reason="v2 flags too many", actor="alice")
    assert read_champion(store, layout).version == v1
    assert (record["action"], record["previous"], record["version"], record["actor"]) == ("rollback", v2, v1, "alice")
    assert list_history(store, layout)[-1] == record


def test_rollback_refuses_unknown_version_and_missing_reason(store, quick_config, make_context) -> None:
    config, v1, _ = _two_promotions(store, quick_config, make_context)
    with pytest.raises(PromotionRejected, match="no such completely published version"):
        rollback(store, config, to_version="20200101T000000Z-000000", reason="x", actor="a")
    with pytest.raises(PromotionRejected, match="rollback needs a reason"):
        rollback(store, config, to_version=v1, reason="  ", actor="a")


def test_rollback_refuses_tampered_version(store, quick_config, make_context) -> None:
    config, v1, v2 = _two_promotions(store, quick_config, make_context)
    layout = PipelineLayout(config)
    target = next(o for o in store.list(layout.version_prefix(v1) + "model/") if o.uri.endswith(".skops"))
    store.put_bytes(target.uri, store.get_bytes(target.uri)[:-10] + b"0123456789")
    with pytest.raises(ModelArtifactError, match=r"sha256|SHA-256|checksum|tamper"):
        rollback(store, config, to_version=v1, reason="x", actor="a")
    assert read_champion(store, layout).version == v2


def test_pickled_artifact_is_refused(store, quick_config, make_context) -> None:
    config, v1, _ = _two_promotions(store, quick_config, make_context)
    layout = PipelineLayout(config)
    model = DeployedModel.load(store, layout.version_prefix(v1))
    # an attacker (or an old tool) swaps the skops file for a pickle and fixes up nothing else
    target = next(o for o in store.list(layout.version_prefix(v1) + "model/") if o.uri.endswith(".skops"))
    store.put_bytes(target.uri, pickle.dumps(model.pipeline))
    with pytest.raises(ModelArtifactError):
        verify_version(store, layout, v1)


def test_verify_version_reproduces_probe_scores(store, quick_config, make_context) -> None:
    config, v1, _ = _two_promotions(store, quick_config, make_context)
    model = verify_version(store, PipelineLayout(config), v1)
    assert model.threshold is not None


def test_publish_retry_after_pointer_moved_is_idempotent(store, quick_config, make_context) -> None:
    config = quick_config()
    seed(store, config)
    ctx = _evaluated(make_context, config, "retry")
    verdict_uri = pipeline.load_summary(ctx, "evaluate")["verdict_uri"]
    first = publish(ctx, verdict_uri)
    again = publish(ctx, verdict_uri)
    assert again == first
    assert len(list_history(store, PipelineLayout(config))) == 1
