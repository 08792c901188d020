"""Checks that span sections of a structurally valid spec: references, metrics, expectations, cycles.

Each finding carries the document path it is about, so the loader can point at the exact line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlspec import cloudauth, confine, expectations, expr, preparecheck, sources, suitefile
from mlspec.graph import find_cycle
from mlspec.metrics import METRICS, metrics_for
from mlspec.searchcheck import check_search
from mlspec.spec import RegistryTarget, Search, Spec, derived_reads
from mlspec.suggest import did_you_mean


@dataclass(frozen=True)
class Finding:
    path: tuple[str | int, ...]
    message: str
    at_key: bool = False
    """The finding is about the key at ``path`` itself (shown at the key, message names it)."""
    warning: bool = False


def check(spec: Spec, root: Path) -> list[Finding]:
    """Every cross-section problem of ``spec``; ``root`` is the directory of the spec file."""
    out: list[Finding] = []
    out += _references(spec)
    out += _features(spec)
    out += _derived(spec)
    out += _expectations(spec, root)
    out += _metrics(spec)
    out += _binary_only(spec)
    out += _deploy(spec)
    out += _baseline(spec)
    out += _files(spec, root)
    out += _estimators(spec)
    out += _ci_env(spec)
    out += _searches(spec)
    return out


def search_metric(spec: Spec, search: Search) -> str:
    """The metric ``search`` optimises: its own, else the champion's (by default the first evaluation metric)."""
    if search.metric is not None:
        return search.metric
    champion = spec.evaluation.champion
    if champion is not None and champion.metric is not None:
        return champion.metric
    return spec.evaluation.metrics[0]


def _searches(spec: Spec) -> list[Finding]:
    out: list[Finding] = []
    for name, model in spec.training.models.items():
        if model.search is not None:
            out += [Finding(path, message, at_key=at_key) for path, message, at_key
                    in check_search(spec, model.search, model.params, ("training", "models", name, "search"))]
    return out


def _ci_env(spec: Spec) -> list[Finding]:
    """An entry of ``ci.env`` that an OIDC sign-in of the same jobs sets too: one would override the other."""
    out: list[Finding] = []
    for platform, oidc in (("github", spec.ci.github.oidc), ("gitlab", spec.ci.gitlab.oidc)):
        for cloud in oidc.clouds():
            for name in spec.ci.env:
                if name.upper() in cloudauth.SETS[cloud]:
                    out.append(Finding(("ci", "env", name), f"{name} is set by the OIDC sign-in of "
                                       f"ci.{platform}.oidc.{cloud} in the same jobs; remove one of the two",
                                       at_key=True))
    return out


def _ref(path: tuple[str | int, ...], value: str, defined: Iterable[str], noun: str) -> list[Finding]:
    names = list(defined)
    if value in names:
        return []
    return [Finding(path, f"unknown {noun} {value!r}" + did_you_mean(value, names, noun + "s"))]


def _references(spec: Spec) -> list[Finding]:
    sources = list(spec.data.sources)
    out: list[Finding] = []
    for name, suite in spec.validation.items():
        out += _ref(("validation", name, "data"), suite.data, sources, "data source")
    for name, model in spec.training.models.items():
        out += _ref(("training", "models", name, "data"), model.data, sources, "data source")
        if model.data == spec.evaluation.data:
            out.append(Finding(("training", "models", name, "data"),
                               f"model trains on {model.data!r}, the evaluation data; its metrics will be "
                               "optimistic and gates meaningless: evaluate on a holdout source", warning=True))
    out += _ref(("evaluation", "data"), spec.evaluation.data, sources, "data source")
    if spec.monitoring is not None:
        out += _ref(("monitoring", "current"), spec.monitoring.current, sources, "data source")
        if spec.monitoring.reference is not None:
            out += _ref(("monitoring", "reference"), spec.monitoring.reference, sources, "data source")
    champion = spec.evaluation.champion
    if champion is not None and champion.model is not None:
        out += _ref(("evaluation", "champion", "model"), champion.model, spec.training.models, "model")
    return out


def _features(spec: Spec) -> list[Finding]:
    data = spec.data
    out: list[Finding] = []
    if data.target in data.exclude:
        out.append(Finding(("data", "exclude"), f"the target {data.target!r} is excluded; remove it from `exclude`"))
    if data.features is None:
        return out
    seen: dict[str, str] = {}
    for kind in ("numeric", "categorical", "datetime"):
        for i, column in enumerate(getattr(data.features, kind)):
            path = ("data", "features", kind, i)
            if column == data.target:
                out.append(Finding(path, f"{column!r} is the target; it cannot also be a feature"))
            elif column in data.exclude:
                out.append(Finding(path, f"{column!r} is listed in `exclude`; keep it in one place"))
            elif column in seen:
                where = "listed twice" if seen[column] == kind else f"also listed as {seen[column]}"
                out.append(Finding(path, f"feature {column!r} is {where}"))
            seen.setdefault(column, kind)
    # Columns that derived features read are inputs of the model too, and monitored like features.
    for definition in data.derived.values():
        for column, _ in derived_reads(definition):
            seen.setdefault(column, "input")
    if spec.monitoring is not None:
        for column in spec.monitoring.drift.features:
            if column not in seen:
                out.append(Finding(("monitoring", "drift", "features", column),
                                   f"unknown feature {column!r}" + did_you_mean(column, seen, "features"),
                                   at_key=True))
    return out


def _derived(spec: Spec) -> list[Finding]:
    """``data.derived``: expressions that parse, names that clash with no feature, user transformers that
    are both importable (their package in ``training.packages``) and loadable (the class in ``training.trust``)."""
    from mlspec.spec import ExprFeature, TransformerFeature

    data, out = spec.data, []
    features = data.features
    declared = {*features.numeric, *features.categorical, *features.datetime} if features is not None else set()
    for name, definition in data.derived.items():
        path: tuple[str | int, ...] = ("data", "derived", name)
        if name == data.target or name in declared:
            what = "the target" if name == data.target else "a declared feature"
            out.append(Finding(path, f"derived feature {name!r} has the name of {what}; rename it", at_key=True))
        if isinstance(definition, ExprFeature):
            try:
                parsed = expr.parse(definition.expr)
            except expr.ExprError as exc:
                out.append(Finding((*path, "expr"), f"derived feature {name!r}: {exc}"))
                continue
            later = [c for c in parsed.columns if c in data.derived and list(data.derived).index(c)
                     >= list(data.derived).index(name)]
            for column in later:
                out.append(Finding((*path, "expr"), f"derived feature {name!r} reads {column!r}, which is derived "
                                   "after it (or is itself); derived features may read only the ones before them"))
        if isinstance(definition, TransformerFeature):
            package = definition.transformer.split(".")[0]
            if package not in spec.training.packages:
                out.append(Finding((*path, "transformer"), f"{definition.transformer!r} is in package {package!r}; "
                                   f"add it to training.packages (packages: [{package}]) so it may be imported"))
            if definition.transformer not in spec.training.trust:
                out.append(Finding((*path, "transformer"), f"{definition.transformer!r} must be in training.trust "
                                   f"(trust: [{definition.transformer}]) so the models that hold it can be loaded"))
    return out


def _expectations(spec: Spec, root: Path) -> list[Finding]:
    out: list[Finding] = []
    for suite_name, suite in spec.validation.items():
        if suite.expectations == []:
            out.append(Finding(("validation", suite_name, "expectations"), f"{suitefile.EMPTY} "
                               "`- expect_table_row_count_to_be_between: {min_value: 1}`"))
        for i, item in enumerate(suite.expectations or []):
            ((name, kwargs),) = item.items()
            path: tuple[str | int, ...] = ("validation", suite_name, "expectations", i, name)
            out += [Finding((*path, *p.path), p.message, at_key=p.at_key)
                    for p in expectations.check(name, kwargs or {})]
        if suite.suite_file is not None and _readable(root, suite.suite_file):
            out += _suite_file(("validation", suite_name, "suite_file"), root, suite.suite_file)
    return out


def _readable(root: Path, rel: str) -> bool:
    """Exists and may be read; a file that may not is reported once, by :func:`_files`."""
    try:
        return confine.resolve(root, rel, opt_in=False).is_file()
    except confine.Refused:
        return False


def _suite_file(path: tuple[str | int, ...], root: Path, rel: str) -> list[Finding]:
    """A suite file that exists is checked like inline expectations (the validate stage checks it again)."""
    try:
        entries = suitefile.read(root, rel)
    except suitefile.SuiteFileError as exc:
        return [Finding(path, str(exc))]
    return [Finding(path, message) for message in suitefile.problems(entries, rel)]


def _metrics(spec: Spec) -> list[Finding]:
    ev = spec.evaluation
    out: list[Finding] = []
    usable = metrics_for(spec.task)
    for i, name in enumerate(ev.metrics):
        path = ("evaluation", "metrics", i)
        if name not in METRICS:
            out.append(Finding(path, f"unknown metric {name!r}" + (did_you_mean(name, usable) or
                               f"; metrics for {spec.task}: {', '.join(usable)}")))
        elif spec.task not in METRICS[name].tasks:
            out.append(Finding(path, f"metric {name!r} does not apply to task {spec.task!r}; use one of: "
                               + ", ".join(usable)))
        elif name in ev.metrics[:i]:
            out.append(Finding(path, f"metric {name!r} is listed twice"))
    computed = list(dict.fromkeys(ev.metrics))
    for metric in ev.gates:
        if metric not in computed:
            out.append(Finding(("evaluation", "gates", metric),
                               f"gate on metric {metric!r}, which is not computed" + _not_computed(metric, computed),
                               at_key=True))
    if ev.champion is not None and ev.champion.metric is not None and ev.champion.metric not in computed:
        metric = ev.champion.metric
        out.append(Finding(("evaluation", "champion", "metric"),
                           f"champion metric {metric!r} is not computed" + _not_computed(metric, computed)))
    return out


def _binary_only(spec: Spec) -> list[Finding]:
    """The positive class and a decision threshold mean something only for two classes."""
    if spec.task == "binary":
        return []
    out: list[Finding] = []
    if spec.data.positive_class is not None:
        out.append(Finding(("data", "positive_class"), f"positive_class is only for task binary, and the task is "
                           f"{spec.task}; remove it", at_key=True))
    for name, model in spec.training.models.items():
        if model.threshold is not None:
            out.append(Finding(("training", "models", name, "threshold"), "a decision threshold is only for task "
                               f"binary (the positive class's probability), and the task is {spec.task}; remove it",
                               at_key=True))
    return out


def _not_computed(metric: str, computed: list[str]) -> str:
    hint = did_you_mean(metric, computed)
    if hint.startswith("; did you mean"):
        return f"{hint} Otherwise add it to evaluation.metrics"
    return f" (computed: {', '.join(computed)}); fix the name or add it to evaluation.metrics"


def _deploy(spec: Spec) -> list[Finding]:
    out: list[Finding] = []
    for name, target in spec.deploy.items():
        # Branch and tag patterns are checked by their type (mlspec.cistrings.RefPattern).
        if target.model is not None:
            out += _ref(("deploy", name, "model"), target.model, spec.training.models, "model")
        for i, dep in enumerate(target.after):
            if dep == name:
                out.append(Finding(("deploy", name, "after", i), f"target {name!r} cannot come after itself"))
            else:
                out += _ref(("deploy", name, "after", i), dep, spec.deploy, "deploy target")
    cycle = find_cycle({n: [a for a in t.after if a != n] for n, t in spec.deploy.items()})
    if cycle:
        out.append(Finding(("deploy", cycle[0], "after"), "deploy targets form a cycle: " + " -> ".join(cycle)
                           + "; remove one of these `after` entries"))
    return out


def _baseline(spec: Spec) -> list[Finding]:
    chosen = spec.evaluation.baseline
    if chosen.from_ != "registry" or chosen.alias is not None:
        return []
    if any(isinstance(t, RegistryTarget) for t in spec.deploy.values()):
        return []
    return [Finding(("evaluation", "baseline", "from"), "the baseline is from the registry, but no registry deploy "
                    "target names the alias to take it from; add `alias:` (e.g. alias: production)")]


def _estimators(spec: Spec) -> list[Finding]:
    """An estimator's package must be sklearn or declared in `training.packages`: importing a module runs it
    (``antigravity`` opens a browser), so nothing undeclared is imported, here or in the train stage. Whether
    a declared package is installed is looked up without importing it; CI may install it later."""
    import importlib.util

    out: list[Finding] = []
    allowed = estimator_packages(spec)
    for name, model in spec.training.models.items():
        path = ("training", "models", name, "estimator")
        root = model.estimator.split(".", 1)[0]
        if root not in allowed:
            out.append(Finding(path, not_allowed(model.estimator)))
        elif root != "sklearn" and importlib.util.find_spec(root) is None:
            out.append(Finding(path, f"package {root!r} is not installed here; `mlspec run` needs it (list it in "
                               "ci.requirements for CI)", warning=True))
    return out


def estimator_packages(spec: Spec) -> set[str]:
    """The top-level packages estimators may be imported from."""
    return {"sklearn", *spec.training.packages}


def not_allowed(estimator: str) -> str:
    root = estimator.split(".", 1)[0]
    return (f"{estimator!r} would be imported from package {root!r}, which the spec does not declare; add "
            f"`packages: [{root}]` under `training` (only sklearn is allowed without it)")


def _files(spec: Spec, root: Path) -> list[Finding]:
    """Files outside the project or not regular are errors (see :mod:`mlspec.confine`). Missing data files
    are warnings: CI may fetch them (dvc pull, a download step) before `mlspec run`. What a data source needs
    is its adapter's to say."""
    out: list[Finding] = []
    for name, source in spec.data.sources.items():
        adapter = sources.adapter(source)
        # A file a prepare step writes is no concern for not existing before the step runs.
        prepared = any(preparecheck.written(spec, f) for f in adapter.files(source))
        out += [Finding(c.path, c.message, warning=c.warning)
                for c in adapter.concerns(root, name, source) if not (c.warning and prepared)]
    out += [Finding(path, message) for path, message in preparecheck.problems(spec, root, "mlspec.yaml")]
    out += [Finding(path, message, warning=True) for path, message in preparecheck.missing_inputs(spec, root)]
    for name, suite in spec.validation.items():
        if suite.suite_file is not None:
            out += _suite_path(root, ("validation", name, "suite_file"), suite.suite_file)
    return out


def _suite_path(root: Path, path: tuple[str | int, ...], rel: str) -> list[Finding]:
    try:
        found = confine.resolve(root, rel, outside_ok=False, opt_in=False)  # suites have no outside opt-in
    except confine.Refused as exc:
        return [Finding(path, exc.message)]
    if not found.exists():
        return [Finding(path, f"{rel!r} does not exist (yet)", warning=True)]
    return []
