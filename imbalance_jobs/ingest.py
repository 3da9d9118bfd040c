"""Ingest stage: read the date partitions inside the lookback window into one staged snapshot.

The snapshot manifest records every object read (URI, ETag, size, rows) so a run can be reproduced and audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import RunContext
from imbalance_jobs.errors import IngestError
from imbalance_jobs.features import ROW_ID, required_columns
from imbalance_jobs.storage import ObjectInfo, ObjectStore, join_uri
from imbalance_jobs.summary import Summary

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["IngestSummary", "SnapshotObject", "ingest", "list_partitions", "partition_days", "read_snapshot"]


class SnapshotObject(Summary):
    uri: str
    etag: str
    size: int
    rows: int
    day: dt.date


class IngestSummary(Summary):
    data_uri: str
    manifest_uri: str
    rows: int
    days: list[dt.date]
    objects: int
    label_counts: dict[str, int]
    snapshot_id: str


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
    store: ObjectStore, config: PipelineConfig, run_date: dt.date, lookback_days: int
) -> list[tuple[dt.date, ObjectInfo]]:
    """Data files (by the configured format) in each day's partition; raises IngestError when none exist."""
    suffix = f".{config.source.format}"
    found = []
    for day in partition_days(run_date, lookback_days):
        prefix = partition_uri(config, day)
        prefix = prefix if prefix.endswith("/") else prefix + "/"
        found += [(day, o) for o in store.list(prefix) if o.uri.endswith(suffix) and o.size > 0]
    if not found:
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
    frames, records = [], []
    for day, obj in list_partitions(ctx.store, config, ctx.run_date, ctx.lookback_days):
        frame = _read_object(ctx.store, obj, config, columns)
        frames.append(frame)
        records.append(SnapshotObject(uri=obj.uri, etag=obj.etag, size=obj.size, rows=len(frame), day=day))
    try:
        data = pd.concat(frames, ignore_index=True)
    except (TypeError, ValueError) as exc:
        raise IngestError(f"{records[0].uri} and others: partitions have incompatible schemas ({exc})") from exc
    data = _downcast(data, keep={config.label.column})
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
    if label not in present:
        raise IngestError(f"{uri}: label column '{label}' is missing; columns present: {sorted(present)}")
    missing = [c for c in (columns or []) if c not in present]
    if missing:
        raise IngestError(f"{uri}: configured column(s) {missing} are missing; columns present: {sorted(present)}")


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
        days=sorted({r.day for r in records}),
        objects=len(records),
        label_counts=counts,
        snapshot_id=sid,
    )
