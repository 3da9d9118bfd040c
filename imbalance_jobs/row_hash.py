"""Salted row hashes: a number in [0, 1) per row that depends on the row's key values and the salt only.

The split assigns parts by these numbers (TFX ExampleGen's hash buckets), so a row keeps its part in every
window it appears in, whatever else is in the window, and a champion is never scored on a row it trained on.

The hash must not change when storage does: ingest may hold a column as float32 one night and float64 the next, an
integer column turns float when a null appears, and parquet and CSV give the same ids different dtypes. So values
are canonicalised before hashing: integers (and integral floats) hash as int64, other floats as their float32
value, datetimes as UTC nanoseconds, everything else as its UTF-8 text; missing values have a tag of their own.
The mixing is splitmix64 over numpy arrays plus BLAKE2b for text, written here so no library upgrade can move
a row to another part (the scheme name travels with every split spec).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["HASH_SCHEME", "row_hash_unit"]

HASH_SCHEME = "splitmix64-blake2b@1"
_MISSING, _INT, _FLOAT, _TEXT, _TIME = (np.uint64(t) for t in (1, 2, 3, 4, 5))
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_EXACT = 2.0**53


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection on uint64 that spreads every input bit over the output."""
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _text_hashes(values: np.ndarray) -> np.ndarray:
    import pandas as pd

    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.fromiter(
        (int.from_bytes(hashlib.blake2b(str(u).encode(), digest_size=8).digest(), "little") for u in uniques),
        dtype=np.uint64,
        count=len(uniques),
    )
    return table[np.maximum(codes, 0)]


def _float_parts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(tag, bits) of float values: integral ones as exact int64, others as float32 (or int64 if that is integral)."""
    x = values.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        x32 = x.astype(np.float32).astype(np.float64)
        exact = np.isfinite(x) & (np.abs(x) < _EXACT) & (x == np.floor(x))
        rounded = ~exact & np.isfinite(x32) & (np.abs(x32) < _EXACT) & (x32 == np.floor(x32))
        as_int = np.where(exact, x, np.where(rounded, x32, 0.0)).astype(np.int64).view(np.uint64)
        as_float = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    integral = exact | rounded
    return np.where(integral, _INT, _FLOAT), np.where(integral, as_int, as_float)


def _column_parts(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(tag, value bits) per row of one column, independent of how the column happens to be stored."""
    import pandas as pd

    dtype = series.dtype
    missing = series.isna().to_numpy()
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_integer_dtype(dtype):
        filled = series.fillna(0) if missing.any() else series
        tags, bits = np.full(len(series), _INT), filled.to_numpy().astype(np.int64).view(np.uint64)
    elif pd.api.types.is_float_dtype(dtype):
        tags, bits = _float_parts(series.to_numpy(dtype=np.float64, na_value=np.nan))
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        utc = series.dt.tz_convert("UTC") if getattr(dtype, "tz", None) else series.dt.tz_localize("UTC")
        nanos = utc.dt.tz_localize(None).astype("datetime64[ns]").to_numpy().view(np.int64)
        tags, bits = np.full(len(series), _TIME), nanos.view(np.uint64)
    else:
        tags, bits = np.full(len(series), _TEXT), _text_hashes(series.astype(object).to_numpy())
    return np.where(missing, _MISSING, tags), np.where(missing, np.uint64(0), bits)


def row_hash_unit(frame: pd.DataFrame, columns: Sequence[str], salt: str) -> np.ndarray:
    """A float in [0, 1) per row from ``columns`` (in the order given) and ``salt``; stable across storage types.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"id": [1, 2, 3]})
    >>> b = pd.DataFrame({"id": [3.0, None, 1.0]})
    >>> u, v = row_hash_unit(a, ["id"], "s"), row_hash_unit(b, ["id"], "s")
    >>> bool(u[0] == v[2] and u[2] == v[0]), bool(((0 <= u) & (u < 1)).all())
    (True, True)
    """
    seed = int.from_bytes(hashlib.blake2b(salt.encode(), digest_size=8).digest(), "little")
    h = np.full(len(frame), np.uint64(seed))
    with np.errstate(over="ignore"):
        for position, column in enumerate(columns):
            tags, bits = _column_parts(frame[column])
            h = _mix(h ^ _mix(bits ^ (tags * _GOLDEN) ^ np.uint64(position + 1)))
    return (h >> np.uint64(11)).astype(np.float64) * 2.0**-53
