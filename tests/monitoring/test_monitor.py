"""The monitor stage on the real S3 server with a real champion: the record, its figures, trends and rules."""

from __future__ import annotations

import pytest

from imbalance_jobs.context import PipelineLayout
from imbalance_jobs.monitoring import MonitorRecord
from imbalance_jobs.publishing import read_champion
from tests.monitoring.helpers import DRIFT, FRESH_ROWS, day, monitor_day, write_day

pytestmark = pytest.mark.integration


def record_of(store, config, when) -> MonitorRecord:
    return MonitorRecord.model_validate(store.get_json(PipelineLayout(config).monitoring_uri(when)))


def test_monitor_without_a_champion_writes_a_no_champion_record_and_raises_nothing(store, pipeline) -> None:
    config = pipeline(champion=False, alerts={"webhook": {}})
    write_day(store, config, day(1))
    summary = monitor_day(store, config, day(1))
    assert (summary.status, summary.champion_version, summary.alerts) == ("no_champion", None, [])
    assert record_of(store, config, day(1)).status == "no_champion"


def test_monitor_scores_the_champion_at_its_threshold_with_intervals(store, pipeline) -> None:
    config = pipeline()
    write_day(store, config, day(1))
    summary = monitor_day(store, config, day(1))
    record = record_of(store, config, day(1))
    layout = PipelineLayout(config)
    champion = read_champion(store, layout)
    model = store.get_json(layout.version_uri(champion.version, "model.json"))
    figures = record.figures
    assert (summary.status, summary.record_uri) == ("ok", layout.monitoring_uri(day(1)))
    assert (record.champion_version, figures.threshold) == (champion.version, model["threshold"])
    assert (figures.rows, figures.recall.threshold) == (FRESH_ROWS, model["threshold"])
    assert 0 < figures.positives < figures.rows
    for ci in (figures.recall, figures.precision, figures.average_precision):
        assert ci.low <= ci.point <= ci.high
        assert (ci.n_resamples, ci.seed) == (200, config.seed)
    assert record.data_objects == [f"s3://{config.source.bucket}/{config.name}/dt={day(1)}/part-0.parquet"]


def test_monitor_compares_with_the_figures_recorded_at_promotion(store, pipeline) -> None:
    config = pipeline()
    write_day(store, config, day(1))
    monitor_day(store, config, day(1))
    record = record_of(store, config, day(1))
    layout = PipelineLayout(config)
    metrics = store.get_json(layout.version_uri(record.champion_version, "metrics.json"))["candidate"]
    assert record.promotion.recall == metrics["recall"]
    assert record.promotion.recall_ci.low <= metrics["recall"] <= record.promotion.recall_ci.high
    assert record.promotion.average_precision == metrics["average_precision"]
    assert record.recall_vs_promotion == pytest.approx(record.figures.recall.point - metrics["recall"])


def test_monitor_rerun_of_a_day_overwrites_its_record_and_alerts_nothing_new(store, pipeline) -> None:
    config = pipeline(alerts={"webhook": {}})
    write_day(store, config, day(1), drift=DRIFT)
    first = monitor_day(store, config, day(1), run_id="a")
    second = monitor_day(store, config, day(1), run_id="b")
    days = [o.uri for o in store.list(PipelineLayout(config).monitoring_prefix)]
    assert days == [PipelineLayout(config).monitoring_uri(day(1))]
    assert (first.recall, first.recall_ci) == (second.recall, second.recall_ci)
    assert [a.rule for a in first.alerts] == ["recall_floor"]
    assert second.alerts == []
    assert record_of(store, config, day(1)).run_id == "b"


def test_monitor_shows_the_trend_of_previous_days(store, pipeline) -> None:
    config = pipeline()
    for offset in (1, 2, 3):
        write_day(store, config, day(offset))
        monitor_day(store, config, day(offset))
    record = record_of(store, config, day(3))
    assert [p.day for p in record.previous] == [day(2), day(1)]
    assert record.previous[0].recall == record_of(store, config, day(2)).figures.recall.point
    assert record.recall_vs_previous == pytest.approx(record.figures.recall.point - record.previous[0].recall)


def test_monitor_day_with_few_positives_is_a_notice_not_an_alarm(store, pipeline) -> None:
    config = pipeline(alerts={"webhook": {}})
    write_day(store, config, day(1), rows=200, positive_rate=0.05, drift=DRIFT)
    summary = monitor_day(store, config, day(1))
    assert summary.status == "insufficient_evidence"
    assert summary.rules == {
        "recall_floor": "insufficient_evidence",
        "recall_drop": "insufficient_evidence",
        "insufficient_evidence": "breach",
    }
    (notice,) = summary.alerts
    assert (notice.rule, notice.kind, notice.severity) == ("insufficient_evidence", "notice", "info")
    assert notice.observed < notice.threshold == 30.0


def test_monitor_consecutive_days_alarm_only_on_the_nth_breaching_day(store, pipeline) -> None:
    config = pipeline(monitoring={"consecutive_days": 2}, alerts={"webhook": {}})
    statuses, alerts = [], []
    for offset in (1, 2, 3):
        write_day(store, config, day(offset), drift=DRIFT)
        summary = monitor_day(store, config, day(offset))
        statuses.append(summary.rules["recall_floor"])
        alerts.append([a.rule for a in summary.alerts])
    assert statuses == ["ok", "breach", "breach"]
    assert alerts == [[], ["recall_floor"], []]
    streaks = [record_of(store, config, day(k)).rules[0].evaluation.streak for k in (1, 2, 3)]
    assert streaks == [1, 2, 3]


def test_monitor_consecutive_days_need_calendar_neighbours(store, pipeline) -> None:
    config = pipeline(monitoring={"consecutive_days": 2})
    for offset in (1, 3):  # day 2 was never monitored
        write_day(store, config, day(offset), drift=DRIFT)
        summary = monitor_day(store, config, day(offset))
    assert summary.rules["recall_floor"] == "ok"


def test_monitor_recall_drop_rule_compares_with_promotion_recall(store, pipeline) -> None:
    config = pipeline(
        monitoring={"recall_floor": 0.0, "max_recall_drop": 0.1, "decide_on": "point"}, alerts={"webhook": {}}
    )
    write_day(store, config, day(1), drift=DRIFT)
    summary = monitor_day(store, config, day(1))
    (alarm,) = summary.alerts
    assert (alarm.rule, summary.rules["recall_floor"]) == ("recall_drop", "ok")
    assert alarm.threshold == pytest.approx(summary.promotion_recall - 0.1)
    assert alarm.observed == summary.recall < alarm.threshold


def test_monitor_missing_partition_records_no_data_and_a_notice(store, pipeline) -> None:
    config = pipeline(alerts={"webhook": {}})
    summary = monitor_day(store, config, day(1))
    assert (summary.status, summary.rows) == ("no_data", 0)
    assert [(a.rule, a.kind) for a in summary.alerts] == [("insufficient_evidence", "notice")]
    assert "no data files" in record_of(store, config, day(1)).note


def test_monitor_disabled_writes_nothing(store, pipeline) -> None:
    config = pipeline(monitoring={"enabled": False})
    write_day(store, config, day(1))
    summary = monitor_day(store, config, day(1))
    assert (summary.status, summary.record_uri) == ("disabled", None)
    assert store.list(PipelineLayout(config).monitoring_prefix) == []


def test_monitor_recovers_the_validation_rule_from_the_runs_report(store, pipeline) -> None:
    from imbalance_jobs.alerts import AlertLinks, RuleEvaluation, raise_alerts

    config = pipeline(alerts={"webhook": {}})
    failed = RuleEvaluation(rule="validation_failed", status="breach", message="bad data")
    raise_alerts(store, config, [failed], day=day(0), run_id="old", champion_version=None, links=AlertLinks())
    layout = PipelineLayout(config)
    store.put_json(layout.run_uri("nightly", "validation", "report.json"), {"success": True, "rows": 1500})
    write_day(store, config, day(1))
    summary = monitor_day(store, config, day(1), run_id="nightly")
    assert [(a.rule, a.kind) for a in summary.alerts] == [("validation_failed", "recovery")]


def test_monitor_day_inside_the_champions_window_is_judged_on_rows_it_never_saw(store, pipeline) -> None:
    """The champion trained on a window ending at day(0): that day's rows it fit on are not used to judge it."""
    config = pipeline()
    write_day(store, config, day(0))
    summary = monitor_day(store, config, day(0))
    record = record_of(store, config, day(0))
    assert 0 < record.figures.rows < 0.3 * FRESH_ROWS  # the champion's test range is 20% of the hash space
    assert summary.rows == record.figures.rows
    assert f"{day(0)} was in champion {record.champion_version}'s training window" in record.note
    assert "rows are test rows under champion" in record.note
