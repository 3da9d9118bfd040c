"""One exception hierarchy for the whole package.

Every error a user can cause is an :class:`ImbalanceJobsError`; the CLI maps them to exit code 1 and prints
the message on one line, and the DAG layer lets them fail the task with that same message. Anything else is a
bug (exit code 3). Messages name the object or key, the rule, and what was observed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "CandidateError",
    "ConfigError",
    "DataValidationError",
    "ImbalanceJobsError",
    "IngestError",
    "ModelArtifactError",
    "PromotionRejected",
    "PublishError",
    "StorageError",
    "StrategyError",
    "format_key_path",
]


class ImbalanceJobsError(Exception):
    """Base class of every expected, user-facing failure."""

    exit_code = 1


class ConfigError(ImbalanceJobsError):
    """A pipeline config is unreadable or breaks the schema; ``problems`` lists every issue found."""

    def __init__(self, source: str, problems: Sequence[str]):
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  {source} > {p}" for p in self.problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        super().__init__(f"{source}: {len(self.problems)} config {noun}\n{lines}")


class StorageError(ImbalanceJobsError):
    """An object-store call failed after retries, or the object is missing or unreadable."""


class IngestError(ImbalanceJobsError):
    """No usable data for the run: no partitions in the window, unreadable files, missing columns."""


class DataValidationError(ImbalanceJobsError):
    """Critical data expectations failed; ``failures`` holds one readable line per failed expectation."""

    def __init__(self, source: str, failures: Iterable[str], report_uri: str | None = None):
        self.source = source
        self.failures = list(failures)
        self.report_uri = report_uri
        lines = "\n".join(f"  - {f}" for f in self.failures)
        where = f" (report: {report_uri})" if report_uri else ""
        super().__init__(f"{source}: data validation failed{where}\n{lines}")


class StrategyError(ImbalanceJobsError):
    """An imbalance strategy or model does not fit the data or the other settings of its candidate."""


class CandidateError(ImbalanceJobsError):
    """No candidate could be trained, or a named candidate does not exist."""


class ModelArtifactError(ImbalanceJobsError):
    """A stored model is tampered with, needs untrusted types, or cannot be rebuilt."""


class PromotionRejected(ImbalanceJobsError):
    """A promotion or rollback was refused (a lost race on the champion pointer, a failed check)."""


class PublishError(ImbalanceJobsError):
    """Publishing a version failed; the champion pointer was not moved."""


def format_key_path(parts: Iterable[object]) -> str:
    """Render a location inside a config as ``candidates[2] > resampler > k_neighbors``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int) and out:
            out[-1] = f"{out[-1]}[{part}]"
        else:
            out.append(str(part))
    return " > ".join(out)
