"""Data validation stage with Great Expectations 1.x: suite built from ``config.validation``, run in an ephemeral
context, reported as compact JSON plus the rendered Data Docs page. GE is imported only when a suite runs.

Check groups (``validation.warn_only`` names them) and their expectations:

=====================  ==============================================================================
columns                expect_column_to_exist: label, listed and inferred features, timestamps, ranged columns
types                  expect_column_values_to_be_in_type_list: numeric features numeric, timestamps datetime
label                  expect_column_values_to_not_be_null, _to_be_in_set (string form), unique count >= 2
min_rows               expect_table_row_count_to_be_between
minority_share         expect_column_mean_to_be_between on the 0/1 indicator of ``label.positive``
class_shares           expect_column_mean_to_be_between on each listed class's indicator
min_minority_count     expect_column_sum_to_be_between: every class has ``min_minority_count`` rows
null_fraction          expect_column_values_to_not_be_null with ``mostly = 1 - limit`` per feature
value_ranges           expect_column_values_to_be_between
duplicates             expect_compound_columns_to_be_unique over features + label (``_row_id`` ignored)
=====================  ==============================================================================

Bounded memory: columns and types run once on the snapshot's schema; label values and nulls, null fractions and
value ranges run in GE batch by batch (about ``BATCH_ROWS`` rows; small source objects share a batch and are told
apart by GE's unexpected row indices), each manifest object's result is the sum over its rows and the window's the
sum over objects, and a failure names the objects (day and URI) it failed in. Row count, classes, class shares,
class counts and duplicates are decided once on the window's counts (duplicates by 64-bit row hashes); with
negative sampling at ingest, class shares read the source's counts before sampling (``population_label_counts``).
"""

from imbalance_jobs.validation._report import (
    ExpectationResult,
    PartitionReport,
    Population,
    ValidationReport,
    validate_frame,
    validate_snapshot,
)
from imbalance_jobs.validation._snapshot import BATCH_ROWS, FrameSnapshot, ParquetSnapshot, Partition
from imbalance_jobs.validation._stage import ValidationSummary, validate

__all__ = [
    "BATCH_ROWS",
    "ExpectationResult",
    "FrameSnapshot",
    "ParquetSnapshot",
    "Partition",
    "PartitionReport",
    "Population",
    "ValidationReport",
    "ValidationSummary",
    "validate",
    "validate_frame",
    "validate_snapshot",
]
