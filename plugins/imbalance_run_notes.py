"""A DAG-run note that tells what a retraining run decided: the verdict line in the runs list and on the run page.

Airflow shows "Success" whether a run replaced the champion or kept it; the note says which. Tasks cannot write
notes (the execution API has no route for it), so a listener does it where the run's state is decided: the
scheduler (or ``dag.test()``) calls ``on_dag_run_success`` / ``on_dag_run_failed`` with the run bound to its
session, and the note is added in that same transaction. Only DAGs named ``retrain_<pipeline>`` are touched, and a
note someone already wrote is never replaced.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl

__all__ = ["note_for", "on_dag_run_failed", "on_dag_run_success"]

log = logging.getLogger(__name__)
DAG_ID_PREFIX = "retrain_"
MAX_NOTE = 1000  # the length of Airflow's dag_run_note.content column
_VERBS = {"promote": "PROMOTE", "reject": "KEEP CHAMPION", "insufficient_evidence": "INSUFFICIENT EVIDENCE"}


def _detail(summary: str) -> str:
    """The verdict summary without its leading verb (``PROMOTE: candidate AP ...`` -> ``candidate AP ...``)."""
    head, sep, rest = summary.partition(": ")
    return rest if sep and head.split(" (")[0] in _VERBS.values() else summary


def note_for(
    *,
    evaluation: dict[str, Any] | None,
    published: dict[str, Any] | None,
    rejected: dict[str, Any] | None,
    failed_tasks: list[str],
    conf_error: str | None = None,
) -> str | None:
    """The one-line outcome of a run from its task results; None when there is nothing to say."""
    if conf_error:
        return f"CONF REFUSED, nothing ran: {conf_error}"
    if failed_tasks:
        return f"FAILED at {', '.join(failed_tasks)}: nothing was published; see the failed task's log."
    if not evaluation:
        return None
    detail = _detail(str(evaluation.get("summary", "")))
    champion = evaluation.get("champion_version")
    if published and published.get("promoted"):
        return f"PROMOTED {published.get('version')}: {detail}"
    if rejected and str(rejected.get("note", "")).startswith("dry run"):
        return f"DRY RUN, nothing published (verdict {evaluation.get('decision')}): {detail}"
    kept = f"KEPT champion {champion}" if champion else "NO CHAMPION yet, nothing promoted"
    return f"{kept} ({evaluation.get('decision')}): {detail}"


def _xcoms(dag_run: Any, session: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    query = select(XComModel).where(
        XComModel.dag_id == dag_run.dag_id,
        XComModel.run_id == dag_run.run_id,
        XComModel.key.in_(("return_value", "conf_error")),
        XComModel.map_index < 0,
        XComModel.task_id.in_(("prepare", "evaluate", "publish", "record_rejection")),
    )
    rows = session.scalars(query)
    return {row.task_id if row.key == "return_value" else row.key: XComModel.deserialize_value(row) for row in rows}


def _annotate(dag_run: Any) -> None:
    """Add the note in the caller's session when the run is bound to one (the scheduler), else in a new one."""
    from sqlalchemy.orm import object_session

    if not str(dag_run.dag_id).startswith(DAG_ID_PREFIX):
        return
    session = object_session(dag_run)
    if session is not None:
        _write_note(dag_run, session)
        return
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as own:  # dag.test() hands listeners a detached run
        query = select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        _write_note(own.scalars(query).one(), own)


def _write_note(dag_run: Any, session: Any) -> None:
    if dag_run.note:
        return
    failed = sorted({ti.task_id for ti in dag_run.get_task_instances(state=["failed"], session=session)})
    values = _xcoms(dag_run, session)
    note = note_for(
        evaluation=values.get("evaluate"),
        published=values.get("publish"),
        rejected=values.get("record_rejection"),
        failed_tasks=failed,
        conf_error=values.get("conf_error"),
    )
    if note:
        dag_run.note = note[:MAX_NOTE]


@hookimpl
def on_dag_run_success(dag_run: Any, msg: str) -> None:
    try:
        _annotate(dag_run)
    except Exception:  # a note is a courtesy: it must never disturb the scheduler
        log.exception("could not write the outcome note of %s %s", dag_run.dag_id, dag_run.run_id)


@hookimpl
def on_dag_run_failed(dag_run: Any, msg: str) -> None:
    try:
        _annotate(dag_run)
    except Exception:
        log.exception("could not write the outcome note of %s %s", dag_run.dag_id, dag_run.run_id)
