"""The staged snapshot as partitions: each source object's rows, read a few row groups at a time.

Ingest writes ``data.parquet`` with row groups that never span two source objects, in manifest order, so the
staged rows of manifest object k are the next ``rows`` rows. Validation reads the row groups in order (only the
columns the checks need) into batches of about ``batch_rows`` rows: a large object is cut into several batches,
small consecutive objects share one, and each batch says which rows belong to which object (:data:`Span`). Memory
depends on the batch size, not on the window. Row groups that span objects (snapshots staged before streaming
ingest) are cut the same way, so old snapshots validate too. A manifest whose rows do not add up to the file's is not trusted: the snapshot is
then validated as one partition named by its URI, and the report says why.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow.parquet as pq

log = logging.getLogger(__name__)

BATCH_ROWS = 1 << 20
"""Rows per GE batch: ~1 M rows of a 20-column window is ~200 MB of pandas, the bulk of validate's peak.
Small objects share a batch because GE's cost per batch is mostly fixed (~0.1-0.3 s for a dozen expectations)."""


@dataclass(frozen=True)
class Partition:
    """One source object's staged rows: ``start`` is its first row in the snapshot."""

    uri: str
    day: dt.date | None
    rows: int
    start: int


Span = tuple[int, int, int]
"""Rows of one partition inside a batch: (partition index, first row, end row), as positions in the snapshot."""


class Snapshot(Protocol):
    """Where validation reads rows from: a staged parquet file, or a frame already in memory."""

    source: str
    partitions: Sequence[Partition]
    note: str | None

    def empty(self) -> pd.DataFrame:
        """No rows, every column with the dtype its batches will have (the plan is built from it)."""
        ...

    def batches(self, columns: Sequence[str]) -> Iterator[tuple[pd.DataFrame, list[Span]]]:
        """The rows in batches of about ``batch_rows`` rows, each with the partitions it holds as spans.

        A batch's index is each row's position in the snapshot when it holds more than one span.
        """
        ...


class FrameSnapshot:
    """A frame in memory as one partition (``validate_frame``)."""

    def __init__(self, frame: pd.DataFrame, *, source: str):
        self.source, self.note = source, None
        self._frame = frame
        self.partitions = [Partition(uri=source, day=None, rows=len(frame), start=0)]

    def empty(self) -> pd.DataFrame:
        return self._frame.iloc[:0]

    def batches(self, columns: Sequence[str]) -> Iterator[tuple[pd.DataFrame, list[Span]]]:
        yield self._frame[list(columns)], [(0, 0, len(self._frame))]


class ParquetSnapshot:
    """A staged ``data.parquet`` on local disk, cut into partitions by the manifest's ``objects``."""

    def __init__(
        self,
        path: Path,
        *,
        source: str,
        objects: Sequence[dict[str, Any]] | None,
        batch_rows: int = BATCH_ROWS,
    ):
        import pyarrow.parquet as pq

        self.source, self.note = source, None
        self._file: pq.ParquetFile = pq.ParquetFile(path)
        self._batch_rows = batch_rows
        meta = self._file.metadata
        self._groups: list[tuple[int, int]] = []  # (first row, rows) of each row group
        start = 0
        for i in range(meta.num_row_groups):
            n = meta.row_group(i).num_rows
            self._groups.append((start, n))
            start += n
        self.partitions = self._cut(objects or [], meta.num_rows)

    def _cut(self, objects: Sequence[dict[str, Any]], total: int) -> list[Partition]:
        read = [o for o in objects if not o.get("skipped") and int(o.get("rows") or 0) > 0]
        staged = sum(int(o["rows"]) for o in read)
        if not objects:
            self.note = "no snapshot manifest: the snapshot was validated as one partition"
        elif staged != total:
            self.note = (
                f"the manifest's objects hold {staged} staged row(s) but the snapshot has {total}: "
                f"the snapshot was validated as one partition"
            )
            log.warning("%s: %s", self.source, self.note)
        if self.note is not None:
            return [Partition(uri=self.source, day=None, rows=total, start=0)]
        parts, start = [], 0
        for obj in read:
            day = dt.date.fromisoformat(str(obj["day"])) if obj.get("day") else None
            parts.append(Partition(uri=str(obj["uri"]), day=day, rows=int(obj["rows"]), start=start))
            start += int(obj["rows"])
        return parts

    def empty(self) -> pd.DataFrame:
        return self._file.schema_arrow.empty_table().to_pandas()

    def batches(self, columns: Sequence[str]) -> Iterator[tuple[pd.DataFrame, list[Span]]]:
        import pyarrow as pa

        bounds = [(p.start, p.start + p.rows) for p in self.partitions]
        pending: list[pa.Table] = []
        spans: list[Span] = []
        rows, first, k = 0, 0, 0
        for i, (g_start, g_rows) in enumerate(self._groups):
            g_end = g_start + g_rows
            while k < len(bounds) and bounds[k][1] <= g_start:
                k += 1
            j = k
            while j < len(bounds) and bounds[j][0] < g_end:
                _extend(spans, (j, max(bounds[j][0], g_start), min(bounds[j][1], g_end)))
                j += 1
            pending.append(self._file.read_row_group(i, columns=list(columns)))
            rows += g_rows
            if rows >= self._batch_rows:
                yield _frame(pending, first), spans
                pending, spans, rows, first = [], [], 0, g_end
        if pending or not self._groups:
            yield (_frame(pending, first) if pending else self.empty()[list(columns)]), spans


def _extend(spans: list[Span], span: Span) -> None:
    """Append ``span``, joining it to the last one when it continues the same partition."""
    if spans and spans[-1][0] == span[0] and spans[-1][2] == span[1]:
        spans[-1] = (span[0], spans[-1][1], span[2])
    else:
        spans.append(span)


def _frame(tables: list[Any], first: int) -> pd.DataFrame:
    import pandas as pd
    import pyarrow as pa

    frame = pa.concat_tables(tables).to_pandas()
    frame.index = pd.RangeIndex(first, first + len(frame))
    return frame
