"""Base class of the small JSON-able summaries that stages return (and Airflow passes through XCom)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["Summary"]


class Summary(BaseModel):
    """Frozen, JSON-round-trippable; never holds data, only URIs, counts and metrics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
