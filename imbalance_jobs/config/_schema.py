"""The typed pipeline config: one YAML file per pipeline, validated here and nowhere else.

Names of models and imbalance strategies are plain string tuples so that the DAG factory can validate a config
at parse time without importing scikit-learn; ``tests/test_registries.py`` keeps them equal to the registries.
"""

from __future__ import annotations

import re
import string
import typing
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

MODEL_NAMES = (
    "logistic_regression",
    "random_forest",
    "extra_trees",
    "hist_gradient_boosting",
    "torch_mlp",
)
SKLEARN_MODEL_NAMES = MODEL_NAMES[:4]
TORCH_MODEL_NAMES = ("torch_mlp",)
STRATEGY_NAMES = (
    "none",
    "class_weight",
    "random_over",
    "random_under",
    "smote",
    "borderline_smote",
    "svm_smote",
    "adasyn",
    "smotenc",
    "smoten",
    "tomek",
    "enn",
    "smote_tomek",
    "smote_enn",
)
RESAMPLER_NAMES = tuple(n for n in STRATEGY_NAMES if n not in ("none", "class_weight"))
SMOTE_FAMILY = ("smote", "borderline_smote", "svm_smote", "adasyn", "smotenc", "smote_tomek", "smote_enn")
VALIDATION_CHECKS = (
    "columns",
    "types",
    "label",
    "min_rows",
    "minority_share",
    "class_shares",
    "min_minority_count",
    "null_fraction",
    "value_ranges",
    "duplicates",
)

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
OpenFraction = Annotated[float, Field(gt=0.0, lt=1.0)]
LabelValue = int | str
_NAME = re.compile(r"^[a-z][a-z0-9_]{2,62}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class _Model(BaseModel):
    # inf / nan are never a sensible setting (an ``.inf`` cost silently broke min_cost thresholds)
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """YAML ``true`` is not the number 1: refuse booleans where only a number is allowed."""
        if isinstance(value, bool) and info.field_name is not None:
            annotation = cls.model_fields[info.field_name].annotation
            allowed = set(typing.get_args(annotation)) | {annotation}
            if bool not in allowed and allowed & {int, float}:
                raise ValueError("must be a number, not a yes/no value")
        return value


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {m: i + 1 for i, m in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {d: i for i, d in enumerate(_WEEKDAYS)}),
)
CRON_PRESETS = (
    "@once",
    "@continuous",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@quarterly",
    "@yearly",
    "@annually",
)


def check_cron(value: str) -> str:
    """A five-field cron expression (names and ``*/step`` allowed) or an Airflow preset such as ``@daily``."""
    if value.strip().lower() in CRON_PRESETS:
        return value
    fields = value.split()
    if len(fields) != 5:
        raise ValueError(
            f"must be a cron expression of 5 fields (minute hour day-of-month month day-of-week) or one of "
            f"{', '.join(CRON_PRESETS)}; found {len(fields)} field(s)"
        )
    for text, (name, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.lower().split(","):
            problem = _cron_item(item, low, high, names)
            if problem:
                raise ValueError(f"{name} field {text!r}: {problem} (allowed {low}-{high})")
    return value


def _cron_item(item: str, low: int, high: int, names: dict[str, int]) -> str | None:
    body, _, step = item.partition("/")
    if step and not (step.isdigit() and 1 <= int(step) <= high):
        return f"step {step!r} is not a whole number from 1 to {high}"
    if body in ("*", "?"):
        return None
    ends = body.split("-")
    if len(ends) > 2 or not all(ends):
        return f"{item!r} is not a number, a name or a range a-b"
    for end in ends:
        number = names.get(end, int(end) if end.isdigit() else None)
        if number is None or not low <= number <= high:
            return f"{end!r} is out of range"
    return None


def _check_prefix_path(value: str) -> str:
    """Prefixes are folders inside the bucket: no '..' or '.' segments, backslashes or control characters."""
    segments = value.strip("/").split("/")
    if any(seg in (".", "..") for seg in segments):
        raise ValueError("must stay inside the bucket: '.' and '..' folders are not allowed")
    if "\\" in value or any(ord(ch) < 32 for ch in value) or "//" in value.strip("/"):
        raise ValueError("must be a '/'-separated folder path without backslashes, control characters or '//'")
    return value


def _check_bucket(value: str) -> str:
    if not _BUCKET.match(value):
        raise ValueError("must be a bucket name of 3-63 lowercase letters, digits, '.' or '-'")
    return value


class NegativeSampleConfig(_Model):
    """Keep every positive row and a hash-stable share of the others at ingest (bounded memory on large windows).

    ``fraction``: the share of negatives kept; ``max_rows``: the snapshot's size, negatives filling what the
    positives leave. The kept share (beta) is recorded in the snapshot manifest and undone in calibration and in
    the evaluation weights, so reported figures estimate the whole population.
    """

    fraction: OpenFraction | None = None
    max_rows: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_of(self) -> NegativeSampleConfig:
        if (self.fraction is None) == (self.max_rows is None):
            raise ValueError("set exactly one of 'fraction' (share of negatives kept) or 'max_rows'")
        return self


class SourceConfig(_Model):
    """Where the labeled data lands: one folder per day under ``prefix`` (``{date}`` is the partition day)."""

    bucket: str
    prefix: str = "{pipeline}/dt={date}/"
    format: Literal["parquet", "csv"] = "parquet"
    lookback_days: int = Field(default=1, ge=1, le=3660)
    negative_sample: NegativeSampleConfig | None = None

    _bucket = field_validator("bucket")(_check_bucket)

    @field_validator("prefix")
    @classmethod
    def _prefix_has_date(cls, value: str) -> str:
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError as exc:  # what str.format would raise at run time
            raise ValueError(f"is not a valid template ({exc}); write a literal brace as '{{{{' or '}}}}'") from None
        fields = [(name, spec, conv) for _, name, spec, conv in parts if name is not None]
        if any(spec or conv for _, spec, conv in fields):
            raise ValueError("placeholders take no format spec or conversion; use plain {date} and {pipeline}")
        if "date" not in {name for name, _, _ in fields}:
            raise ValueError("must contain '{date}', the partition day (YYYY-MM-DD)")
        unknown = {name for name, _, _ in fields} - {"date", "pipeline"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; allowed: {{date}}, {{pipeline}}")
        return _check_prefix_path(value)


class ArtifactsConfig(_Model):
    """Where runs stage their outputs and versions are published: ``s3://bucket/prefix/<pipeline>/``."""

    bucket: str
    prefix: str = ""

    _bucket = field_validator("bucket")(_check_bucket)

    @field_validator("prefix")
    @classmethod
    def _strip(cls, value: str) -> str:
        if "{" in value or "}" in value:
            raise ValueError("takes no placeholders; the pipeline name is added below it")
        return _check_prefix_path(value).strip("/")


class LabelConfig(_Model):
    """The target column. Two classes make a binary problem; more make a multi-class one."""

    column: str
    classes: list[LabelValue] = Field(default_factory=lambda: [0, 1], min_length=2)
    positive: LabelValue = 1

    @model_validator(mode="after")
    def _positive_in_classes(self) -> LabelConfig:
        if len(set(map(str, self.classes))) != len(self.classes):
            raise ValueError(f"classes must be distinct; got {self.classes}")
        if self.positive not in self.classes:
            raise ValueError(f"positive {self.positive!r} must be one of classes {self.classes}")
        return self

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2


class FeaturesConfig(_Model):
    """Feature columns; lists left out are inferred from the data (numbers vs strings/categories/bools)."""

    numeric: list[str] | None = None
    categorical: list[str] | None = None
    exclude: list[str] = Field(default_factory=list)
    timestamp: str | None = None

    @model_validator(mode="after")
    def _disjoint(self) -> FeaturesConfig:
        both = set(self.numeric or []) & set(self.categorical or [])
        if both:
            raise ValueError(f"columns {sorted(both)} are listed as both numeric and categorical")
        return self


class Bounds(_Model):
    min: Fraction = 0.0
    max: Fraction = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class Range(_Model):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) must be <= max ({self.max})")
        return self


class ValidationConfig(_Model):
    """Data expectations. Checks listed in ``warn_only`` are recorded but do not stop the run."""

    min_rows: int = Field(default=100, ge=1)
    min_minority_count: int = Field(default=10, ge=1)
    minority_share: Bounds = Bounds(min=0.0005, max=0.5)
    class_shares: dict[str, Bounds] = Field(default_factory=dict)
    max_null_fraction: Fraction = 0.1
    null_fraction: dict[str, Fraction] = Field(default_factory=dict)
    value_ranges: dict[str, Range] = Field(default_factory=dict)
    max_duplicate_fraction: Fraction | None = None
    warn_only: list[Literal[VALIDATION_CHECKS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["value_ranges", "duplicates"]
    )


class SplitConfig(_Model):
    """Hold-out split, done before anything else touches the data.

    ``key``: columns that identify a row for life (e.g. ``[txn_id]``); rows are assigned to parts by a salted hash
    of it, so a row keeps its part in every window. Without a key, the row's content (features + label) is hashed
    and identical rows share a part. ``salt`` (default: the pipeline name) changes every row's part: changing it
    leaves only rows that are test rows under both salts to compare the champion on.
    """

    method: Literal["stratified", "time"] = "stratified"
    test_size: OpenFraction = 0.2
    validation_size: OpenFraction = 0.2
    timestamp_column: str | None = None
    key: list[str] | None = Field(default=None, min_length=1)
    salt: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("key")
    @classmethod
    def _key_columns(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"lists a column twice: {value}")
        return value

    @model_validator(mode="after")
    def _sizes(self) -> SplitConfig:
        if self.test_size + self.validation_size >= 0.9:
            raise ValueError(
                f"test_size + validation_size must leave at least 10% for training; "
                f"got {self.test_size} + {self.validation_size}"
            )
        return self


class CandidateConfig(_Model):
    """One model x imbalance strategy combination to try."""

    name: str
    model: Literal[MODEL_NAMES] = "hist_gradient_boosting"  # type: ignore[valid-type]
    model_params: dict[str, Any] = Field(default_factory=dict)
    imbalance: Literal[STRATEGY_NAMES] = "none"  # type: ignore[valid-type]
    imbalance_params: dict[str, Any] = Field(default_factory=dict)
    pca_components: int | None = Field(default=None, ge=1)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[A-Za-z][A-Za-z0-9_\-]{0,62}$", value):
            raise ValueError("must start with a letter and hold only letters, digits, '_' or '-'")
        return value

    @model_validator(mode="after")
    def _combination(self) -> CandidateConfig:
        if self.pca_components is not None and self.imbalance not in SMOTE_FAMILY:
            raise ValueError(
                f"pca_components applies before SMOTE-family resamplers only; imbalance is '{self.imbalance}'"
            )
        if self.model in TORCH_MODEL_NAMES and self.imbalance == "class_weight":
            raise ValueError(
                "torch_mlp weights classes through its loss; set model_params.loss instead of imbalance: class_weight"
            )
        return self

    @property
    def is_torch(self) -> bool:
        return self.model in TORCH_MODEL_NAMES


def default_candidates() -> list[CandidateConfig]:
    """The sweep used when a config lists no candidates: the sensible default (HistGradientBoosting, no
    resampling) against weighting, oversampling and undersampling; resampling is a candidate, never assumed."""
    return [
        CandidateConfig(name="hgb", model="hist_gradient_boosting"),
        CandidateConfig(
            name="hgb_balanced",
            model="hist_gradient_boosting",
            imbalance="class_weight",
            imbalance_params={"class_weight": "balanced"},
        ),
        CandidateConfig(
            name="logreg_smote",
            model="logistic_regression",
            imbalance="smote",
            imbalance_params={"sampling_strategy": 0.3},
        ),
        CandidateConfig(
            name="rf_under",
            model="random_forest",
            model_params={"n_estimators": 200, "min_samples_leaf": 2},
            imbalance="random_under",
            imbalance_params={"sampling_strategy": 0.25},
        ),
    ]


class TrainingConfig(_Model):
    """Candidates are compared by k-fold cross-validated ``selection_metric`` on the rows they are fit on.

    ``calibrate_on: oof`` (default): CV runs on every non-test row (the split's training and validation parts),
    the calibrator and threshold are fit on the out-of-fold predictions, and the chosen candidate is refit on every
    non-test row. ``validation``: CV and refit on the training part, calibration and threshold on the validation
    part. ``selection_rule: one_se`` (default): among candidates whose paired fold-wise gap to the best is within
    one standard error, the one with the fewest moving parts wins (no resampling, then weighting, then resampling;
    cheaper models first); ``best_mean`` takes the highest CV mean. Folds are ordered by time (expanding window)
    when the split is by time.
    """

    cv_folds: int = Field(default=5, ge=2, le=20)
    selection_metric: Literal["average_precision", "roc_auc", "neg_log_loss"] = "average_precision"
    calibrate_on: Literal["oof", "validation"] = "oof"
    selection_rule: Literal["one_se", "best_mean"] = "one_se"
    blend_top_k: int = Field(default=3, ge=0, le=10)
    """Blend the top-k candidates' probabilities (0: never); it competes only when its paired CV gain over the
    best single candidate exceeds one standard error. Needs ``calibrate_on: oof`` and binary labels."""
    candidates: list[CandidateConfig] = Field(default_factory=default_candidates, min_length=1)

    @field_validator("candidates")
    @classmethod
    def _unique(cls, value: list[CandidateConfig]) -> list[CandidateConfig]:
        names = [c.name for c in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"candidate names must be unique; repeated: {dupes}")
        return value

    def candidate(self, name: str) -> CandidateConfig:
        for cand in self.candidates:
            if cand.name == name:
                return cand
        raise KeyError(name)


class ThresholdConfig(_Model):
    """How the operating threshold is chosen on validation rows."""

    objective: Literal["max_f1", "max_recall_at_precision", "max_precision_at_recall", "min_cost"] = "max_f1"
    min_precision: Fraction | None = None
    min_recall: Fraction | None = None
    fp_cost: float = Field(default=1.0, gt=0, le=1e9)
    fn_cost: float = Field(default=1.0, gt=0, le=1e9)

    @model_validator(mode="after")
    def _needs(self) -> ThresholdConfig:
        if self.objective == "max_recall_at_precision" and self.min_precision is None:
            raise ValueError("objective 'max_recall_at_precision' needs min_precision")
        if self.objective == "max_precision_at_recall" and self.min_recall is None:
            raise ValueError("objective 'max_precision_at_recall' needs min_recall")
        return self


class CalibrationConfig(_Model):
    """``auto``: none for unweighted models, prior correction after random undersampling, sigmoid otherwise."""

    method: Literal["auto", "none", "sigmoid", "isotonic", "prior_correction"] = "auto"


class EvaluationConfig(_Model):
    recall_targets: list[Fraction] = Field(default_factory=lambda: [0.5, 0.8])
    precision_targets: list[Fraction] = Field(default_factory=lambda: [0.5, 0.8])
    bootstrap_samples: int = Field(default=1000, ge=50, le=100_000)
    confidence: OpenFraction = 0.95


class GateConfig(_Model):
    """Promotion rules; all must pass. ``min_ap_gain`` is checked on the lower CI bound of the paired AP gain."""

    min_average_precision: Fraction = 0.0
    min_ap_gain: float = Field(default=0.0, ge=-1.0, le=1.0)
    min_recall: Fraction = 0.0
    max_recall_drop: Fraction = 1.0
    min_test_positives: int = Field(default=20, ge=1)


ALERT_RULES = (
    "recall_floor",
    "recall_drop",
    "insufficient_evidence",
    "validation_failed",
    "run_failed",
    "rejected_below_floor",
    "candidate_failed",
)
"""Alert rule names, kept equal to ``imbalance_jobs.alerts.RULES`` by a test (config stays import-light)."""
SEVERITIES = ("info", "warning", "critical")
Severity = Literal["info", "warning", "critical"]
_CONSOLE_PLACEHOLDERS = {"bucket", "key", "key_b64", "uri"}


class MonitoringConfig(_Model):
    """Champion health on each fresh partition, judged at the champion's own threshold.

    A recall rule breaches when the condition has held on ``consecutive_days`` consecutive days (same champion);
    a day with fewer than ``min_positives`` positives is insufficient evidence: a notice, never an alarm.
    ``decide_on: ci`` (default) judges the bootstrap interval, not the point: the floor breaches when the whole
    recall interval lies below it, the drop when the whole interval of (promotion-time recall - today's recall)
    lies above ``max_recall_drop``; ``point`` compares point values (noisier, earlier).
    ``severity`` is the default severity of the recall alarms (``alerts.severities`` overrides per rule).
    """

    enabled: bool = True
    decide_on: Literal["ci", "point"] = "ci"
    recall_floor: Fraction = 0.0
    max_recall_drop: Fraction = 0.2
    consecutive_days: int = Field(default=1, ge=1, le=30)
    min_positives: int = Field(default=20, ge=1)
    severity: Literal["warning", "critical"] = "critical"
    bootstrap_samples: int = Field(default=500, ge=50, le=100_000)
    history_days: int = Field(default=30, ge=1, le=366)


class _Channel(_Model):
    min_severity: Severity = "info"


class EmailChannel(_Channel):
    """SMTP settings come from the Airflow connection ``conn_id`` (CLI: ``IMBALANCE_SMTP_URL``)."""

    to: list[str] = Field(min_length=1)
    conn_id: str = "smtp_default"

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        bad = [a for a in value if not re.match(r"^[^@\s,;]+@[^@\s,;]+$", a)]
        if bad:
            raise ValueError(f"must be e-mail addresses (name@host); not addresses: {bad}")
        return value


class SlackChannel(_Channel):
    """An incoming webhook from the Airflow connection ``conn_id`` (CLI: ``IMBALANCE_SLACK_WEBHOOK_URL``)."""

    conn_id: str = "slack_webhook_default"


class WebhookChannel(_Channel):
    """A generic JSON webhook from the Airflow connection ``conn_id`` (CLI: ``IMBALANCE_ALERT_WEBHOOK_URL``)."""

    conn_id: str = "imbalance_alerts_webhook"


class AlertsConfig(_Model):
    """Alert channels; credentials and URLs come from Airflow connections (or env for the CLI), never from here.

    ``severities`` overrides a rule's default severity; a channel only receives alerts at or above its
    ``min_severity``. Undelivered alerts wait in the outbox and are retried on later runs for
    ``outbox_max_age_days``. ``console_url`` (placeholders ``{bucket}``, ``{key}``, ``{key_b64}``, ``{uri}``)
    adds object-store console links to every alert.
    """

    email: EmailChannel | None = None
    slack: SlackChannel | None = None
    webhook: WebhookChannel | None = None
    severities: dict[Literal[ALERT_RULES], Severity] = Field(default_factory=dict)  # type: ignore[valid-type]
    console_url: str | None = None
    delivery_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_seconds: float = Field(default=1.0, ge=0.0, le=60.0)
    timeout_seconds: float = Field(default=10.0, gt=0.0, le=120.0)
    outbox_max_age_days: int = Field(default=7, ge=1, le=90)

    @field_validator("console_url")
    @classmethod
    def _console_url(cls, value: str | None) -> str | None:
        if value is None:
            return value
        unknown = set(re.findall(r"{([^}]*)}", value)) - _CONSOLE_PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"unknown placeholder(s) {sorted(unknown)}; allowed: {', '.join(sorted(_CONSOLE_PLACEHOLDERS))}"
            )
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL template")
        return value

    @property
    def channels(self) -> dict[str, EmailChannel | SlackChannel | WebhookChannel]:
        """The configured channels by name (``email``, ``slack``, ``webhook``)."""
        found = {"email": self.email, "slack": self.slack, "webhook": self.webhook}
        return {name: channel for name, channel in found.items() if channel is not None}


class AirflowConfig(_Model):
    """How the DAG for this pipeline is run."""

    owner: str = "ml-platform"
    tags: list[str] = Field(default_factory=list)
    retries: int = Field(default=2, ge=0, le=10)
    retry_delay_minutes: float = Field(default=2.0, gt=0, le=1440)
    run_timeout_minutes: int = Field(default=240, ge=1, le=10080)
    aws_conn_id: str = "imbalance_s3"
    gpu_pool: str = "gpu"
    gpu_queue: str = "gpu"


class PipelineConfig(_Model):
    """A whole pipeline: one DAG, one champion, one version history."""

    name: str
    description: str = ""
    schedule: str | None = "0 2 * * *"
    seed: int = Field(default=42, ge=0, le=2**32 - 1)
    source: SourceConfig
    artifacts: ArtifactsConfig
    label: LabelConfig
    features: FeaturesConfig = FeaturesConfig()
    validation: ValidationConfig = ValidationConfig()
    split: SplitConfig = SplitConfig()
    training: TrainingConfig = TrainingConfig()
    threshold: ThresholdConfig = ThresholdConfig()
    calibration: CalibrationConfig = CalibrationConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    gate: GateConfig = GateConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    alerts: AlertsConfig = AlertsConfig()
    airflow: AirflowConfig = AirflowConfig()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("must be 3-63 characters: lowercase letters, digits and '_', starting with a letter")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return value if value is None else check_cron(value)

    @model_validator(mode="after")
    def _cross_checks(self) -> PipelineConfig:
        problems = _cross_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


_CREATES_ROWS = (*SMOTE_FAMILY, "smoten", "random_over")
"""Strategies that add rows (copies or synthetic neighbours of training rows); undersampling and cleaning only drop."""
_EARLY_STOPPING = {  # model -> (parameter, its default, values that hold rows out for early stopping)
    "hist_gradient_boosting": ("early_stopping", False, (True, "auto")),
    "torch_mlp": ("validation_fraction", 0.15, None),
}


def _early_stopping_problems(cfg: PipelineConfig) -> list[str]:
    """Early stopping after an over-sampler would draw its hold-out from resampled rows (copies or synthetic
    neighbours of training positives) and stop on them: refused, so no early-stopping hold-out is ever contaminated."""
    problems = []
    for i, cand in enumerate(cfg.training.candidates):
        rule = _EARLY_STOPPING.get(cand.model)
        if rule is None or cand.imbalance not in _CREATES_ROWS:
            continue
        name, default, on_values = rule
        value = cand.model_params.get(name, default)
        holds_out = value in on_values if on_values is not None else bool(value)
        if holds_out:
            off = "0" if on_values is None else "false"
            problems.append(
                f"training.candidates[{i}] ({cand.name}): model_params.{name}={value!r} holds rows out for early "
                f"stopping after resampler '{cand.imbalance}', so it would stop on copies or synthetic neighbours "
                f"of training positives; set model_params.{name}: {off}, or weight the classes instead of resampling"
            )
    return problems


def _cross_problems(cfg: PipelineConfig) -> list[str]:
    problems = []
    if cfg.split.method == "time" and not (cfg.split.timestamp_column or cfg.features.timestamp):
        problems.append("split.method 'time' needs split.timestamp_column or features.timestamp")
    if cfg.label.column in (cfg.features.numeric or []) + (cfg.features.categorical or []):
        problems.append(f"label column '{cfg.label.column}' must not be listed as a feature")
    problems += _early_stopping_problems(cfg)
    key = cfg.split.key or []
    if cfg.label.column in key:
        problems.append(f"split.key must not hold the label column '{cfg.label.column}': a relabelled row would move")
    listed_keys = sorted(set(key) & set((cfg.features.numeric or []) + (cfg.features.categorical or [])))
    if listed_keys:
        problems.append(f"split.key column(s) {listed_keys} are row ids, not features: remove them from features")
    if not cfg.label.is_binary:
        if cfg.calibration.method not in ("auto", "none"):
            problems.append(
                f"calibration.method '{cfg.calibration.method}' is for binary labels; "
                f"label.classes has {len(cfg.label.classes)} classes (use 'auto' or 'none')"
            )
        torch_cands = [c.name for c in cfg.training.candidates if c.is_torch]
        if torch_cands:
            problems.append(f"torch candidates {torch_cands} support binary labels only")
    if cfg.source.negative_sample is not None and not cfg.label.is_binary:
        problems.append(
            f"source.negative_sample needs binary labels (a positive class and the rest); "
            f"label.classes has {len(cfg.label.classes)} classes"
        )
    known = {str(c) for c in cfg.label.classes}
    unknown = sorted(set(cfg.validation.class_shares) - known)
    if unknown:
        problems.append(f"validation.class_shares names classes {unknown} not in label.classes {cfg.label.classes}")
    if cfg.calibration.method == "prior_correction" and not any(
        c.imbalance == "random_under" for c in cfg.training.candidates
    ):
        problems.append("calibration.method 'prior_correction' needs a candidate with imbalance 'random_under'")
    if cfg.features.categorical is not None:  # the strategies' declared layouts; the registry imports this module
        from imbalance_jobs.resampling import listed_layout_problems

        problems += listed_layout_problems(cfg.features, cfg.training.candidates)
    return problems
