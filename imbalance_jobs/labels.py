"""Label encoding: raw label values (ints or strings) to integer codes the models train on.

Binary: the configured positive class -> 1, the other -> 0. Multi-class: the index in ``label.classes``.
Values are matched by their string form, so ``1`` in YAML matches ``1`` read back from CSV or parquet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from imbalance_jobs.config import LabelConfig
from imbalance_jobs.errors import DataValidationError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["class_names", "encode_labels", "positive_code"]


def class_names(label: LabelConfig) -> list[str]:
    """Names in code order: ``[negative, positive]`` for binary, ``classes`` otherwise."""
    if label.is_binary:
        negative = next(c for c in label.classes if str(c) != str(label.positive))
        return [str(negative), str(label.positive)]
    return [str(c) for c in label.classes]


def positive_code(label: LabelConfig) -> int:
    """The code of the watched minority class (1 for binary)."""
    return class_names(label).index(str(label.positive))


def encode_labels(values: pd.Series, label: LabelConfig, *, source: str = "data") -> np.ndarray:
    """Integer codes for a label column; unknown or missing values raise DataValidationError.

    Examples
    --------
    >>> import pandas as pd
    >>> from imbalance_jobs.config import LabelConfig
    >>> encode_labels(pd.Series(["ok", "defect", "ok"]), LabelConfig(column="s", classes=["ok", "defect"],
    ...               positive="defect")).tolist()
    [0, 1, 0]
    """
    names = class_names(label)
    as_text = values.astype("string")
    codes = as_text.map({n: i for i, n in enumerate(names)})
    bad = as_text[codes.isna()]
    if len(bad):
        seen = sorted({str(v) for v in bad.unique()})[:5]
        raise DataValidationError(
            source, [f"label column '{label.column}': {len(bad)} value(s) outside {names}: {seen}"]
        )
    return codes.to_numpy(dtype=np.int64)
