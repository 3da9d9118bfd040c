"""The Markdown model card published with every version: what it is, what it was trained on, how it did."""

from __future__ import annotations

from typing import Any

from imbalance_jobs.config import PipelineConfig

__all__ = ["render_model_card"]


def render_model_card(config: PipelineConfig, version: str, model: dict[str, Any], verdict: dict[str, Any]) -> str:
    """Render the card; every figure comes from model.json and verdict.json of the same version."""
    cand = verdict["candidate"]["metrics"]
    snap = model["snapshot"]
    fit_on = model["calibration"].get("fit_on", "validation rows")
    lines = [
        f"# {config.name} — version {version}",
        "",
        config.description.strip() or "(no description in the config)",
        "",
        "## Model",
        f"- candidate `{model['candidate']}`: model `{model['model']}`, imbalance strategy `{model['imbalance']}`",
        f"- features: {len(model['features']['numeric'])} numeric, {len(model['features']['categorical'])} categorical",
        f"- label `{model['label']['column']}`, watched class `{model['label']['positive']}`",
        *_blend_lines(model),
        f"- operating threshold: {_num(model.get('threshold'))} "
        f"(objective `{(model.get('threshold_choice') or {}).get('objective', 'argmax')}`, chosen on {fit_on})",
        f"- calibration: `{model['calibration']['method']}` (fit on {fit_on})",
        f"- config hash `{model['config_hash'][:12]}`, run `{model['run_id']}`",
        "",
        "## Training data",
        f"- snapshot `{snap['snapshot_id']}`: {snap['rows']} rows, {snap['lookback_days']} day(s) up to {snap['run_date']}",
        f"- class counts: {snap['label_counts']}",
        "",
        "## Candidates (cross-validated on training rows)",
        "| candidate | model | imbalance | CV mean | CV std | status |",
        "|---|---|---|---|---|---|",
        *[
            f"| {r['name']} | {r['model']} | {r['imbalance']} | {_num(r['cv_mean'])} | {_num(r['cv_std'])} | "
            f"{r['status']}{': ' + r['error'] if r.get('error') else ''} |"
            for r in verdict["leaderboard"]
        ],
        "",
        "## Test results (held-out rows, never used for fitting, threshold or calibration)",
        *_population_lines(verdict),
        *_metric_lines(cand, verdict),
        "",
        "## Promotion verdict",
        f"**{verdict['summary']}**",
        "",
        "| rule | threshold | observed | passed |",
        "|---|---|---|---|",
        *[
            f"| {r['name']} | {_num(r['threshold'])} | {_num(r['observed'])} | {_passed(r['passed'])} |"
            for r in verdict["rules"]
        ],
        "",
        *[f"- {reason}" for reason in verdict["reasons"]],
        *_contract_lines(verdict),
        "",
        "## Caveats",
        "- Scores are calibrated probabilities only as far as the validation rows resemble production.",
        "- Recall on the watched class is monitored nightly; see the monitoring records of this pipeline.",
        "",
    ]
    return "\n".join(lines)


def _blend_lines(model: dict[str, Any]) -> list[str]:
    blend = model.get("blend")
    if not blend:
        return []
    return [f"- a blend ({blend['combine']}) of: {', '.join(f'`{m}`' for m in blend['members'])}"]


def _population_lines(verdict: dict[str, Any]) -> list[str]:
    """Under negative sampling: the figures below are weighted estimates for the unsampled population."""
    population = verdict.get("population")
    if not population:
        return []
    return [
        f"Negative sampling at ingest: {population['note']}. The calibrated probabilities include the prior "
        "correction (odds times beta), so they refer to the unsampled population too; the training data's class "
        "counts are those of the sample.",
        "",
    ]


def _contract_lines(verdict: dict[str, Any]) -> list[str]:
    """Which test rows the verdict rests on (the evaluation contract) and the split's warnings."""
    comparison = verdict.get("comparison")
    if not comparison:
        return []
    rows = f"{comparison['rows']} of {comparison['test_rows']} test rows, {comparison['positives']} positives"
    lines = ["", f"Compared on {rows}: {comparison['reason']}."]
    return lines + [f"- warning: {w}" for w in verdict.get("warnings", [])]


def _metric_lines(cand: dict[str, Any], verdict: dict[str, Any]) -> list[str]:
    champ = (verdict.get("champion") or {}).get("metrics") or {}
    keys = [k for k in ("average_precision", "roc_auc", "precision", "recall", "f1", "brier") if k in cand]
    rows = ["| metric | candidate | champion (same rows) |", "|---|---|---|"]
    rows += [f"| {k} | {_num(cand.get(k))} | {_num(champ.get(k))} |" for k in keys]
    gain = verdict.get("ap_gain")
    if gain:
        rows += [
            "",
            f"AP gain {_num(gain['delta'])}, {gain.get('confidence', '')} CI [{_num(gain['ci_low'])}, {_num(gain['ci_high'])}]",
        ]
    return rows


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _passed(value: bool | None) -> str:
    return {True: "yes", False: "**no**", None: "n/a"}[value]
