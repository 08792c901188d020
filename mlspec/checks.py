"""Checks that span sections of a structurally valid spec: references, metrics, expectations, cycles.

Each finding carries the document path it is about, so the loader can point at the exact line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mlspec import expectations
from mlspec.graph import find_cycle
from mlspec.metrics import METRICS, metrics_for
from mlspec.spec import Spec
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
    out += _expectations(spec)
    out += _metrics(spec)
    out += _deploy(spec)
    out += _files(spec, root)
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
    for kind in ("numeric", "categorical"):
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
    if spec.monitoring is not None:
        for column in spec.monitoring.drift.features:
            if column not in seen:
                out.append(Finding(("monitoring", "drift", "features", column),
                                   f"unknown feature {column!r}" + did_you_mean(column, seen, "features"),
                                   at_key=True))
    return out


def _expectations(spec: Spec) -> list[Finding]:
    out: list[Finding] = []
    for suite_name, suite in spec.validation.items():
        for i, item in enumerate(suite.expectations or []):
            ((name, kwargs),) = item.items()
            path: tuple[str | int, ...] = ("validation", suite_name, "expectations", i, name)
            info = expectations.lookup(name)
            if info is None:
                out.append(Finding(path, f"unknown Great Expectations expectation {name!r}"
                                   + did_you_mean(name, expectations.names()), at_key=True))
                continue
            given = kwargs or {}
            for arg in given:
                if arg not in info.allowed:
                    out.append(Finding((*path, arg), f"unknown argument {arg!r} of {name}"
                                       + did_you_mean(arg, info.allowed), at_key=True))
            missing = [a for a in info.required if a not in given]
            if missing:
                args = ", ".join(f"{a}: ..." for a in missing)
                out.append(Finding(path, f"{name} needs {', '.join(repr(a) for a in missing)}; write "
                                   f"`{name}: {{{args}}}`"))
    return out


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


def _files(spec: Spec, root: Path) -> list[Finding]:
    """Missing data files are warnings: CI may fetch them (dvc pull, a download step) before `mlspec run`."""
    out: list[Finding] = []
    for name, source in spec.data.sources.items():
        if not (root / source.path).exists():
            out.append(Finding(("data", "sources", name, "path"), f"{source.path!r} does not exist (yet)",
                               warning=True))
    for name, suite in spec.validation.items():
        if suite.suite_file is not None and not (root / suite.suite_file).is_file():
            out.append(Finding(("validation", name, "suite_file"), f"{suite.suite_file!r} does not exist (yet)",
                               warning=True))
    return out
