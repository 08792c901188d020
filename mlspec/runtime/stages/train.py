"""The ``train:<model>`` stage: fit one estimator inside a Pipeline with its preprocessing, save a bundle.

The Pipeline is ``ColumnTransformer`` (numeric: impute/scale; categorical: impute/encode) followed by the
estimator, so the exact feature transformation travels with the model and evaluation, deployment and
monitoring all feed it raw columns. ``training.seed`` becomes the estimator's ``random_state`` unless the
params set one. Mistakes the user can fix (an import path that does not import, unknown or invalid params,
a label column that does not fit the task) are :class:`StageError`\\ s pointing at the spec key.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlspec.checks import estimator_packages, not_allowed
from mlspec.graph import Stage, stage_id
from mlspec.runtime.stages.kind import (
    Ci,
    Kind,
    Read,
    checked_data,
    estimator_versions,
    package_version,
    source_read,
)
from mlspec.spec import Spec
from mlspec.suggest import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.runtime import boosting
    from mlspec.runtime.context import StageContext, StageResult
    from mlspec.runtime.features import FeatureSet
    from mlspec.spec import DerivedFeature, Preprocessing, TrainedModel

Where = tuple[str | int, ...]

LEARNING_READS = tuple(Read(p) for p in ("task", "data.target", "data.features", "data.exclude", "data.derived",
                                          "training.seed", "data.positive_class"))
"""What training and evaluation both read: they turn a table into features and a label in the same way."""


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("train", name), "train", name, checked_data(spec, model.data))
            for name, model in spec.training.models.items()]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    model = spec.training.models[str(stage.name)]
    return [
        *LEARNING_READS,
        Read(f"training.models.{stage.name}"),
        # The metadata says which of the model file's types it vouches for (a derived feature's user
        # transformer among them).
        Read("training.trust"),
        source_read(model.data),
        # Which packages estimators may come from: it decides whether the stage may run, not what it makes.
        Read("training.packages", fingerprinted=False),
        # A search without its own metric optimises the champion's (checks.search_metric).
        *([Read("evaluation.metrics"), Read("evaluation.champion")]
          if model.search is not None and model.search.metric is None else []),
    ]


KIND = Kind(
    "train", _stages, _reads,
    files=lambda spec, stage: [],  # the snapshot of its data stage, an upstream output
    libraries=("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
    more_versions=lambda spec, stage: estimator_versions(spec, [str(stage.name)]),
    spec_key=lambda stage: ("training", "models", str(stage.name)),
    ci=Ci('mlspec run {spec} "train:$MODEL"', matrix_var="MODEL", stage_cache=True),
)


@dataclass
class Setup:
    """What fitting a model starts from: its class and estimator, its training table, features and labels."""

    name: str
    model: TrainedModel
    where: Where
    cls: type
    estimator: Any
    params: dict[str, Any]
    frame: pd.DataFrame
    features: FeatureSet
    found: list[Any]
    y: pd.Series
    derive: Any


def setup(ctx: StageContext) -> Setup:
    """Import and build the estimator, read the training table and its labels, checking each as it goes."""
    from mlspec.runtime import boosting, snapshot
    from mlspec.runtime.features import resolve

    name = str(ctx.stage.name)
    spec: Spec = ctx.spec
    model = spec.training.models[name]
    where: Where = ("training", "models", name)
    cls = import_estimator(model.estimator, (*where, "estimator"), estimator_packages(spec))
    boosting.check(model, cls, where)
    estimator, params = build_estimator(cls, model, spec.training.seed, where)
    check_task(estimator, model.estimator, spec.task, (*where, "estimator"))
    frame = snapshot.read(ctx, model.data)
    features = resolve(spec.data, frame, model.data)
    found = column_warnings(ctx, frame, features, model.data)
    y = labels(frame, features.label, model.data, spec.task, spec.data.positive_class)
    check_threshold(estimator, model, where)
    derive = derive_step(spec, frame[features.columns], y)
    return Setup(name, model, where, cls, estimator, params, frame, features, found, y, derive)


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime import boosting, bundle, trusted_types
    from mlspec.runtime.context import StageError, StageResult

    spec: Spec = ctx.spec
    s = setup(ctx)
    name, model, where, frame, features, found, y = s.name, s.model, s.where, s.frame, s.features, s.found, s.y
    estimator, params, searched = s.estimator, s.params, None
    if model.search is not None:
        from mlspec.runtime.search import stage as search_stage

        searched = search_stage.run(ctx, s)
        # The best trial, refitted on every training row: the model evaluate, the gate and deploy see.
        best = model.model_copy(update={"params": {**model.params, **searched.best.params}})
        estimator, params = build_estimator(s.cls, best, spec.training.seed, where)
    wrapped = boosting.wrap(estimator, model.estimator, spec.task)
    pipeline = make_pipeline(features, model.preprocessing, wrapped, s.derive)
    ctx.log(f"fitting {model.estimator}: {len(frame)} rows of {model.data!r}, {len(features.columns)} cols")
    fitted, fit_seconds = fit(pipeline, frame[features.columns], y, name, model, where, spec)

    profile = bundle.read_profile(ctx.upstream(f"data:{model.data}"))
    metadata = {
        "format": bundle.BUNDLE_FORMAT,
        "model": name,
        "estimator": model.estimator,
        "params": params,
        "all_params": estimator.get_params(deep=False),
        "seed": spec.training.seed,
        "preprocessing": model.preprocessing.model_dump(),
        "input": input_schema(frame, features, spec.task, pipeline, spec.data.derived),
        "data": {"source": model.data, "digest": profile.get("digest"), "rows": len(frame)},
        "versions": versions(model.estimator),
    }
    if spec.task == "binary":
        # What every consumer of the bundle predicts labels by (mlspec.runtime.scoring.predict_labels), so a
        # deployed model keeps its cut-off whatever a later spec says.
        metadata["decision"] = decision(pipeline, spec.data.positive_class, model.threshold)
    if found:
        metadata["warnings"] = [w.as_json() for w in found]
    if searched is not None:
        metadata["search"] = searched.summary
    trusted = bundle.save(ctx.out_dir, pipeline, metadata, spec.training.trust)
    untrusted = trusted.get(trusted_types.UNREVIEWED)
    if untrusted:  # it would be refused by every loader: say so now, not in the evaluate stage
        raise StageError(f"model {name!r} ({model.estimator}) holds types outside mlspec's reviewed allowlist: "
                         f"{', '.join(untrusted)}; if you trust them, list them in training.trust",
                         ("training", "trust"))
    try:
        save_reference(ctx, frame, features, pipeline, spec.task, model.data)
    except Exception as exc:  # an estimator that fits but cannot predict (e.g. an unusable metric name)
        raise StageError(f"model {name!r} ({model.estimator}) was fitted but cannot predict on its training "
                         f"data: {type(exc).__name__}: {exc}", where) from None
    # When and how long: facts of this run, kept beside the bundle but outside its digests (see context.py).
    timing = {"trained_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "fit_seconds": round(fit_seconds, 3)}
    (ctx.run_dir / "training.json").write_text(json.dumps(timing, indent=2) + "\n", encoding="utf-8")
    metrics: dict[str, Any] = {"rows": len(frame)}
    summary = f"{name}: {model.estimator} fitted on {len(frame)} rows in {fit_seconds:.2f}s"
    if searched is not None:
        metrics |= searched.metrics
        summary += f", best of {searched.summary['trials']} trials"
    if model.early_stopping is not None:
        metrics |= {"fit_rows": fitted.fit_rows}
        if fitted.best_iteration is not None:
            metrics["best_iteration"] = fitted.best_iteration
            summary += f", best iteration {fitted.best_iteration}"
    return StageResult(metrics, summary)


def save_reference(ctx: StageContext, frame: pd.DataFrame, features: FeatureSet, pipeline: Any, task: str,
                   source: str) -> None:
    """``reference.json``: the training data's profile and the model's predictions on it, which monitoring
    compares recent data with (see :mod:`mlspec.monitor.profile`)."""
    from mlspec.monitor import profile

    kinds = [(c, _input_kind(frame, features, c)) for c in features.columns]
    predictions = profile.predict_sample(pipeline, frame, features.columns)
    profile.write(ctx.out_dir, profile.build(frame, kinds, predictions, task, source))


# --- the estimator ------------------------------------------------------------------------------------------


def import_estimator(path: str, where: Where, allowed: Collection[str]) -> type:
    """The class at import path ``path`` (``package.module.Class``), whose top-level package must be one of
    ``allowed``: checked before anything is imported, since importing a module runs it."""
    import inspect
    import pkgutil

    from mlspec.runtime.context import StageError

    parts = path.split(".")
    if parts[0] not in allowed:
        raise StageError(not_allowed(path), where)
    if importlib.util.find_spec(parts[0]) is None:  # looked up without running it
        raise StageError(f"cannot import {path!r}: no module named {parts[0]!r}; is the package installed? "
                         "(CI installs extra packages from ci.requirements)", where)
    module = None
    # Try the longest importable module prefix, so nested attributes (module.Outer.Inner) work too.
    for cut in range(len(parts) - 1, 0, -1):
        modname = ".".join(parts[:cut])
        try:
            module = importlib.import_module(modname)
            break
        except ModuleNotFoundError as exc:
            if exc.name is None or not (modname == exc.name or modname.startswith(exc.name + ".")):
                raise StageError(f"cannot import {path!r}: importing {modname!r} failed: {exc}",
                                 where) from None
            if cut == 1:
                raise StageError(
                    f"cannot import {path!r}: no module named {exc.name!r}; is the package installed? "
                    "(CI installs extra packages from ci.requirements)",
                    where,
                ) from None
        except Exception as exc:  # an import that raises runs user code; report what it said
            raise StageError(f"cannot import {path!r}: importing {modname!r} raised {_reason(exc)}",
                             where) from None
    assert module is not None
    obj: Any = module
    for i, attr in enumerate(parts[cut:], start=cut):
        if not hasattr(obj, attr):
            owner = ".".join(parts[:i])
            public = [n for n in dir(obj) if not n.startswith("_")]
            if hasattr(obj, "__path__"):  # a package: its submodules are not attributes until imported
                public += [m.name for m in pkgutil.iter_modules(obj.__path__) if not m.name.startswith("_")]
            kind = "module" if i == cut else "class"
            raise StageError(f"{kind} {owner!r} has no attribute {attr!r}" + _hint(attr, public), where)
        obj = getattr(obj, attr)
    if not inspect.isclass(obj):
        raise StageError(f"{path!r} is a {type(obj).__name__}, not an estimator class", where)
    if not callable(getattr(obj, "fit", None)) or not callable(getattr(obj, "predict", None)):
        raise StageError(f"{path!r} is not a scikit-learn estimator: it has no fit and predict methods",
                         where)
    return obj


def build_estimator(cls: type, model: TrainedModel, seed: int, where: Where) -> tuple[Any, dict[str, Any]]:
    """An instance of ``cls`` with the spec's params (and the seed, and mlspec's defaults for its library);
    also the params it was given."""
    from mlspec.runtime import boosting
    from mlspec.runtime.context import StageError

    names, open_ended = _param_names(cls)
    params = dict(model.params)
    if not open_ended:
        for key in params:
            if key not in names:
                raise StageError(
                    f"unknown parameter {key!r} of {cls.__name__}" + did_you_mean(key, names),
                    (*where, "params", key),
                )
    # A library's own seed spelling (CatBoost's random_seed, XGBoost's seed) is the user's choice of seed.
    if "random_state" in names and not {"random_state", "random_seed", "seed"} & set(params):
        params["random_state"] = seed
    params = boosting.defaults(model.estimator, params) | params
    try:
        return cls(**params), params
    except Exception as exc:  # constructors of third-party estimators may validate eagerly
        raise StageError(f"{cls.__name__}({_args(params)}) failed: {_reason(exc)}",
                         (*where, "params")) from None


def _param_names(cls: type) -> tuple[list[str], bool]:
    """The constructor's parameter names, and whether it also takes any other (``**kwargs``)."""
    import inspect

    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return [], True
    named = [p.name for p in sig.parameters.values()
             if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.parameters.values()):
        return named, False
    # Wrappers such as xgboost's declare `**kwargs` yet list their real parameters in get_params();
    # unknown names may still be legitimate there, so they are only used to find random_state.
    try:
        return [*named, *cls().get_params(deep=False)], True
    except Exception:
        return named, True


def check_task(estimator: Any, path: str, task: str, where: Where) -> None:
    from sklearn.base import is_classifier, is_regressor

    from mlspec.runtime.context import StageError

    try:
        classifier, regressor = is_classifier(estimator), is_regressor(estimator)
    except Exception:  # estimators without scikit-learn tags: nothing to check
        return
    if task == "regression" and classifier:
        raise StageError(f"{path} is a classifier, but the task is regression; use a regressor", where)
    if task != "regression" and regressor:
        raise StageError(f"{path} is a regressor, but the task is {task} classification; use a classifier",
                         where)


# --- the data -----------------------------------------------------------------------------------------------


def decision(pipeline: Any, positive_class: Any, threshold: float | None) -> dict[str, Any]:
    """The fitted binary ``pipeline``'s positive class (of its classes) and decision threshold (None: its own)."""
    from mlspec import labels as positive
    from mlspec.runtime import bundle

    classes = bundle.jsonable(list(pipeline.classes_))
    return {"positive_class": positive.resolve(classes, positive_class), "threshold": threshold}


def check_threshold(estimator: Any, model: TrainedModel, where: Where) -> None:
    """A decision threshold is on a probability: the estimator must give one."""
    from mlspec.runtime.context import StageError

    if model.threshold is not None and not hasattr(estimator, "predict_proba"):
        raise StageError(f"{model.estimator} has no predict_proba, so no probability for the threshold to cut; "
                         "remove the threshold or use an estimator with predict_proba", (*where, "threshold"))


def label_counts(y: pd.Series) -> dict[Any, int]:
    """Each label of ``y`` (as a Python value) and its number of rows."""
    from mlspec.runtime import bundle

    return {bundle.jsonable(label): int(count) for label, count in y.value_counts(dropna=True).items()}


def labels(frame: pd.DataFrame, column: str, source: str, task: str, positive_class: Any = None) -> pd.Series:
    """The label column ``column`` of ``frame``, checked to fit the task (and, binary, to say which class is
    positive: :func:`mlspec.labels.positive_problem`)."""
    import pandas as pd

    from mlspec.labels import positive_problem
    from mlspec.runtime.context import StageError

    y = frame[column]
    missing = int(y.isna().sum())
    if missing:
        raise StageError(
            f"target column {column!r} of data source {source!r} has {missing} missing values; "
            "drop or fill those rows",
            ("data", "target"),
        )
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
            raise StageError(
                f"target column {column!r} of data source {source!r} is {y.dtype}, not numeric; "
                "the task is regression",
                ("task",),
            )
        return y
    classes = sorted(y.unique().tolist(), key=repr)
    if task == "binary" and len(classes) != 2:
        shown = ", ".join(repr(c) for c in classes[:10]) + (", ..." if len(classes) > 10 else "")
        raise StageError(
            f"the task is binary, but target column {column!r} of data source {source!r} has "
            f"{len(classes)} classes: {shown}",
            ("task",),
        )
    if task == "binary":
        problem = positive_problem(label_counts(y), positive_class)
        if problem is not None:
            where = ("data", "positive_class") if positive_class is not None else ("data", "target")
            raise StageError(f"target column {column!r} of data source {source!r}: {problem}", where)
    return y


def column_warnings(ctx: StageContext, frame: pd.DataFrame, features: FeatureSet, source: str) -> list[Any]:
    """Log what feature inference decided and the columns that look wrong as typed (:mod:`mlspec.runtime.columns`)."""
    from mlspec.runtime import columns

    for notice in features.notices:
        ctx.log(f"notice: {notice}")
    found = columns.warnings(frame, features, source, columns.declared_paths(ctx.spec.data.features))
    for warning in found:
        ctx.log(f"warning: {warning.message}")
    return found


def derive_step(spec: Spec, x: pd.DataFrame, y: pd.Series) -> Any:
    """The fitted ``derive`` step for ``data.derived``, or None. Fitted here first to learn the columns it adds
    (a user transformer's width is known only then); the Pipeline fits it again with the rest."""
    if not spec.data.derived:
        return None
    from mlspec.runtime import derived
    from mlspec.runtime.context import StageError
    from mlspec.transform.derive import Derive

    derive = Derive(derived.steps(spec))
    try:
        return derive.fit(x, y)
    except Exception as exc:  # the user's transformer, or a derived column that is not numbers
        raise StageError(f"computing data.derived failed: {_reason(exc)}", ("data", "derived")) from None


def make_pipeline(features: FeatureSet, prep: Preprocessing, estimator: Any, derive: Any = None) -> Any:
    """``Pipeline([("derive", Derive), ("preprocess", ColumnTransformer), ("estimator", estimator)])`` for
    ``features``; without derived features there is no ``derive`` step. Datetime columns are turned into
    their numeric parts (:class:`mlspec.transform.dates.DateParts`) and imputed like numeric ones."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import (
        MinMaxScaler,
        OneHotEncoder,
        OrdinalEncoder,
        RobustScaler,
        StandardScaler,
    )

    from mlspec.runtime import boosting

    numeric: list[tuple[str, Any]] = []
    if prep.numeric.impute != "none":
        numeric.append(("impute", SimpleImputer(strategy=prep.numeric.impute)))
    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
    if prep.numeric.scale != "none":
        numeric.append(("scale", scalers[prep.numeric.scale]()))
    categorical: list[tuple[str, Any]] = []
    if prep.categorical.impute != "none":
        # No fill_value for "constant": SimpleImputer then uses 0 for numbers and "missing_value" for strings,
        # so integer-coded categories (e.g. sex: 1/2) work as well as text ones.
        categorical.append(("impute", SimpleImputer(strategy=prep.categorical.impute)))
    # Categories never seen in training must not crash evaluation or production scoring.
    if prep.categorical.encode == "onehot":
        categorical.append(("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)))
    elif prep.categorical.encode == "native":  # integer codes the library treats as categories
        categorical.append(("encode", boosting.native_encoder()))
    else:
        categorical.append(("encode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)))
    from mlspec.runtime.derived import fitted_outputs
    from mlspec.transform.dates import DateParts

    transformers: list[tuple[str, Any, list[str]]] = []
    added = fitted_outputs(derive, features.columns) if derive is not None else []
    if features.numeric or added:
        steps = Pipeline(numeric) if numeric else "passthrough"
        transformers.append(("numeric", steps, [*features.numeric, *added]))
    if features.categorical:
        transformers.append(("categorical", Pipeline(categorical), list(features.categorical)))
    if features.datetime:
        # Never one-hot a date: its parts are numbers, missing where the date is (the numeric imputer fills them).
        parts: list[tuple[str, Any]] = [("parts", DateParts())]
        if prep.numeric.impute != "none":
            parts.append(("impute", SimpleImputer(strategy=prep.numeric.impute)))
        if prep.numeric.scale != "none":  # the parts are numeric features: scaled like the others
            parts.append(("scale", scalers[prep.numeric.scale]()))
        transformers.append(("datetime", Pipeline(parts), list(features.datetime)))
    # Dense output: several estimators (HistGradientBoosting*, most third-party ones) reject sparse input.
    preprocess = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    head = [("derive", derive)] if derive is not None else []
    return Pipeline([*head, ("preprocess", preprocess), ("estimator", estimator)])


def fit(pipeline: Any, x: pd.DataFrame, y: pd.Series, name: str, model: TrainedModel, where: Where,
        spec: Spec) -> tuple[boosting.Fitted, float]:
    """Fit ``pipeline`` (see :func:`mlspec.runtime.boosting.fit`); also how long it took."""
    from sklearn.utils._param_validation import InvalidParameterError

    from mlspec.runtime import boosting
    from mlspec.runtime.context import StageError

    start = time.perf_counter()
    try:
        fitted = boosting.fit(pipeline, x, y, model, spec.training.seed, spec.task, where)
    except StageError:
        raise
    except InvalidParameterError as exc:
        raise StageError(f"invalid params for {model.estimator}: {exc}", (*where, "params")) from None
    except (ValueError, TypeError) as exc:
        raise StageError(f"training {name!r} ({model.estimator}) failed: {_reason(exc)}", where) from None
    return fitted, time.perf_counter() - start


def input_schema(frame: pd.DataFrame, features: FeatureSet, task: str, pipeline: Any,
                 derived: Mapping[str, DerivedFeature] | None = None) -> dict[str, Any]:
    """What the model takes and gives; with ``derived`` (``data.derived``), their definitions too, which the
    model computes from those columns (the model card lists them)."""
    from mlspec.runtime import bundle, seen

    # The raw columns a request must carry: the features and the columns derived features read.
    schema: dict[str, Any] = {
        "features": [{"name": c, "kind": _input_kind(frame, features, c), "dtype": str(frame[c].dtype)}
                     for c in features.columns],
        "target": features.label,
        "target_dtype": str(frame[features.label].dtype),
        "task": task,
        "declared": features.declared,
    }
    if task != "regression":
        schema["classes"] = bundle.jsonable(pipeline.classes_)
    # What serving compares requests with (mlspec.runtime.seen): input columns only, not derived ones.
    present = {str(c) for c in frame.columns}
    schema["seen"] = seen.record(frame, [c for c in features.numeric if c in present],
                                 [c for c in features.categorical if c in present])
    if derived:
        schema["derived"] = {n: d.model_dump(exclude_defaults=True) for n, d in derived.items()}
    return schema


def _input_kind(frame: pd.DataFrame, features: FeatureSet, column: str) -> str:
    import pandas as pd

    if column in features.derived_inputs:  # read by derived features only: typed by its dtype
        dtype = frame[column].dtype
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return "datetime"
        return "numeric" if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype) \
            else "categorical"
    return features.kind(column)


def versions(estimator: str) -> dict[str, str]:
    import platform
    from importlib.metadata import version

    import mlspec

    out = {"python": platform.python_version(), "mlspec": mlspec.__version__}
    for dist in ("scikit-learn", "pandas", "numpy", "scipy", "skops"):
        out[dist] = version(dist)
    package = estimator.split(".")[0]
    if package not in ("sklearn", "numpy", "scipy"):
        found = package_version(package)
        if found is not None:
            out[package] = found
    return out


# --- messages -----------------------------------------------------------------------------------------------


def _hint(word: str, choices: list[str]) -> str:
    # Long lists (a module's attributes, an estimator's params) only help as a single suggestion.
    hint = did_you_mean(word, choices)
    return hint if hint.startswith("; did you mean") else ""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _args(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())
