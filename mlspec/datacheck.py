"""`mlspec validate --data`: what the train, evaluate and monitor jobs would stop on, found before they run.

Plain `mlspec validate` reads only the spec. With ``--data`` it also imports each model's estimator (only from
``training.packages``, exactly as the train stage does: the same functions), builds it with its params and
checks it suits the task and the metrics; reads the header of every data source it can reach and checks that
each column the spec names is there with that exact spelling; and reads the target column to check the labels
fit the task. Every problem is a :class:`~mlspec.checks.Finding` on the spec key it is about, located by
:func:`mlspec.load.locate`. Sources that cannot be read here (a file a prepare step or CI makes later, a URL)
are skipped with a note saying so. This module imports pandas and scikit-learn: the CLI imports it only with
``--data``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import confine
from mlspec.checks import Finding, estimator_packages
from mlspec.metrics import METRICS
from mlspec.spec import FileSource, Spec
from mlspec.suggest import closest

if TYPE_CHECKING:
    import pandas as pd

Where = tuple[str | int, ...]
COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz", ".zst": "zstd", ".tar": "tar"}
"""As the file adapter reads CSVs (:mod:`mlspec.sources.file`), so the header is the one the stages see."""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What was not checked and why (one line each)."""
    checked: list[str] = field(default_factory=list)
    """The data sources whose headers were read."""
    files: dict[str, Path] = field(default_factory=dict)
    """Where each data source that could be read was read from."""


def check_data(spec: Spec, root: Path, stages: Path | None = None) -> Report:
    """Every problem the spec's estimators and data would meet in the pipeline; ``root`` is the spec's folder,
    ``stages`` the workspace's stage outputs (where a CI job finds a prepare step's outputs in the artifact of
    the job that ran it, before `mlspec run` puts them where they are declared)."""
    report = Report()
    report.files = _files(spec, root, stages, report)
    estimators = _estimators(spec, report)
    _metric_scores(spec, estimators, report)
    headers = _headers(spec, root, report)
    _columns(spec, headers, report)
    _labels(spec, root, headers, report)
    return report


# --- estimators ---------------------------------------------------------------------------------------------


def _estimators(spec: Spec, report: Report) -> dict[str, Any]:
    """Each model's estimator, built as the train stage builds it; a model that cannot be built is a finding."""
    from mlspec.runtime.context import StageError
    from mlspec.runtime.stages.train import build_estimator, check_task, import_estimator

    built: dict[str, Any] = {}
    allowed = estimator_packages(spec)
    for name, model in spec.training.models.items():
        where: Where = ("training", "models", name)
        try:
            cls = import_estimator(model.estimator, (*where, "estimator"), allowed)
            estimator, _ = build_estimator(cls, model, spec.training.seed, where)
            check_task(estimator, model.estimator, spec.task, (*where, "estimator"))
        except StageError as exc:
            report.findings.append(Finding(exc.spec_path or where, str(exc)))
            continue
        if model.search is not None:  # as the train stage checks them before any trial runs
            from mlspec.runtime.search.stage import unknown_params

            report.findings += [Finding(path, message, at_key=True)
                                for path, message in unknown_params(cls, model.search, where)]
        built[name] = estimator
    return built


def _metric_scores(spec: Spec, estimators: dict[str, Any], report: Report) -> None:
    """A metric of scores (roc_auc, log_loss, ...) needs an estimator that gives them."""
    for i, metric in enumerate(spec.evaluation.metrics):
        known = METRICS.get(metric)
        if known is None or known.needs != "scores":
            continue
        for name, estimator in estimators.items():
            if hasattr(estimator, "predict_proba") or hasattr(estimator, "decision_function"):
                continue
            path = spec.training.models[name].estimator
            report.findings.append(Finding(
                ("evaluation", "metrics", i),
                f"{metric} needs predicted scores, but model {name!r} ({path}) has neither predict_proba nor "
                "decision_function with these params; use metrics of labels (e.g. accuracy) or an estimator "
                "that has one",
            ))


# --- headers ------------------------------------------------------------------------------------------------


def _headers(spec: Spec, root: Path, report: Report) -> dict[str, list[str]]:
    """The column names of each data source that can be read here, by source name."""
    out: dict[str, list[str]] = {}
    for name, source in spec.data.sources.items():
        if name not in report.files:
            continue
        path = report.files[name]
        assert isinstance(source, FileSource)
        try:
            out[name] = _read_header(path, source.inferred_format() or "csv")
        except Exception as exc:  # any reader error is about the file, which the data stage reports the same way
            report.findings.append(Finding(("data", "sources", name, "path"),
                                           f"cannot read the header of {source.path!r}: {type(exc).__name__}: {exc}"))
            continue
        report.checked.append(name)
    return out


def _files(spec: Spec, root: Path, stages: Path | None, report: Report) -> dict[str, Path]:
    """Where each data source that can be read here is: its file, or the recorded output of the prepare step
    that writes it; a note for each of the others."""
    from mlspec.runtime.stages.prepare import FILES

    made = _made_by_steps(spec)
    out: dict[str, Path] = {}
    for name, source in spec.data.sources.items():
        if not isinstance(source, FileSource):
            report.notes.append(f"data source {name!r} is a URL: its columns are checked when the data stage "
                                "fetches it, not here")
            continue
        path = confine.resolve(root, source.path, outside_ok=source.outside_project)
        step = made.get(source.path)
        recorded = stages / "prepare" / step / FILES / source.path if stages and step else None
        if path.is_file():
            out[name] = path
        elif recorded is not None and recorded.is_file():
            out[name] = recorded
        else:
            why = f"an output of prepare step {step!r} that has not run yet" if step else "it does not exist yet"
            report.notes.append(f"data source {name!r} ({source.path}) is not checked: {why}")
    return out


def _made_by_steps(spec: Spec) -> dict[str, str]:
    """Output path -> the prepare step that writes it."""
    return {out: name for name, step in spec.prepare.items() for out in step.outputs}


def _read_header(path: Path, fmt: str) -> list[str]:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(n) for n in pq.read_schema(path).names]
    return [str(c) for c in _read_csv(path, nrows=0).columns]


def _read_csv(path: Path, **kwargs: Any) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(path, compression=COMPRESSION.get(path.suffix.lower()), **kwargs)


# --- columns ------------------------------------------------------------------------------------------------


def _columns(spec: Spec, headers: dict[str, list[str]], report: Report) -> None:
    data = spec.data
    need = report.findings.append
    train_sources = list(dict.fromkeys(m.data for m in spec.training.models.values()))
    features = _feature_names(spec, headers, train_sources)
    for source in train_sources:
        if source not in headers:
            continue
        columns = headers[source]
        _need_all(need, [(data.target, ("data", "target"), "the target")], source, columns)
        declared = [(c, ("data", "features", kind, i), f"data.features.{kind}")
                    for kind in ("numeric", "categorical")
                    for i, c in enumerate(getattr(data.features, kind) if data.features else [])]
        _need_all(need, declared, source, columns)
        _need_all(need, [(c, ("data", "exclude", i), "data.exclude") for i, c in enumerate(data.exclude)],
                  source, columns)
    for suite_name, suite in spec.validation.items():
        if suite.data in headers:
            _need_all(need, list(_suite_columns(suite_name, suite.expectations or [])), suite.data,
                      headers[suite.data])
    if features is None:
        return
    evaluation = spec.evaluation.data
    if evaluation in headers and evaluation not in train_sources:
        wanted = [(data.target, ("evaluation", "data"), "evaluation (the target)")]
        wanted += [(c, ("evaluation", "data"), "the models") for c in features]
        _need_all(need, wanted, evaluation, headers[evaluation])
    mon = spec.monitoring
    if mon is not None:
        for key, watched in (("current", mon.current), ("reference", mon.reference)):
            if watched is not None and watched in headers:
                _need_all(need, [(c, ("monitoring", key), "the models") for c in features], watched,
                          headers[watched])
        for name in mon.drift.features:
            if name not in features:
                need(Finding(("monitoring", "drift", "features", name),
                             f"drift override for {name!r}, which is not a feature of the models"
                             + _suggest(name, features), at_key=True))


def _feature_names(spec: Spec, headers: dict[str, list[str]], train_sources: Sequence[str]) -> list[str] | None:
    """The models' feature columns: declared, or (as the train stage infers them) every column of the
    training data but the target and the excluded ones; None when no training data could be read."""
    if spec.data.features is not None:
        return [*spec.data.features.numeric, *spec.data.features.categorical]
    for source in train_sources:
        if source in headers:
            skip = {spec.data.target, *spec.data.exclude}
            return [c for c in headers[source] if c not in skip]
    return None


def _suite_columns(suite: str, expectations: Iterable[dict[str, Any]]) -> Iterable[tuple[str, Where, str]]:
    for i, expectation in enumerate(expectations):
        for kind, kwargs in expectation.items():
            column = (kwargs or {}).get("column")
            if isinstance(column, str):
                yield column, ("validation", suite, "expectations", i, kind, "column"), f"suite {suite!r}"


def _need_all(need: Callable[[Finding], None], wanted: Iterable[tuple[str, Where, str]], source: str,
              columns: Sequence[str]) -> None:
    """A finding for each (column, spec key, who needs it) whose column ``columns`` lacks."""
    for column, where, who in wanted:
        if column not in columns:
            need(Finding(where, f"data source {source!r} has no column {column!r}, needed by {who}"
                         + _suggest(column, columns)))


def _suggest(name: str, columns: Sequence[str]) -> str:
    # Case first: `Age` for `age` is the commonest slip, and the exact spelling is what pandas matches.
    same = [c for c in columns if c.casefold() == name.casefold()]
    if same:
        return f"; did you mean {same[0]!r}? (column names are case-sensitive)"
    match = closest(name, columns)
    return f"; did you mean {match!r}?" if match is not None else ""


# --- labels -------------------------------------------------------------------------------------------------


def _labels(spec: Spec, root: Path, headers: dict[str, list[str]], report: Report) -> None:
    """The target column of each training source: no missing values, and labels that fit the task."""
    target = spec.data.target
    for source in dict.fromkeys(m.data for m in spec.training.models.values()):
        if target not in headers.get(source, ()):
            continue
        values = _read_column(spec.data.sources[source], report.files[source], target)
        problem = _label_problem(spec, values, source)
        if problem is not None:
            report.findings.append(problem)


def _read_column(source: Any, path: Path, column: str) -> pd.Series:
    if (source.inferred_format() or "csv") == "parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path, columns=[column]).to_pandas()[column]
    return _read_csv(path, usecols=[column])[column]


def _label_problem(spec: Spec, y: pd.Series, source: str) -> Finding | None:
    import pandas as pd

    target = spec.data.target
    missing = int(y.isna().sum())
    if missing:
        return Finding(("data", "target"), f"target column {target!r} of data source {source!r} has {missing} "
                       "missing values; drop or fill those rows")
    if spec.task == "regression":
        if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
            return Finding(("task",), f"target column {target!r} of data source {source!r} is {y.dtype}, not "
                           "numeric; the task is regression (use binary or multiclass for labels)")
        return None
    seen = sorted(y.unique().tolist(), key=repr)
    shown = ", ".join(repr(c) for c in seen[:10]) + (", ..." if len(seen) > 10 else "")
    if spec.task == "binary" and len(seen) != 2:
        binary_only = [m for m in spec.evaluation.metrics if METRICS[m].tasks == frozenset({"binary"})]
        also = f" (and the binary metrics {', '.join(binary_only)} need two)" if binary_only else ""
        fix = "use `task: multiclass` with averaged metrics such as f1_macro" if len(seen) > 2 else \
            "a classifier needs at least two labels in its training data"
        return Finding(("task",), f"the task is binary, but target column {target!r} of data source {source!r} "
                       f"has {len(seen)} labels{also}: {shown}; {fix}")
    if spec.task == "multiclass" and len(seen) < 2:
        return Finding(("task",), f"target column {target!r} of data source {source!r} has a single label "
                       f"({shown}); a classifier needs at least two")
    return positive_class_problem(spec, {label: int(n) for label, n in y.value_counts().items()})


def positive_class_problem(spec: Spec, seen: dict[Any, int]) -> Finding | None:
    """The positive-class rule of a binary task, the one the data stage applies (:mod:`mlspec.labels`): at
    ``data.positive_class`` when one is declared, else at ``data.target``."""
    from mlspec.labels import positive_problem

    if spec.task != "binary":
        return None
    declared = spec.data.positive_class
    message = positive_problem(seen, declared)
    if message is None:
        return None
    return Finding(("data", "positive_class") if declared is not None else ("data", "target"), message)
