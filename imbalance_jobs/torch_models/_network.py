"""The tabular MLP module and the JSON-able description it is rebuilt from.

The module is always built from an :class:`MLPArchitecture`, and persistence stores only that description plus
the weights, so loading never needs to unpickle code. Categorical columns arrive as integer indices where 0 is
reserved for unknown / missing / unseen codes (see ``_data.encode_codes``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch
from torch import nn

__all__ = ["NORMS", "MLPArchitecture", "TabularMLP", "auto_embedding_dim"]

NORMS: dict[str, type[nn.Module] | None] = {"batch": nn.BatchNorm1d, "layer": nn.LayerNorm, "none": None}


def auto_embedding_dim(cardinality: int) -> int:
    """fastai's rule of thumb ``1.6 * n ** 0.56`` (n counts the unknown slot), kept within [2, 32]."""
    return int(min(32, max(2, round(1.6 * (cardinality + 1) ** 0.56))))


@dataclass(frozen=True)
class MLPArchitecture:
    """Everything needed to rebuild a :class:`TabularMLP` with the same parameter names and shapes."""

    name: ClassVar[str] = "tabular_mlp"
    version: ClassVar[int] = 1

    n_numeric: int
    cardinalities: tuple[int, ...]
    embedding_dims: tuple[int, ...]
    hidden_sizes: tuple[int, ...]
    dropout: float
    norm: str

    def build(self) -> TabularMLP:
        """A freshly initialised module (uses torch's global RNG; seed it first)."""
        return TabularMLP(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, tagged with the architecture name and version."""
        body = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}
        return {"name": self.name, "version": self.version, **body}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MLPArchitecture:
        """Inverse of :meth:`to_dict`; raises ValueError naming the first field that does not fit."""
        if data.get("name") != cls.name or data.get("version") != cls.version:
            raise ValueError(
                f"architecture must be {cls.name!r} version {cls.version}; "
                f"got {data.get('name')!r} version {data.get('version')!r}"
            )
        names = {f.name for f in fields(cls)}
        missing = sorted(names - data.keys())
        extra = sorted(data.keys() - names - {"name", "version"})
        if missing or extra:
            raise ValueError(f"architecture fields missing {missing}, unknown {extra}")
        arch = cls(**{k: tuple(data[k]) if isinstance(data[k], list) else data[k] for k in names})
        arch.check()
        return arch

    def check(self) -> None:
        """Raise ValueError when a field has the wrong type or range."""
        ints = (self.n_numeric, *self.cardinalities, *self.embedding_dims, *self.hidden_sizes)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in ints):
            raise ValueError(f"architecture sizes must be non-negative ints; got {self}")
        if (
            len(self.cardinalities) != len(self.embedding_dims)
            or min((*self.embedding_dims, *self.hidden_sizes, 1)) < 1
        ):
            raise ValueError(f"architecture needs one embedding dim >= 1 per categorical column; got {self}")
        if self.norm not in NORMS or not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"architecture norm must be one of {sorted(NORMS)} and dropout in [0, 1); got {self}")
        if self.n_numeric + sum(self.embedding_dims) == 0:
            raise ValueError("architecture has no inputs: no numeric columns and no categorical columns")


class TabularMLP(nn.Module):
    """Embeddings for categorical columns, concatenated with numeric columns, then Linear-norm-ReLU-dropout blocks.

    ``forward(numeric, codes)`` returns one logit per row (shape ``(n,)``): the positive-class score.
    """

    def __init__(self, arch: MLPArchitecture):
        super().__init__()
        arch.check()
        self.arch = arch
        self.embeddings = nn.ModuleList(
            nn.Embedding(card + 1, dim) for card, dim in zip(arch.cardinalities, arch.embedding_dims, strict=True)
        )
        width = arch.n_numeric + sum(arch.embedding_dims)
        layers: list[nn.Module] = []
        for size in arch.hidden_sizes:
            layers.append(nn.Linear(width, size))
            norm = NORMS[arch.norm]
            if norm is not None:
                layers.append(norm(size))
            layers.extend([nn.ReLU(), nn.Dropout(arch.dropout)])
            width = size
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, 1)

    def forward(self, numeric: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        parts = [numeric] + [emb(codes[:, i]) for i, emb in enumerate(self.embeddings)]
        hidden = torch.cat(parts, dim=1) if len(parts) > 1 else numeric
        return self.head(self.body(hidden)).squeeze(-1)

    def init_prior(self, positive_rate: float) -> None:
        """Start the output bias at the training prior's logit (Lin et al. 2017) so early focal loss is stable."""
        rate = min(max(positive_rate, 1e-4), 1 - 1e-4)
        with torch.no_grad():
            self.head.bias.fill_(float(torch.logit(torch.tensor(rate))))
