"""The DAG-run note: one line that says what a retraining run decided, from its task results."""

from __future__ import annotations

import pytest
from imbalance_run_notes import note_for

pytestmark = pytest.mark.airflow
SUMMARY = "candidate AP 0.6100, recall 0.4000; champion AP 0.5700, recall 0.4100; AP gain 0.0400 (CI 0.0100 .. 0.0700)"


def evaluation(decision: str, champion: str | None = "20261126T020000Z-aaaaaa") -> dict:
    verb = {"promote": "PROMOTE", "reject": "KEEP CHAMPION", "insufficient_evidence": "INSUFFICIENT EVIDENCE"}
    return {"decision": decision, "summary": f"{verb[decision]}: {SUMMARY}", "champion_version": champion}


def test_note_of_a_promotion_names_the_new_version_and_the_gain() -> None:
    note = note_for(
        evaluation=evaluation("promote"),
        published={"promoted": True, "version": "20261127T020000Z-36a754"},
        rejected=None,
        failed_tasks=[],
    )
    assert note == f"PROMOTED 20261127T020000Z-36a754: {SUMMARY}"


def test_note_of_a_rejection_says_which_champion_was_kept() -> None:
    note = note_for(evaluation=evaluation("reject"), published=None, rejected={"note": "not promoted"}, failed_tasks=[])
    assert note == f"KEPT champion 20261126T020000Z-aaaaaa (reject): {SUMMARY}"


def test_note_of_a_dry_run_says_nothing_was_published() -> None:
    note = note_for(
        evaluation=evaluation("promote"),
        published=None,
        rejected={"note": "dry run: nothing published"},
        failed_tasks=[],
    )
    assert note == f"DRY RUN, nothing published (verdict promote): {SUMMARY}"


def test_note_of_a_failed_run_names_the_failed_tasks() -> None:
    note = note_for(evaluation=None, published=None, rejected=None, failed_tasks=["split", "validate"])
    assert note == "FAILED at split, validate: nothing was published; see the failed task's log."


def test_note_of_refused_conf_quotes_the_reason() -> None:
    note = note_for(evaluation=None, published=None, rejected=None, failed_tasks=["prepare"], conf_error="bad key")
    assert note == "CONF REFUSED, nothing ran: bad key"


def test_no_note_before_anything_was_decided() -> None:
    assert note_for(evaluation=None, published=None, rejected=None, failed_tasks=[]) is None
