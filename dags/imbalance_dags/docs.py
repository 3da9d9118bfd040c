"""The ``doc_md`` of a retraining DAG: what the pipeline does, how to trigger it, where its outputs go."""

from __future__ import annotations

from pathlib import Path

from imbalance_jobs.config import PipelineConfig
from imbalance_jobs.context import PipelineLayout

__all__ = ["render_doc"]


def render_doc(config: PipelineConfig, source: Path) -> str:
    """Markdown shown on the DAG page: description, data, candidates, gate, outputs, trigger options."""
    layout = PipelineLayout(config)
    src = config.source
    parts = [
        f"# {config.name}",
        config.description.strip() or "Nightly retraining of a rare-event classifier.",
        f"**Config:** `{source.name}` · **Schedule:** `{config.schedule or 'manual only'}` · **Seed:** {config.seed}",
        "## Data",
        f"Reads `{src.format}` partitions `s3://{src.bucket}/{src.prefix}` for the {src.lookback_days} day(s) "
        f"ending at the data date; label `{config.label.column}`, positive class `{config.label.positive!r}`. "
        f"Validation stops the run (and nothing is published) when a critical expectation fails.",
        "## Candidates",
        _candidate_table(config),
        "## Promotion gate",
        _gate_text(config),
        "## Outputs",
        f"- staging of a run: `{layout.root}/runs/<run id>/` (validation report, splits, candidates, verdict)\n"
        f"- published versions (immutable): `{layout.versions_prefix}<version>/`\n"
        f"- champion pointer (conditional writes only): `{layout.champion_uri}`",
        "## Triggering by hand",
        "The trigger form sets the data date or lookback, a subset of candidates, a sample fraction for quick "
        "runs, a dry run (everything but publishing) and a forced promote/reject, which needs a reason. Keys the "
        "form does not know are rejected by the first task.",
        "The same run from a shell, for debugging: "
        f"`imbalance-jobs run configs/{source.name} --date YYYY-MM-DD` (same stages, same verdict).",
    ]
    return "\n\n".join(parts)


def _candidate_table(config: PipelineConfig) -> str:
    rows = ["| candidate | model | imbalance strategy | queue |", "|---|---|---|---|"]
    for cand in config.training.candidates:
        queue = f"`{config.airflow.gpu_queue}` (pool `{config.airflow.gpu_pool}`)" if cand.is_torch else "default"
        rows.append(f"| `{cand.name}` | {cand.model} | {cand.imbalance} | {queue} |")
    picked = f"chosen by cross-validated `{config.training.selection_metric}` ({config.training.cv_folds} folds)"
    return "\n".join(rows) + f"\n\nThe best candidate is {picked}, then thresholded and calibrated on validation rows."


def _gate_text(config: PipelineConfig) -> str:
    gate = config.gate
    return (
        "Champion and candidate are scored on the same untouched test rows in this run. Promote only when AP >= "
        f"{gate.min_average_precision}, the lower bound of the paired AP gain >= {gate.min_ap_gain}, minority recall "
        f">= {gate.min_recall} (drop <= {gate.max_recall_drop}), with at least {gate.min_test_positives} test "
        "positives; otherwise the rejection and its reasons are recorded."
    )
