"""Ingest stage: read the date partitions inside the lookback window into one staged snapshot.

The snapshot manifest records every object read (URI, ETag, size, rows) so a run can be reproduced and audited.
Partitions must agree with each other: a column whose kind changes between days (numbers one day, text the next)
or numbers stored as text fail as data validation (exit 5) naming the day, the column and both types, and label
values are matched as labels (``0.0`` is the class ``0`` when the config says 0/1).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import DataValidationError, IngestError
from imbalance_jobs.features import ROW_ID, required_columns
from imbalance_jobs.storage import ObjectInfo, ObjectStore, join_uri
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

__all__ = ["IngestSummary", "SnapshotObject", "ingest", "list_partitions", "partition_days", "read_snapshot"]


class SnapshotObject(Summary):
    uri: str
    etag: str
    size: int
    rows: int
    day: dt.date
    skipped: str | None = None
    """Why the object was not read (a zero-byte file: an interrupted upload or an empty export), else None."""


class IngestSummary(Summary):
    data_uri: str
    manifest_uri: str
    rows: int
    days: list[dt.date]
    objects: int
    label_counts: dict[str, int]
    snapshot_id: str
    skipped: list[str] = []
    """Data files in the window that were not read, each with the reason (also in the manifest)."""


def partition_days(run_date: dt.date, lookback_days: int) -> list[dt.date]:
    """The days in the window, oldest first; the run date is the newest.

    Examples
    --------
    >>> partition_days(dt.date(2026, 11, 27), 3)
    [datetime.date(2026, 11, 25), datetime.date(2026, 11, 26), datetime.date(2026, 11, 27)]
    """
    return [run_date - dt.timedelta(days=k) for k in range(lookback_days - 1, -1, -1)]


def partition_uri(config: PipelineConfig, day: dt.date) -> str:
    folder = config.source.prefix.format(date=day.isoformat(), pipeline=config.name)
    return join_uri(f"s3://{config.source.bucket}", folder)


def list_partitions(
    store: ObjectStore, config: PipelineConfig, run_date: dt.date, lookback_days: int, *, include_empty: bool = False
) -> list[tuple[dt.date, ObjectInfo]]:
    """Data files (by the configured format) in each day's partition; raises IngestError when none holds data.

    Zero-byte files are left out unless ``include_empty`` (ingest lists them in the manifest as skipped).
    """
    suffix = f".{config.source.format}"
    found = []
    for day in partition_days(run_date, lookback_days):
        prefix = partition_uri(config, day)
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        found += [(day, o) for o in store.list(prefix) if o.uri.endswith(suffix) and (include_empty or o.size > 0)]
    if not any(o.size > 0 for _, o in found):
        window = partition_days(run_date, lookback_days)
        template = join_uri(f"s3://{config.source.bucket}", config.source.prefix)
        raise IngestError(
            f"{template}: no {config.source.format} files in any partition from {window[0]} to {window[-1]} "
            f"(lookback {lookback_days} day(s)); check source.prefix and the run date"
        )
    return found


def read_snapshot(ctx: RunContext) -> tuple[pd.DataFrame, list[SnapshotObject]]:
    """Read every partition file in the window into one frame with a stable ``_row_id`` column."""
    import pandas as pd

    config = ctx.config
    columns = required_columns(config)
    frames, read, records = [], [], []
    for day, obj in list_partitions(ctx.store, config, ctx.run_date, ctx.lookback_days, include_empty=True):
        if obj.size == 0:
            why = "zero bytes: an interrupted upload or an empty export; not read"
            log.warning("%s: %s", obj.uri, why)
            records.append(SnapshotObject(uri=obj.uri, etag=obj.etag, size=0, rows=0, day=day, skipped=why))
            continue
        frame = _read_object(ctx.store, obj, config, columns)
        frames.append(frame)
        read.append(SnapshotObject(uri=obj.uri, etag=obj.etag, size=obj.size, rows=len(frame), day=day))
        records.append(read[-1])
    template = join_uri(f"s3://{config.source.bucket}", config.source.prefix)
    failures = schema_drift(frames, read, skip={config.label.column})
    if failures:
        raise DataValidationError(template, failures)
    try:
        data = pd.concat(frames, ignore_index=True)
    except (TypeError, ValueError) as exc:
        raise IngestError(f"{read[0].uri} and others: partitions have incompatible schemas ({exc})") from exc
    failures = numbers_as_text(data, config)
    if failures:
        raise DataValidationError(template, failures)
    data[config.label.column] = normalize_labels(data[config.label.column], config.label.classes)
    data = _downcast(data, keep={config.label.column, *(config.split.key or [])})  # row keys hash exactly
    data.insert(0, ROW_ID, np.arange(len(data), dtype=np.int64))
    return data, records


def _read_object(store: ObjectStore, obj: ObjectInfo, config: PipelineConfig, columns: list[str] | None):
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    raw = store.get_bytes(obj.uri)
    try:
        if config.source.format == "parquet":
            schema = pq.read_schema(io.BytesIO(raw))
            _check_columns(obj.uri, schema.names, config, columns)
            table = pq.read_table(io.BytesIO(raw), columns=columns)
        else:
            table = pacsv.read_csv(io.BytesIO(raw))
            _check_columns(obj.uri, table.column_names, config, columns)
            table = table.select(columns) if columns else table
    except IngestError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise IngestError(f"{obj.uri}: cannot read {config.source.format} file ({exc})") from exc
    frame = table.to_pandas()
    return frame


def _check_columns(uri: str, present: list[str], config: PipelineConfig, columns: list[str] | None) -> None:
    label = config.label.column
    if len(present) == 1 and label not in present:
        found = [d for d in (";", "\t", "|") if d in present[0]]
        if found:
            raise IngestError(
                f"{uri}: the header is one column {present[0][:60]!r} that contains {found[0]!r}; source CSV files "
                f"must be comma-separated (this one looks {found[0]!r}-delimited)"
            )
    if label not in present:
        raise IngestError(f"{uri}: label column '{label}' is missing; columns present: {sorted(present)}")
    missing = [c for c in (columns or []) if c not in present]
    if missing:
        raise IngestError(f"{uri}: configured column(s) {missing} are missing; columns present: {sorted(present)}")


def column_kind(series: pd.Series) -> str | None:
    """``number``, ``bool``, ``text``, ``datetime`` or ``other``; ``None`` for a column with no values."""
    import pandas as pd

    values = series.dropna()
    if values.empty:
        return None
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    kinds = {type(v) for v in values}
    if kinds <= {str}:
        return "text"
    if all(isinstance(v, int | float | np.number) and not isinstance(v, bool) for v in values):
        return "number"
    return "other"


def schema_drift(frames: list[pd.DataFrame], records: list[SnapshotObject], *, skip: set[str]) -> list[str]:
    """One failure per column whose kind differs between partitions, naming both days, files and types."""
    failures = []
    columns = dict.fromkeys(c for f in frames for c in f.columns if c not in skip)
    for col in columns:
        first: tuple[str, SnapshotObject, str] | None = None
        for frame, rec in zip(frames, records, strict=True):
            if col not in frame.columns or (kind := column_kind(frame[col])) is None:
                continue
            if first is None:
                first = (kind, rec, str(frame[col].dtype))
            elif kind != first[0]:
                failures.append(
                    f"column '{col}' changes type between days: {first[0]} ({first[2]}) on {first[1].day} "
                    f"in {first[1].uri}, {kind} ({frame[col].dtype}) on {rec.day} in {rec.uri}; "
                    f"every partition must store it the same way"
                )
                break
    return failures


def numbers_as_text(frame: pd.DataFrame, config: PipelineConfig) -> list[str]:
    """Feature columns whose every value is a number written as text: never guessed to be categories."""
    import pandas as pd

    feats = config.features
    skip = {config.label.column, feats.timestamp, *feats.exclude, *(feats.categorical or [])}
    skip |= {config.split.timestamp_column, *(config.split.key or [])}
    failures = []
    for col in frame.columns:
        if col in skip or column_kind(frame[col]) != "text":
            continue
        values = frame[col].dropna()
        if pd.to_numeric(values, errors="coerce").notna().all():
            failures.append(
                f"column '{col}' holds numbers stored as text (e.g. {values.iloc[0]!r}) on every day; store it as "
                f"a number, or list it under features.categorical if the numbers are category codes"
            )
    return failures


def normalize_labels(values: pd.Series, classes: list[int | str]) -> pd.Series:
    """Label values matched to the configured classes as labels: ``0.0``, ``0`` and ``"0"`` are class ``0``.

    Values matching no class are kept as their text so validation can name them; the column is then all text.
    """
    import pandas as pd

    by_text = {str(c): c for c in classes}
    uniques = values.dropna().unique()
    texts = {u: _label_text(u) for u in uniques}
    if not all(t in by_text for t in texts.values()):
        return values.map(texts).astype("string")
    if pd.api.types.is_integer_dtype(values.dtype) or not len(uniques):
        return values
    mapped = values.map({u: by_text[t] for u, t in texts.items()})
    if all(isinstance(c, int) for c in classes) and mapped.notna().all():
        return mapped.astype(np.int64)
    return mapped


def _label_text(value: object) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _downcast(frame: pd.DataFrame, *, keep: set[str]) -> pd.DataFrame:
    """float64 -> float32 where values round-trip within 1e-6 relative; ints to the smallest type that holds them."""
    import pandas as pd

    out = {}
    for col in frame.columns:
        series = frame[col]
        if col in keep:
            out[col] = series
        elif series.dtype == np.float64:
            as32 = series.to_numpy().astype(np.float32)
            close = np.allclose(as32, series.to_numpy(), rtol=1e-6, atol=0, equal_nan=True)
            out[col] = series.astype(np.float32) if close else series
        elif pd.api.types.is_integer_dtype(series.dtype) and series.dtype.kind == "i":
            out[col] = pd.to_numeric(series, downcast="integer")
        else:
            out[col] = series
    return pd.DataFrame(out)


def _sample(frame: pd.DataFrame, fraction: float, label: str, seed: int) -> pd.DataFrame:
    """A stratified sample that keeps every class's share (for quick trial runs)."""
    if fraction >= 1.0:
        return frame
    parts = [g.sample(frac=fraction, random_state=seed) for _, g in frame.groupby(label, sort=True)]
    import pandas as pd

    return pd.concat(parts).sort_values(ROW_ID, kind="stable").reset_index(drop=True)


def snapshot_id(records: list[SnapshotObject]) -> str:
    digest = hashlib.sha256("\n".join(f"{r.uri} {r.etag} {r.size}" for r in records).encode())
    return digest.hexdigest()[:16]


def ingest(ctx: RunContext) -> IngestSummary:
    """Stage: read the window, stage ``data.parquet`` and ``manifest.json`` under the run prefix."""
    config = ctx.config
    data, records = read_snapshot(ctx)
    data = _sample(data, ctx.options.sample_fraction, config.label.column, config.seed)
    counts = {str(k): int(v) for k, v in data[config.label.column].value_counts(dropna=False).sort_index().items()}
    data_uri, manifest_uri = ctx.staging_uri("ingest", "data.parquet"), ctx.staging_uri("ingest", "manifest.json")
    sid = snapshot_id(records)
    manifest = {
        "pipeline": config.name,
        "run_id": ctx.run_id,
        "run_date": ctx.run_date.isoformat(),
        "lookback_days": ctx.lookback_days,
        "sample_fraction": ctx.options.sample_fraction,
        "snapshot_id": sid,
        "rows": len(data),
        "label_counts": counts,
        "objects": [r.to_json_dict() for r in records],
    }
    ctx.store.put_frame(data_uri, data)
    ctx.store.put_json(manifest_uri, manifest)
    return IngestSummary(
        data_uri=data_uri,
        manifest_uri=manifest_uri,
        rows=len(data),
        days=sorted({r.day for r in records if r.skipped is None}),
        objects=sum(r.skipped is None for r in records),
        label_counts=counts,
        snapshot_id=sid,
        skipped=[f"{r.uri}: {r.skipped}" for r in records if r.skipped],
    )
