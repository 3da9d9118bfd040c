"""The whole nightly run, stage by stage, exactly as the DAG runs it (the DAG maps each stage to a task).

Each stage's summary is also saved under ``runs/<run_id>/summaries/<stage>.json`` so that any single stage can
be re-run on its own from the CLI (``imbalance-jobs stage validate ...``) against the outputs of the previous one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import ImbalanceJobsError
from imbalance_jobs.summary import Summary

__all__ = ["STAGES", "RunSummary", "load_summary", "run_pipeline", "run_stage"]

STAGES = ("ingest", "validate", "monitor", "split", "train", "select", "evaluate", "publish")


class RunSummary(Summary):
    pipeline: str
    run_id: str
    run_date: str
    stages: dict[str, Any]
    seconds: dict[str, float]

    @property
    def decision(self) -> str | None:
        return self.stages.get("evaluate", {}).get("decision")


def _summary_uri(ctx: RunContext, stage: str) -> str:
    return ctx.staging_uri("summaries", f"{stage}.json")


def load_summary(ctx: RunContext, stage: str) -> dict[str, Any]:
    """The stored summary of an earlier stage of this run; a clear error if it has not run yet."""
    uri = _summary_uri(ctx, stage)
    if not ctx.store.exists(uri):
        raise ImbalanceJobsError(f"{uri}: stage '{stage}' has not run for run id '{ctx.run_id}'; run it first")
    return ctx.store.get_json(uri)


def run_stage(ctx: RunContext, stage: str) -> Summary | list[Summary]:
    """Run one stage with its inputs taken from the stored summaries of the stages before it."""
    if stage not in _RUNNERS:
        raise ImbalanceJobsError(f"unknown stage '{stage}'; stages are: {', '.join(STAGES)}")
    result = _run_within_budget(ctx, stage)
    body = [r.to_json_dict() for r in result] if isinstance(result, list) else result.to_json_dict()
    ctx.store.put_json(_summary_uri(ctx, stage), body)
    return result


def run_pipeline(ctx: RunContext, *, on_stage: Callable[[str, str, float | None], None] | None = None) -> RunSummary:
    """Run every stage in order; ``on_stage(stage, "start"|"done", seconds)`` reports progress."""
    stages: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for stage in STAGES:
        if on_stage:
            on_stage(stage, "start", None)
        start = time.perf_counter()
        result = run_stage(ctx, stage)
        seconds[stage] = round(time.perf_counter() - start, 3)
        stages[stage] = [r.to_json_dict() for r in result] if isinstance(result, list) else result.to_json_dict()
        if on_stage:
            on_stage(stage, "done", seconds[stage])
    return RunSummary(
        pipeline=ctx.config.name,
        run_id=ctx.run_id,
        run_date=ctx.run_date.isoformat(),
        stages=stages,
        seconds=seconds,
    )


def _run_within_budget(ctx: RunContext, stage: str) -> Any:
    """Heavy stages run with their native thread pools held to this process's budget (one run at a time here,
    unless ``IMBALANCE_PARALLEL_TASKS`` says otherwise; see :mod:`imbalance_jobs.thread_budget`)."""
    from imbalance_jobs.thread_budget import HEAVY_STAGES, stage_threads

    if stage not in HEAVY_STAGES:
        return _RUNNERS[stage](ctx)
    with stage_threads(stage):
        return _RUNNERS[stage](ctx)


def _ingest(ctx: RunContext) -> Summary:
    from imbalance_jobs.ingest import ingest

    return ingest(ctx)


def _validate(ctx: RunContext) -> Summary:
    from imbalance_jobs.validation import validate

    return validate(ctx, load_summary(ctx, "ingest")["data_uri"])


def _monitor(ctx: RunContext) -> Summary:
    from imbalance_jobs.monitoring import monitor

    load_summary(ctx, "validate")  # like the DAG: the champion is judged on validated data only
    return monitor(ctx)


def _split(ctx: RunContext) -> Summary:
    from imbalance_jobs.split import split

    load_summary(ctx, "validate")  # never split data that has not passed validation
    return split(ctx, load_summary(ctx, "ingest")["data_uri"])


def _train(ctx: RunContext) -> list[Summary]:
    from imbalance_jobs.training import train_candidates

    split = load_summary(ctx, "split")
    return train_candidates(ctx, split["train_uri"], validation_uri=split["validation_uri"])


def _select(ctx: RunContext) -> Summary:
    from imbalance_jobs.selection import select
    from imbalance_jobs.training import CandidateResult

    results = [CandidateResult.model_validate(r) for r in load_summary(ctx, "train")]
    return select(ctx, results, load_summary(ctx, "split")["validation_uri"])


def _evaluate(ctx: RunContext) -> Summary:
    from imbalance_jobs.scorecard import evaluate
    from imbalance_jobs.selection import SelectionSummary

    selection = SelectionSummary.model_validate(load_summary(ctx, "select"))
    return evaluate(ctx, selection, load_summary(ctx, "split")["test_uri"])


def _publish(ctx: RunContext) -> Summary:
    from imbalance_jobs.publishing import publish

    return publish(ctx, load_summary(ctx, "evaluate")["verdict_uri"])


_RUNNERS: dict[str, Callable[[RunContext], Any]] = {
    "ingest": _ingest,
    "validate": _validate,
    "monitor": _monitor,
    "split": _split,
    "train": _train,
    "select": _select,
    "evaluate": _evaluate,
    "publish": _publish,
}
