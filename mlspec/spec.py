"""The ``mlspec.yaml`` data model, version 1.

These pydantic models *are* the contract: the JSON Schema in ``schemas/`` is generated from them and the
docs describe them. Every model is frozen and rejects unknown keys. Checks that span sections (a suite bound
to an unknown source, a gate on a metric that is not computed, ...) live in :mod:`mlspec.checks`, where they
can point at the exact line.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    field_validator,
    model_validator,
)

from mlspec import sourceurl
from mlspec.cistrings import (
    BranchName,
    CIPath,
    CIVariable,
    DockerImage,
    EnvLiteral,
    EnvName,
    RefPattern,
    Requirement,
    RunnerLabel,
    Version,
)
from mlspec.cron import CRON_SCHEMA_PATTERN, cron_problem
from mlspec.metrics import Task
from mlspec.store import url as store_url

SPEC_VERSION = 1

# Names become CI job ids, file names and environment variable parts; lowercase so that two names never
# collide on a case-insensitive file system.
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
NAME_HELP = "use 1-40 lowercase letters, digits, '_' or '-', starting with a letter"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]

IMPORT_PATH_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$"
ImportPath = Annotated[str, StringConstraints(pattern=IMPORT_PATH_PATTERN)]

# Five-field cron as GitHub and GitLab schedules accept it.
# Fields of cron's own characters only: the schedule is written into both CI files.
CRON_PATTERN = r"^[ \t]*([!-~]+[ \t]+){4}[!-~]+[ \t]*$"  # printable ASCII fields; mlspec.cron checks each
PERCENT_PATTERN = r"^[0-9]+(\.[0-9]+)?%$"
PYTHON_PATTERN = r"^3\.[0-9]{1,2}$"
# CPython versions of the CI jobs: ones that exist and that mlspec itself installs on (requires-python).
PYTHON_VERSIONS = ("3.11", "3.12", "3.13", "3.14")
PACKAGE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
Package = Annotated[str, StringConstraints(pattern=PACKAGE_PATTERN)]
# No bound of a spec needs more (18 digits); a longer literal is a typo or a probe.
MAX_NUMBER = 1e18

StageKind = Literal["prepare", "data", "validate", "train", "evaluate", "gate", "deploy", "monitor"]
NonEmptyStr = Annotated[str, StringConstraints(min_length=1)]


# Strict: a bool is an int to Python and YAML's `true` would pass as 1, a quoted "0.9" is a typo. Floats are
# finite (YAML's .nan and .inf make a gate that never passes) and within +-1e18, as no bound of a spec is larger.
Int = Annotated[int, Field(strict=True)]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-MAX_NUMBER, le=MAX_NUMBER)]


def yaml_float(value: float) -> str:
    """A float as YAML spells it, so a NaN read from ``.nan`` is shown as ``.nan``."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


class Model(BaseModel):
    # Field docstrings below become JSON Schema descriptions in mlspec.schema, not here: pydantic's
    # `use_attribute_docstrings` re-parses this module's source on every import, slowing `mlspec validate`.
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- data -------------------------------------------------------------------------------------------------


class FileSource(Model):
    """A table read from a file, relative to the spec's directory."""

    # Left out of dumps: a missing kind means a file, and the spec's dump (its fingerprint in registry
    # provenance) stays what it was before sources had kinds.
    kind: Literal["file"] = Field("file", exclude=True)
    """The kind of source; `file` (the default) is a CSV or Parquet file of the project."""
    path: CIPath
    """Path of the file, relative to the directory holding mlspec.yaml; it must resolve (symlinks followed)
    inside that directory unless `outside_project` is set."""
    outside_project: bool = False
    """Allow a path that resolves outside the project (a shared data directory). Only regular files are read
    either way: never a device, FIFO or /proc file."""
    format: Literal["csv", "parquet"] | None = None
    """File format; inferred from the suffix (.csv, .parquet, .pq) when omitted."""
    description: str | None = None

    @model_validator(mode="after")
    def _format_known(self) -> FileSource:
        if self.format is None and self.inferred_format() is None:
            raise ValueError(
                f"cannot tell the format of {self.path!r} from its suffix; add `format: csv` or `format: parquet`"
            )
        return self

    def inferred_format(self) -> Literal["csv", "parquet"] | None:
        if self.format:
            return self.format
        lower = self.path.lower()
        if lower.endswith((".csv", ".csv.gz")):
            return "csv"
        if lower.endswith((".parquet", ".pq")):
            return "parquet"
        return None


def _format_of_name(name: str) -> Literal["csv", "parquet"] | None:
    lower = name.lower()
    if lower.endswith((".csv", ".csv.gz")):
        return "csv"
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    return None


ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
MIB = 1 << 20


class UrlSource(Model):
    """A table read from an object outside the repository: in a bucket, on an SSH server, or a download."""

    kind: Literal["url"]
    """`url`: the table is the object at `url`, fetched when the data stage runs."""
    url: NonEmptyStr
    """s3://bucket/key, gs://bucket/key, az://container/blob, sftp://[user@]host[:port]/path or
    https://host/path (http:// for a server on this machine). No credentials, query string or fragment: they
    come from the environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*, an SSH key or agent,
    or the variable `token_env` names)."""
    format: Literal["csv", "parquet"] | None = None
    """File format; inferred from the URL's suffix (.csv, .csv.gz, .parquet, .pq) when omitted."""
    endpoint_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")] | None = None
    """For an s3:// object on an S3-compatible service: its HTTP(S) endpoint. Default: the store's endpoint
    (store.endpoint_url, MLSPEC_STORE_ENDPOINT_URL) when the store is on S3, else AWS's own (or AWS_ENDPOINT_URL)."""
    token_env: Annotated[str, StringConstraints(pattern=ENV_NAME_PATTERN)] | None = None
    """For an https:// download that needs a token: the environment variable holding it, sent as
    `Authorization: Bearer <token>` (never after a redirect)."""
    max_size_mib: Annotated[Int, Field(ge=1, le=1 << 30)] = 10 * 1024
    """The largest object read, in MiB (default 10 GiB): a bigger one, or a download that keeps going, is refused."""
    description: str | None = None

    @field_validator("url")
    @classmethod
    def _url_usable(cls, value: str) -> str:
        why = sourceurl.problem(value)
        if why:
            raise ValueError(why)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> UrlSource:
        parsed = sourceurl.parse(self.url)
        if self.format is None and self.inferred_format() is None:
            raise ValueError(f"cannot tell the format of {self.url!r} from its suffix; add `format: csv` or "
                             "`format: parquet`")
        if self.endpoint_url is not None and parsed.kind != "s3":
            raise ValueError(f"`endpoint_url` is for s3:// objects on S3-compatible services, not {parsed.kind}://")
        if self.token_env is not None and not parsed.web:
            raise ValueError(f"`token_env` is for https:// downloads; {parsed.kind}:// credentials come from its "
                             "own environment variables")
        if self.token_env is not None and parsed.kind == "http" and not parsed.loopback:
            raise ValueError("a token is sent only over https:// (plain http:// shows it to everyone on the way)")
        return self

    def inferred_format(self) -> Literal["csv", "parquet"] | None:
        return self.format or _format_of_name(sourceurl.parse(self.url).name)

    @property
    def max_bytes(self) -> int:
        return self.max_size_mib * MIB


DEFAULT_SOURCE_KIND = "file"


def _source_kind(value: Any) -> str:
    """The union member that validates a source: its ``kind``, and the file kind when it names none.

    A source written before kinds existed (no ``kind`` key) and anything that is not a mapping at all go to the
    file kind, so they keep today's messages ("missing required key 'path'", "expected a mapping").
    """
    default = DEFAULT_SOURCE_KIND
    kind = value.get("kind", default) if isinstance(value, dict) else getattr(value, "kind", default)
    return kind if isinstance(kind, str) else repr(kind)


# A discriminated union: a new kind is one more `Annotated[XSource, Tag("x")]` member here and one adapter in
# mlspec.sources (a test checks that the two agree).
Source = Annotated[
    Annotated[FileSource, Tag("file")] | Annotated[UrlSource, Tag("url")],
    Discriminator(_source_kind),
]


class Features(Model):
    """Feature columns by type; the type decides the preprocessing applied to them."""

    numeric: list[NonEmptyStr] = []
    categorical: list[NonEmptyStr] = []
    datetime: list[NonEmptyStr] = []
    """Date or datetime columns (ISO text such as 2024-03-01 or 2024-03-01T12:30, or datetime dtypes): turned
    into numeric parts (year, month, day, dayofweek, dayofyear, and hour when the values have a time) inside the
    model's Pipeline; a missing or unparseable value is missing in every part, for the numeric imputer."""


DatePart = Literal["year", "month", "day", "dayofweek", "dayofyear", "hour", "minute", "quarter"]


class ExprFeature(Model):
    """`{expr: "income / (household + 1)"}`: arithmetic of columns and numbers."""

    expr: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    """`+ - * / **`, unary minus, parentheses, numbers, column names (earlier derived features too) and the
    functions log, log1p, exp, sqrt, abs, clip(x, lo, hi), min(a, b), max(a, b). Parsed by mlspec's own
    whitelist, never run as Python. A result that is not finite (x / 0, log(0)) is missing, for the imputer."""


class LogFeature(Model):
    """`{log: income}`: the natural logarithm of a column; a value <= 0 has none and becomes missing (imputed
    like any missing numeric value). Use `expr: "log1p(x)"` for counts that can be 0."""

    log: NonEmptyStr


class ClipFeature(Model):
    """`{clip: age, min: 18, max: 90}`: the column limited to [min, max] (give one or both)."""

    clip: NonEmptyStr
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ClipFeature:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class BucketFeature(Model):
    """`{bucket: age, edges: [30, 45, 65]}`: the index of the bucket the value falls in: 0 below the first
    edge, 1 from the first edge (included) to the second, ..., len(edges) from the last; missing stays missing."""

    bucket: NonEmptyStr
    edges: Annotated[list[Number], Field(min_length=1, max_length=1000)]

    @field_validator("edges")
    @classmethod
    def _increasing(cls, edges: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError("edges must be strictly increasing")
        return edges


class DatePartFeature(Model):
    """`{date_part: signup_date, part: month}`: one part of a date or datetime column, as a number."""

    date_part: NonEmptyStr
    part: DatePart


class TransformerFeature(Model):
    """`{transformer: features.Ratio, columns: [a, b], params: {}}`: your own scikit-learn transformer class,
    fitted on `columns` in training and kept in the model. Its package must be in `training.packages` and the
    class in `training.trust`. Its output must be numeric: one column is this feature; k columns are
    `<name>_0` ... `<name>_<k-1>`."""

    transformer: ImportPath
    columns: Annotated[list[NonEmptyStr], Field(min_length=1)]
    params: dict[str, Any] = {}
    """Constructor arguments of the class."""


DERIVED_KINDS = ("expr", "log", "clip", "bucket", "date_part", "transformer")


def _derived_kind(value: Any) -> str:
    """The union member of a derived feature: the first of its keys that names a kind (so a second one is an
    unknown key of that kind), else ``expr`` (whose message then asks for it). Tags are not document keys, so
    an error's location stays the entry's own key."""
    if isinstance(value, dict):
        return next((f"{k} feature" for k in DERIVED_KINDS if k in value), "expr feature")
    return next((f"{k} feature" for k in DERIVED_KINDS if hasattr(value, k)), "expr feature")


def derived_reads(definition: Any) -> list[tuple[str, tuple[str | int, ...]]]:
    """The columns a derived feature reads, each with the key of its definition that names it; an expression
    that does not parse reads nothing (:mod:`mlspec.checks` reports it)."""
    from mlspec import expr

    if isinstance(definition, ExprFeature):
        try:
            return [(c, ("expr",)) for c in expr.parse(definition.expr).columns]
        except expr.ExprError:
            return []
    if isinstance(definition, TransformerFeature):
        return [(c, ("columns", i)) for i, c in enumerate(definition.columns)]
    return [(str(getattr(definition, k)), (k,)) for k in ("log", "clip", "bucket", "date_part")
            if hasattr(definition, k)]


DerivedFeature = Annotated[
    Annotated[ExprFeature, Tag("expr feature")] | Annotated[LogFeature, Tag("log feature")]
    | Annotated[ClipFeature, Tag("clip feature")] | Annotated[BucketFeature, Tag("bucket feature")]
    | Annotated[DatePartFeature, Tag("date_part feature")] | Annotated[TransformerFeature, Tag("transformer feature")],
    Discriminator(_derived_kind),
]


class Data(Model):
    sources: Annotated[dict[Name, Source], Field(min_length=1)]
    """Named tables: training data, holdout data, current production data, ..."""
    target: NonEmptyStr
    """The label column."""
    features: Features | None = None
    """Feature columns; when omitted, every column but the target and `exclude` is a feature, typed by dtype."""
    exclude: list[NonEmptyStr] = []
    """Columns that are never features (ids, timestamps)."""
    positive_class: bool | Int | NonEmptyStr | None = None
    """For `task: binary`: the label the metrics are about (precision, recall, F1, average precision, the
    probability ROC AUC ranks by). Required when the two labels are not 0/1 or false/true; quote text labels,
    as YAML reads a bare yes/no as true/false: `positive_class: "yes"`."""
    derived: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")], DerivedFeature] = {}
    """Features computed from columns inside the model's Pipeline (so serving, monitoring and batch scoring
    compute exactly what training did), in order: each may use the ones before it. One key per entry: `expr`,
    `log`, `clip`, `bucket`, `date_part` or `transformer`. Derived features are numeric features of the model."""


# --- prepare ----------------------------------------------------------------------------------------------


class PrepareStep(Model):
    """A command of the project that builds files from others (the training table from raw data), run by
    `mlspec run prepare:<name>` and by CI before the data stages that read its outputs. It is fingerprinted like
    any stage: it reruns when its command, environment or the content of its inputs change."""

    cmd: Annotated[list[NonEmptyStr], Field(min_length=1)]
    """The command as a list of arguments, run without a shell in the directory holding mlspec.yaml:
    `[python, prepare.py, raw, data]`. `python` (or `python3`) is the interpreter running mlspec; another first
    argument with a `/` is a path relative to mlspec.yaml, else a program looked up on PATH."""
    inputs: list[CIPath] = []
    """Files or directories the command reads, relative to mlspec.yaml and inside the project (its script
    too): their content is part of the step's fingerprint."""
    outputs: Annotated[list[CIPath], Field(min_length=1)]
    """Files or directories the command writes, relative to mlspec.yaml and inside the project; it must
    create all of them. They are kept as the step's outputs, restored where declared in a job that did not run
    it, and may be data sources (`data.sources.<name>.path`), which then need the step."""
    env: dict[EnvName, str] = {}
    """Variables added to the command's environment (literal values, part of the fingerprint)."""
    description: str | None = None

    @field_validator("cmd", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        import shlex  # here: stdlib, but only specs with a prepare step pay for it

        text = value[0] if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str) else value
        if isinstance(text, str) and (value is text or len(text.split()) > 1):
            try:
                parts = shlex.split(text)
            except ValueError:
                parts = text.split()
            shown = "[" + ", ".join(parts) + "]"
            raise ValueError(f"must be a list of arguments, not a command line: mlspec runs no shell; write "
                             f"`cmd: {shown}`")
        return value



# --- validation -------------------------------------------------------------------------------------------

Expectation = Annotated[dict[str, dict[str, Any] | None], Field(min_length=1, max_length=1)]


class Suite(Model):
    """Great Expectations checks for one data source: inline or from a GX suite JSON file."""

    data: Name
    """The data source the suite checks."""
    expectations: list[Expectation] | None = None
    """Inline expectations, one per item: `- expect_column_values_to_not_be_null: {column: age}`."""
    suite_file: CIPath | None = None
    """Path to a Great Expectations 1.x suite JSON file, relative to mlspec.yaml; it must resolve (symlinks
    followed) inside the directory holding mlspec.yaml."""
    warn_only: bool = False
    """Report failures without failing the pipeline."""

    @model_validator(mode="after")
    def _one_kind(self) -> Suite:
        if (self.expectations is None) == (self.suite_file is None):
            raise ValueError("give exactly one of `expectations` (inline) or `suite_file` (GX suite JSON)")
        return self


# --- training ---------------------------------------------------------------------------------------------


class NumericPreprocessing(Model):
    impute: Literal["mean", "median", "most_frequent", "none"] = "median"
    scale: Literal["standard", "minmax", "robust", "none"] = "none"


class CategoricalPreprocessing(Model):
    impute: Literal["most_frequent", "constant", "none"] = "most_frequent"
    encode: Literal["onehot", "ordinal", "native"] = "onehot"
    """`onehot`, `ordinal`, or `native`: the library's own categorical handling (LightGBM, XGBoost, CatBoost,
    scikit-learn's HistGradientBoosting*), fed integer codes; categories unseen in training count as missing."""


class Preprocessing(Model):
    numeric: NumericPreprocessing = NumericPreprocessing()
    categorical: CategoricalPreprocessing = CategoricalPreprocessing()


class EarlyStopping(Model):
    """Early stopping on a validation split of the training rows (stratified for classification, seeded by
    training.seed); the preprocessing is fitted on the rest."""

    rounds: Annotated[Int, Field(ge=1)]
    """Stop after this many rounds without improvement on the validation rows."""
    validation_fraction: Annotated[Number, Field(gt=0, lt=1)] = 0.1
    """The share of the training rows held out to decide when to stop (the model is fitted on the rest)."""


class SearchRange(Model):
    """A numeric range to sample a parameter from (random and optuna searches): integers when low and high
    are both integers, else floats; ``log`` samples evenly on a log scale (low must be > 0)."""

    low: Int | Number
    """The smallest value (included)."""
    high: Int | Number
    """The largest value (included for integers)."""
    log: bool = False


class Search(Model):
    """A hyperparameter search over some of the estimator's params, scored by cross-validation on the
    training data only (never the evaluation rows the gate judges). The best trial is refitted on all the
    training rows and is the model that evaluate, the gate and deploy see."""

    method: Literal["grid", "random", "optuna"] = "grid"
    """grid: every combination of the listed values; random: ``budget`` independent draws; optuna: Optuna's
    TPE sampler, ``budget`` trials."""
    space: Annotated[dict[NonEmptyStr, Annotated[list[Any], Field(min_length=1)] | SearchRange],
                     Field(min_length=1)]
    """Param name → the values to try (a list) or a range ``{low, high, log}`` (random and optuna only)."""
    budget: Annotated[Int, Field(ge=1, le=100_000)] | None = None
    """How many trials; required by random and optuna; grid tries every point (or the first ``budget``)."""
    metric: str | None = None
    """The metric to optimise (one mlspec reports, e.g. roc_auc, rmse); defaults to the champion metric."""
    cv: Annotated[Int, Field(ge=2, le=20)] = 5
    """Folds of the cross-validation on the training rows (stratified for classification, seeded)."""
    parallel: Annotated[Int, Field(ge=1, le=256)] = 1
    """Processes that run the trials' CV folds at once within one job (trial × fold tasks, as GridSearchCV
    does); with MLSPEC_DASK_SCHEDULER set, the tasks go to that Dask cluster instead."""
    shards: Annotated[Int, Field(ge=1, le=32)] = 1
    """CI matrix jobs the trials are split across (each runs its share and keeps the results for the train
    job); 1 runs every trial in the train job."""


class TrainedModel(Model):
    """One estimator, trained inside a scikit-learn Pipeline with its preprocessing."""

    estimator: ImportPath
    """Import path of a scikit-learn compatible estimator class, e.g. sklearn.ensemble.RandomForestClassifier."""
    params: dict[str, Any] = {}
    """Constructor arguments of the estimator."""
    data: Name
    """The data source to train on."""
    preprocessing: Preprocessing = Preprocessing()
    threshold: Annotated[Number, Field(gt=0, lt=1)] | None = None
    """For `task: binary`: the positive class is predicted when its probability (predict_proba) is at least
    this; otherwise the estimator's own decision. Used wherever the model predicts labels: evaluate, the gate's
    rescoring of a registry baseline, monitoring and `mlspec serve`."""
    fit: dict[str, Any] = {}
    """Keyword arguments of the estimator's fit method, e.g. `{verbose: false}`; checked against its signature."""
    early_stopping: EarlyStopping | None = None
    """Stop adding trees when a held-out part of the training rows stops improving (boosting libraries and
    HistGradientBoosting*); the best iteration is in the training metrics."""
    search: Search | None = None
    """Search some of ``params`` (see Search); the values in ``params`` are the fixed ones."""


class Training(Model):
    seed: Annotated[Int, Field(ge=0, le=2**32 - 1)] = 0
    """Seed passed as random_state to estimators that take one, so training is repeatable (0 to 2^32-1, the
    range numpy accepts)."""
    packages: list[Package] = []
    """Top-level packages besides sklearn that estimators may be imported from, e.g. [xgboost]. Nothing else
    is imported: an estimator's package is checked against this list before any import."""
    trust: list[ImportPath] = []
    """Exact types (package.module.Class) a model file may hold beyond mlspec's reviewed allowlist: your own
    transformer classes, or a library's types mlspec has not reviewed (skorch, torch). Loading a model builds
    every type it holds, so list only code you trust; each load says which of these it trusted."""
    models: Annotated[dict[Name, TrainedModel], Field(min_length=1)]


# --- evaluation and gates ---------------------------------------------------------------------------------


class Champion(Model):
    """How the model that is gated and deployed is chosen: best by a metric, or a fixed model."""

    metric: str | None = None
    model: Name | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Champion:
        if (self.metric is None) == (self.model is None):
            raise ValueError("give exactly one of `metric` (best model by it) or `model` (always this model)")
        return self


class Significance(Model):
    """Fail a `max_drop` gate only when the drop is significant: a paired bootstrap of the champion and the
    baseline model on the same evaluation rows, so evaluation noise does not block a change."""

    confidence: Annotated[Number, Field(gt=0.5, lt=1)] = 0.95
    """Level of the bootstrap interval of the worsening; the gate fails only when the whole interval exceeds
    `max_drop`."""
    resamples: Annotated[Int, Field(ge=100, le=100_000)] = 2000
    """Number of bootstrap resamples of the evaluation rows."""


class Gate(Model):
    """Bounds on one metric of the champion; absolute and/or relative to the baseline."""

    min: Number | None = None
    max: Number | None = None
    max_drop: float | str | None = Field(
        default=None,
        json_schema_extra={"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": PERCENT_PATTERN}]},
    )
    """Largest allowed worsening against the baseline: a number (absolute) or a percentage such as "2%"."""
    warn_only: bool = False
    """Report a failing gate without failing the pipeline."""
    significance: Significance | None = None
    """Let `max_drop` fail only on a statistically significant drop (needs the baseline's predictions)."""

    @field_validator("max_drop", mode="before")
    @classmethod
    def _drop(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("must be a number such as 0.01 or a percentage such as \"2%\"")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"must be a finite number, got {yaml_float(value)}")
        if isinstance(value, int | float) and abs(value) > MAX_NUMBER:
            raise ValueError(f"must be at most {MAX_NUMBER:g}, got {value:g}")
        if isinstance(value, int | float):
            if value < 0:
                raise ValueError(f"must not be negative, got {value}")
            return float(value)
        if isinstance(value, str) and re.match(PERCENT_PATTERN, value.strip()):
            return value.strip()
        raise ValueError(f"must be a number such as 0.01 or a percentage such as \"2%\", got {value!r}")

    @model_validator(mode="after")
    def _some_bound(self) -> Gate:
        if self.min is None and self.max is None and self.max_drop is None:
            raise ValueError("a gate needs at least one of `min`, `max` or `max_drop`")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is greater than `max` ({self.max})")
        if self.significance is not None and self.max_drop is None:
            raise ValueError("`significance` applies to `max_drop`; add a `max_drop` or remove `significance`")
        return self


BaselineFrom = Literal["registry", "lock"]


class EvaluationBaseline(Model):
    """What relative gates (`max_drop`) and the significance test compare the champion with (see
    mlspec/baseline.py)."""

    model_config = ConfigDict(serialize_by_alias=True)

    from_: BaselineFrom | None = Field(
        None, alias="from",
        description="registry: the version a registry alias names, scored on this run's evaluation rows; lock: "
                    "the base branch's committed mlspec.lock. Default: registry when `alias` is given, or the spec "
                    "has a registry deploy target and a registry that outlives a CI job (in the store, or MLflow); "
                    "else lock.")
    alias: Name | None = None
    """The registry alias whose version is the baseline (from: registry); default: the alias monitoring
    watches, i.e. production when a registry deploy target moves it, else the last registry target's alias."""

    @model_validator(mode="after")
    def _alias_of_registry(self) -> EvaluationBaseline:
        if self.alias is not None and self.from_ == "lock":
            raise ValueError("`alias` names a registry version, but `from` is lock; remove `alias` or use "
                             "`from: registry`")
        return self


class Evaluation(Model):
    data: Name
    """The data source to evaluate on (a holdout set the models never trained on)."""
    metrics: Annotated[list[str], Field(min_length=1)]
    """scikit-learn metric names, e.g. accuracy, f1_macro, roc_auc, root_mean_squared_error."""
    champion: Champion | None = None
    """Defaults to the best model by the first metric."""
    gates: dict[str, Gate] = {}
    """Per metric name: the bounds the champion must meet."""
    baseline: EvaluationBaseline = EvaluationBaseline()
    """What `max_drop` gates compare with: a registry version or the base branch's mlspec.lock."""


# --- deployment -------------------------------------------------------------------------------------------


class When(Model):
    """When a deploy target fires. With no branches and no tags: pushes to the default branch."""

    branches: list[RefPattern] = []
    """Branch name patterns (glob), e.g. main or release/*."""
    tags: list[RefPattern] = []
    """Tag patterns (glob), e.g. v*."""
    manual: bool = False
    """Wait for a person to approve (GitHub environment protection / GitLab manual job)."""


class _Target(Model):
    model: Name | None = None
    """The model to deploy; defaults to the champion."""
    when: When = When()
    environment: Name | None = None
    """CI environment name (GitHub environments, GitLab environments); defaults to the target's name."""
    after: list[Name] = []
    """Deploy targets that must succeed first."""


class RegistryTarget(_Target):
    """Register the model and move a registry alias (e.g. staging, production) to it."""

    kind: Literal["registry"]
    alias: Name


class ExportTarget(_Target):
    """Copy the model bundle and its metadata to a directory."""

    kind: Literal["export"]
    path: NonEmptyStr


Target = Annotated[RegistryTarget | ExportTarget, Field(discriminator="kind")]


class Registry(Model):
    backend: Literal["file", "store", "mlflow"] = "file"
    """file: a directory of immutable versions; store: the same, under registry/ in the spec's store (the
    default when the spec has a store section); mlflow: the server named by MLFLOW_TRACKING_URI."""
    path: NonEmptyStr = ".mlspec/registry"
    """Directory of the file registry, relative to mlspec.yaml or absolute. The environment variable
    MLSPEC_REGISTRY overrides it: in CI, point either at a directory the runner keeps (a mounted volume)."""

    def chosen_backend(self, has_store: bool) -> Literal["file", "store", "mlflow"]:
        """The backend in use: the one written in the spec, else ``store`` when the spec has a store section
        (so a registry that must outlive CI runners lives where they share everything), else ``file``."""
        return self.backend if "backend" in self.model_fields_set or not has_store else "store"


# --- the store ------------------------------------------------------------------------------------------


class Store(Model):
    """Where what CI runners must share lives: data snapshots, stage outputs, the registry, run records."""

    url: NonEmptyStr
    """s3://bucket/prefix, gs://bucket/prefix, az://container/prefix, sftp://[user@]host/path, file:///path or a
    directory relative to mlspec.yaml. The environment variable MLSPEC_STORE overrides it. Credentials never go
    here: each service's standard environment variables or credential chain are used."""
    endpoint_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$")] | None = None
    """For S3-compatible services (MinIO, Ceph, R2...): their HTTP(S) endpoint. MLSPEC_STORE_ENDPOINT_URL
    overrides it."""
    run_cache: bool = True
    """Before running a stage, fetch its outputs from the store if a run with the same fingerprint pushed them."""
    push: bool = True
    """After a stage runs, push its outputs and its run record to the store."""

    @field_validator("url")
    @classmethod
    def _url_usable(cls, value: str) -> str:
        why = store_url.problem(value)
        if why:
            raise ValueError(why)
        return value


# --- tracking -------------------------------------------------------------------------------------------


def tracking_uri_problem(value: str) -> str | None:
    """Why ``value`` cannot be a tracking server's address in the committed spec, or None."""
    parts = urlsplit(value)
    shown = sourceurl.redacted(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return f"{shown!r} is not an MLflow server address; write https://host[:port][/path]"
    if parts.username is not None or parts.password is not None:
        return (f"{shown!r}: never put credentials in the spec; MLflow reads them from MLFLOW_TRACKING_TOKEN "
                "or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD")
    if parts.query or parts.fragment:
        return f"{shown!r}: a tracking server's address takes no query or fragment (tokens belong in the environment)"
    return None


class Tracking(Model):
    """Where runs are recorded besides mlspec's own run history (`mlspec runs`), which every run keeps anyway."""

    backend: Literal["local", "mlflow"] = "local"
    """local: the run history only, no server; mlflow: also an MLflow tracking server, one MLflow run per
    pipeline run with a nested run per model (params, metrics, tags, the report as an artifact)."""
    uri: Annotated[str, StringConstraints(min_length=1), Field(json_schema_extra={"format": "uri"})] | None = None
    """The MLflow tracking server, e.g. https://mlflow.example.com; defaults to the environment variable
    MLFLOW_TRACKING_URI. Credentials never go here: MLflow reads MLFLOW_TRACKING_TOKEN (or
    MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD) from the environment."""
    experiment: NonEmptyStr | None = None
    """The MLflow experiment the runs go into; defaults to the project's name."""

    @field_validator("uri")
    @classmethod
    def _uri_usable(cls, value: str | None) -> str | None:
        why = tracking_uri_problem(value) if value is not None else None
        if why:
            raise ValueError(why)
        return value


# --- monitoring -------------------------------------------------------------------------------------------

DriftMethod = Literal["auto", "psi", "ks", "chi2"]


class FeatureDrift(Model):
    method: DriftMethod | None = None
    threshold: Annotated[Number, Field(gt=0)] | None = None


class Drift(Model):
    method: DriftMethod = "auto"
    """auto: Kolmogorov-Smirnov for numeric features, chi-squared for categorical ones."""
    psi_threshold: Annotated[Number, Field(gt=0)] = 0.2
    """A feature drifts when its population stability index exceeds this."""
    p_value: Annotated[Number, Field(gt=0, lt=1)] = 0.05
    """A feature drifts when the KS / chi-squared test's p-value falls below this."""
    features: dict[NonEmptyStr, FeatureDrift] = {}
    """Per-feature overrides of method and threshold."""


class Monitoring(Model):
    current: Name
    """The data source holding recent production inputs."""
    reference: Name | None = None
    """The data source to compare against; defaults to the deployed model's training data."""
    schedule: Annotated[str, StringConstraints(pattern=CRON_PATTERN),
                        Field(json_schema_extra={"pattern": CRON_SCHEMA_PATTERN})] = "0 6 * * 1"
    """Five-field cron expression (UTC): minute 0-59, hour 0-23, day 1-31, month 1-12 or JAN-DEC, weekday 0-7
    or SUN-SAT; each a `*`, a value, a range (1-5) or a list (1,3), optionally with a step (*/15)."""
    drift: Drift = Drift()
    on_drift: Literal["fail", "issue", "retrain"] = "fail"
    """fail the scheduled pipeline, open an issue, or retrain (retrained models still pass the gates)."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        problem = cron_problem(value)
        if problem:
            raise ValueError(problem)
        return value


# --- CI ---------------------------------------------------------------------------------------------------


class SecretRef(Model):
    """A secret of the CI platform: a GitHub Actions secret, a GitLab CI/CD variable (make it masked)."""

    secret: CIVariable


class VariableRef(Model):
    """A non-secret setting of the CI platform: a GitHub Actions variable (repository, organisation or
    environment), a GitLab CI/CD variable."""

    var: CIVariable


def _env_kind(value: Any) -> str:
    """The union member of an environment value: a string is a literal, a mapping names its reference."""
    if isinstance(value, dict):
        return "var" if "var" in value and "secret" not in value else "secret"
    if isinstance(value, VariableRef | SecretRef):
        return "var" if isinstance(value, VariableRef) else "secret"
    return "literal"


EnvValue = Annotated[
    Annotated[SecretRef, Tag("secret")] | Annotated[VariableRef, Tag("var")] | Annotated[EnvLiteral, Tag("literal")],
    Discriminator(_env_kind),
]
"""A value by reference (`{secret: NAME}`, `{var: NAME}`) or a literal string that is no secret."""


class AwsOidc(Model):
    """Assume an AWS IAM role with the job's OIDC token (aws-actions/configure-aws-credentials on GitHub;
    AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE for the AWS SDKs on GitLab)."""

    role: EnvValue
    """ARN of the role to assume, e.g. arn:aws:iam::123456789012:role/mlspec-ci."""
    region: EnvValue
    """AWS region, e.g. eu-west-1."""
    audience: EnvLiteral = "sts.amazonaws.com"


class AzureOidc(Model):
    """Sign in to Microsoft Entra ID with the job's OIDC token (azure/login on GitHub; AZURE_CLIENT_ID,
    AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE for azure-identity on GitLab)."""

    client_id: EnvValue
    tenant_id: EnvValue
    subscription_id: EnvValue | None = None
    """Leave out for storage-only access (no subscription needed)."""
    audience: EnvLiteral = "api://AzureADTokenExchange"


class GcpOidc(Model):
    """Workload Identity Federation with the job's OIDC token (google-github-actions/auth on GitHub; an
    external-account credentials file, GOOGLE_APPLICATION_CREDENTIALS, on GitLab)."""

    workload_identity_provider: EnvValue
    """projects/NUMBER/locations/global/workloadIdentityPools/POOL/providers/PROVIDER"""
    service_account: EnvValue | None = None
    """Service account to impersonate; leave out to use the federated identity directly."""
    audience: EnvLiteral | None = None
    """Defaults to the provider's default audience, https://iam.googleapis.com/ + the provider."""


class Oidc(Model):
    """Short-lived cloud credentials from the CI platform's OIDC token, in the jobs that reach the store or the
    registry only (`id-token: write` on GitHub, `id_tokens:` on GitLab)."""

    aws: AwsOidc | None = None
    azure: AzureOidc | None = None
    gcp: GcpOidc | None = None

    def clouds(self) -> list[str]:
        return [name for name in ("aws", "azure", "gcp") if getattr(self, name) is not None]


class GitHubStage(Model):
    runs_on: list[RunnerLabel] | None = None
    timeout_minutes: Annotated[Int, Field(ge=1, le=4320)] | None = None


class GitLabStage(Model):
    tags: list[RunnerLabel] | None = None
    timeout_minutes: Annotated[Int, Field(ge=1, le=4320)] | None = None


class GitHubCI(Model):
    enabled: bool = True
    runs_on: Annotated[list[RunnerLabel], Field(min_length=1)] = ["ubuntu-latest"]
    """Runner labels of every job, unless a stage overrides them."""
    timeout_minutes: Annotated[Int, Field(ge=1, le=4320)] = 60
    stages: dict[StageKind, GitHubStage] = {}
    """Per-stage overrides, e.g. `train: {runs_on: [self-hosted, gpu]}`."""
    oidc: Oidc = Oidc()


class GitLabCI(Model):
    enabled: bool = True
    image: DockerImage | None = None
    """Docker image of every job; defaults to python:<ci.python>, the full image and not -slim, because the jobs
    need git (the gate and `mlspec diff` read the base branch's lock). An image of your own must have git."""
    tags: list[RunnerLabel] = []
    """Runner tags of every job, unless a stage overrides them."""
    timeout_minutes: Annotated[Int, Field(ge=1, le=4320)] = 60
    stages: dict[StageKind, GitLabStage] = {}
    oidc: Oidc = Oidc()


class CI(Model):
    python: Annotated[str, StringConstraints(pattern=PYTHON_PATTERN),
                      Field(json_schema_extra={"enum": list(PYTHON_VERSIONS)})] = "3.11"
    """Python version of the CI jobs, one of 3.11 to 3.14; quote it ("3.12"), YAML reads 3.10 as 3.1."""
    mlspec_version: Version | None = None
    """mlspec version the jobs install; defaults to the version that compiled the pipeline."""
    default_branch: BranchName = "main"
    cache: bool = True
    """Cache pip downloads and stage outputs between pipeline runs."""
    requirements: list[Requirement] = []
    """Extra pip requirements of the jobs, e.g. xgboost==2.1.0 for a non-scikit-learn estimator."""
    requirements_file: CIPath | None = None
    env: dict[EnvName, EnvValue] = {}
    """Environment of the jobs that reach the store or the registry (stage, deploy, monitor and retrain jobs;
    never the report and comment jobs): name -> `{secret: NAME}`, `{var: NAME}` or a literal, non-secret string."""
    github: GitHubCI = GitHubCI()
    gitlab: GitLabCI = GitLabCI()

    @field_validator("python", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            raise ValueError(f'must be a quoted string such as "3.11"; YAML read {value!r} as a number')
        return value

    @field_validator("python")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in PYTHON_VERSIONS:
            raise ValueError(f"{value!r} is not a CPython version mlspec supports; use one of "
                             + ", ".join(PYTHON_VERSIONS))
        return value


# --- serving ----------------------------------------------------------------------------------------------

InputPolicy = Literal["count", "reject"]


class Serving(Model):
    """What `mlspec serve` does with inputs unlike the training data. Either way each response counts them per
    feature (`input_issues`); `reject` answers 422 instead, naming the feature, the value and what training saw."""

    unseen_categories: InputPolicy = "count"
    """A categorical value never seen in training (the model encodes it as "unknown"): `count` or `reject`."""
    out_of_range: InputPolicy = "count"
    """A numeric value below the training minimum or above its maximum: `count` or `reject`."""

    def rejects(self) -> frozenset[str]:
        """The kinds of input issue answered with 422 (names as in the response's `input_issues`)."""
        return frozenset(k for k in ("unseen_categories", "out_of_range") if getattr(self, k) == "reject")


# --- the spec ---------------------------------------------------------------------------------------------


class Spec(Model):
    """An ML project: data, validation, training, evaluation gates, deployment, monitoring and CI."""

    model_config = ConfigDict(title="mlspec.yaml")

    version: Literal[1]
    """Spec format version; always 1 for this mlspec."""
    project: Name
    task: Task
    """binary or multiclass classification, or regression."""
    data: Data
    prepare: dict[Name, PrepareStep] = {}
    """Named commands that build files of the project (a training table from raw data) before the data stages."""
    validation: dict[Name, Suite] = {}
    """Named expectation suites."""
    training: Training
    evaluation: Evaluation
    deploy: dict[Name, Target] = {}
    """Named deployment targets."""
    registry: Registry = Registry()
    store: Store | None = None
    """The shared store; without one, everything stays in the workspace beside mlspec.yaml."""
    monitoring: Monitoring | None = None
    serving: Serving = Serving()
    """How `mlspec serve` treats inputs unlike the training data."""
    tracking: Tracking = Tracking()
    """Where runs are recorded besides the local run history: an MLflow tracking server."""
    ci: CI = CI()
