"""The ``validate:<suite>`` stage: run one Great Expectations 1.x suite on one data source, in memory.

The suite comes from the spec (inline ``{expect_name: {kwargs}}`` items) or from a GX suite JSON file. Every
expectation is built before any data is read, so a bad suite file fails fast and points at the spec key. GX
runs with an ephemeral context: no ``gx/`` project folder, no stores on disk, no progress bars, no analytics;
the only files written are ``result.json`` (GX's full validation result) and ``summary.md`` in the stage's
output directory. A failing suite returns a failed verdict listing each failed expectation with sample
unexpected values; a ``warn_only`` suite passes and keeps the failures in its summary.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec import expectations, rowcondition, suitefile
from mlspec.graph import Stage, stage_id
from mlspec.runtime.stages.kind import Ci, Kind, Read, source_read
from mlspec.spec import Spec
from mlspec.suggest import did_you_mean

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.runtime.context import StageContext, StageError, StageResult
    from mlspec.spec import Data, Suite

SAMPLE_VALUES = 5  # unexpected values quoted per failed expectation in messages
PARTIAL_COUNT = 20  # unexpected values kept per expectation in result.json


@dataclass(frozen=True)
class Check:
    """One expectation with where it came from, for messages."""

    index: int
    expectation: Any  # great_expectations.expectations.Expectation
    condition: str | None = None
    """The row condition as the user wrote it (GX reports the Condition built from it)."""


@dataclass(frozen=True)
class ExpectationResult:
    """The result of one expectation of a suite against the data."""

    index: int
    type: str
    kwargs: dict[str, Any]
    success: bool
    detail: str


def _stages(spec: Spec) -> list[Stage]:
    return [Stage(stage_id("validate", name), "validate", name, (stage_id("data", suite.data),))
            for name, suite in spec.validation.items()]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    suite = spec.validation[str(stage.name)]
    return [
        Read(f"validation.{stage.name}"),
        source_read(suite.data),
        # Which columns' values result.json may show (see `undeclared`): excluding a column must rerun the
        # suites, or its values stay in their cached results.
        *(Read(f"data.{key}") for key in ("target", "features", "exclude")),
    ]


def _files(spec: Spec, stage: Stage) -> list[str]:
    suite = spec.validation[str(stage.name)]
    # The table is the snapshot of data:<suite.data>, an upstream output; the suite file is read here.
    return [suite.suite_file] if suite.suite_file else []


KIND = Kind(
    "validate", _stages, _reads, _files,
    libraries=("great-expectations", "pandas", "pyarrow"),
    spec_key=lambda stage: ("validation", str(stage.name)),
    # `validate --data` first: a misspelt column or estimator fails here, before the train jobs start.
    ci=Ci('mlspec validate {spec} -q --data && mlspec run {spec} "validate:$SUITE"', matrix_var="SUITE",
          stage_cache=True),
)


def run(ctx: StageContext) -> StageResult:
    from mlspec.runtime import snapshot
    from mlspec.runtime.context import StageResult

    name = str(ctx.stage.name)
    suite = ctx.spec.validation[name]
    checks = build_checks(ctx.root, name, suite)
    frame = snapshot.read(ctx, suite.data)
    ctx.log(f"validating {len(frame)} rows of {suite.data!r} against {len(checks)} expectations")
    result, order = validate(frame, name, checks)
    result = redact(result, undeclared(ctx.spec.data, [str(c) for c in frame.columns]))
    outcomes = outcomes_of(result, order, {c.index: c.condition for c in checks if c.condition is not None})
    (ctx.out_dir / "result.json").write_text(json.dumps(_stable(result), indent=2) + "\n", encoding="utf-8")
    failed = [o for o in outcomes if not o.success]
    summary = render_summary(name, suite, len(frame), outcomes)
    (ctx.out_dir / "summary.md").write_text(summary, encoding="utf-8")
    metrics = {"rows": len(frame), "expectations": len(outcomes), "failed": len(failed)}
    if not failed:
        return StageResult(metrics, f"{len(outcomes)} expectations passed on {suite.data!r}")
    headline = (f"suite {name!r} on data source {suite.data!r}: "
                f"{len(failed)} of {len(outcomes)} expectations failed")
    listing = "\n".join(f"  - {_line(o)}" for o in failed)
    if suite.warn_only:
        for o in failed:
            ctx.log(f"warning: {_line(o)}")
        return StageResult(metrics, f"{headline} (warn_only)")
    return StageResult(metrics, headline, failed=f"{headline}:\n{listing}")


# --- building the suite -------------------------------------------------------------------------------------


def build_checks(root: Path, name: str, suite: Suite) -> list[Check]:
    """Every expectation of ``suite``, checked by mlspec's own rules first: nothing unchecked reaches GX."""
    from mlspec.runtime.context import StageError

    if suite.expectations is not None:
        checks = []
        for i, item in enumerate(suite.expectations):
            ((etype, kwargs),) = item.items()
            where = ("validation", name, "expectations", i, etype)
            args = dict(kwargs or {})
            problems = expectations.check(etype, args)
            if problems:  # `mlspec validate` refused these already; the stage does not rely on it
                p = problems[0]
                arg = ".".join(str(x) for x in p.path)
                raise StageError(f"{etype}: {arg}: {p.message}" if arg and not p.at_key else f"{etype}: {p.message}",
                                 where)
            checks.append(_check(i, etype, args, _inline_error(etype, where)))
        if not checks:
            raise StageError(f"{suitefile.EMPTY} `- expect_table_row_count_to_be_between: {{min_value: 1}}`",
                             ("validation", name, "expectations"))
        return checks
    return _checks_from_file(root, name, str(suite.suite_file))


def _inline_error(etype: str, where: tuple[str | int, ...]) -> Callable[[str], StageError]:
    from mlspec.runtime.context import StageError

    return lambda message: StageError(f"{etype}: {message}", where)


def _checks_from_file(root: Path, name: str, rel: str) -> list[Check]:
    """The file is read and checked again here: it may have changed since `mlspec validate` looked at it."""
    from mlspec.runtime.context import StageError

    where = ("validation", name, "suite_file")
    try:
        entries = suitefile.read(root, rel)
    except suitefile.SuiteFileError as exc:
        raise StageError(str(exc), where) from None
    problems = suitefile.problems(entries, rel)
    if problems:
        raise StageError(problems[0], where)
    return [_check(e.index, e.type, e.kwargs, _file_error(rel, where, e.at)) for e in entries]


def _file_error(rel: str, where: tuple[str | int, ...], at: str) -> Callable[[str], StageError]:
    from mlspec.runtime.context import StageError

    return lambda message: StageError(f"suite file {rel!r}: {at}: {message}", where)


def _check(index: int, etype: str, kwargs: dict[str, Any], error: Callable[[str], StageError]) -> Check:
    """GX gets a ``Condition`` built from mlspec's parse of ``row_condition``, never the text itself."""
    text = kwargs.pop("row_condition", None)
    kwargs.pop("condition_parser", None)  # only "pandas", the syntax mlspec parsed; GX would warn about it
    if text is not None:
        try:
            kwargs["row_condition"] = rowcondition.to_gx(rowcondition.parse(text))
        except rowcondition.ConditionError as exc:  # checked before; kept for callers that did not
            raise error(f"row_condition: {exc}") from None
    return Check(index, _expectation(etype, kwargs, error), text)


def _expectation(etype: str, kwargs: dict[str, Any], error: Callable[[str], StageError]) -> Any:
    _quiet_gx()
    from great_expectations.exceptions.exceptions import ExpectationNotFoundError
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        cls = get_expectation_impl(etype)
    except ExpectationNotFoundError:
        raise error("unknown expectation type" + did_you_mean(etype, expectations.names())) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # pydantic v1 ValidationError is a ValueError
        raise error(_reason(exc)) from None


def _reason(exc: Exception) -> str:
    """The first message per argument of a pydantic v1 error; GX lists one per member of each union."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    first: dict[str, str] = {}
    for err in errors():
        loc = ".".join(str(p) for p in err["loc"])
        first.setdefault(loc, str(err["msg"]))
    # A root error ("min_value and max_value cannot both be None") often only echoes a field error.
    fields = {k: v for k, v in first.items() if k != "__root__"}
    parts = [f"{k}: {v}" for k, v in fields.items()] or [first.get("__root__", str(exc))]
    return "; ".join(parts)


# --- running ------------------------------------------------------------------------------------------------


def validate(frame: pd.DataFrame, name: str, checks: list[Check]) -> tuple[dict[str, Any], dict[str, int]]:
    """Run ``checks`` on ``frame`` with an in-memory GX context.

    Returns GX's validation result as a JSON dict and the position in the suite of each expectation id.
    """
    _quiet_gx()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GX and its pandas calls warn about their own internals
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        context = gx.get_context(mode="ephemeral", project_config=config)
        asset = context.data_sources.add_pandas("mlspec").add_dataframe_asset(name)
        definition = asset.add_batch_definition_whole_dataframe("all")
        batch = definition.get_batch(batch_parameters={"dataframe": frame})
        # Adding the suite to the context gives each expectation an id; GX reorders results, the ids map
        # them back to the order the user wrote.
        suite = gx.ExpectationSuite(name=name, expectations=[c.expectation for c in checks])
        suite = context.suites.add(suite)
        order = {str(e.id): c.index for c, e in zip(checks, suite.expectations, strict=True)}
        result = batch.validate(
            suite, result_format={"result_format": "SUMMARY", "partial_unexpected_count": PARTIAL_COUNT}
        )
        out: dict[str, Any] = result.to_json_dict()  # type: ignore[no-untyped-call]
    return out, order


# What GX reports of a column's values; kept only for columns the spec uses (see :func:`undeclared`).
_VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "partial_unexpected_index_list",
               "unexpected_list", "unexpected_index_list", "observed_value", "details")
_COLUMN_ARGS = ("column", "column_A", "column_B", "column_list")
REDACTED = "(values not shown: the column is not a feature or the target)"


def undeclared(data: Data, columns: list[str]) -> set[str]:
    """Columns the spec does not use: excluded ones, and when features are declared, any column that is neither
    a feature nor the label. Their values never reach result.json, the summary or CI logs (they may be ids,
    emails or secrets that CI would upload as artifacts)."""
    hidden = {c for c in columns if c in data.exclude}
    if data.features is not None:
        used = {data.target, *data.features.numeric, *data.features.categorical, *data.features.datetime}
        hidden |= {c for c in columns if c not in used}
    return hidden


def redact(result: dict[str, Any], hidden: set[str]) -> dict[str, Any]:
    """``result`` with the raw values removed from every expectation about a column in ``hidden``."""
    if not hidden:
        return result
    out = []
    for r in result.get("results", []):
        kwargs = r.get("expectation_config", {}).get("kwargs", {})
        named: set[str] = set()
        for arg in _COLUMN_ARGS:
            value = kwargs.get(arg)
            named |= {value} if isinstance(value, str) else {v for v in value or [] if isinstance(v, str)}
        if named & hidden and isinstance(r.get("result"), dict):
            kept = {k: v for k, v in r["result"].items() if k not in _VALUE_KEYS}
            r = {**r, "result": {**kept, "redacted": REDACTED}}
        out.append(r)
    return {**result, "results": out}


def _stable(result: dict[str, Any]) -> dict[str, Any]:
    """GX's result without what differs between identical runs (random ids, load time): outputs are digested."""
    out = {k: v for k, v in result.items() if k != "id"}
    out["results"] = [
        {**r, "expectation_config": {k: v for k, v in r["expectation_config"].items() if k != "id"}}
        for r in result["results"]
    ]
    meta = dict(out.get("meta") or {})
    if isinstance(meta.get("batch_markers"), dict):
        meta["batch_markers"] = {k: v for k, v in meta["batch_markers"].items() if k != "ge_load_time"}
    out["meta"] = meta
    return out


def _quiet_gx() -> None:
    import logging

    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def outcomes_of(
    result: dict[str, Any], index_of: dict[str, int], conditions: Mapping[int, str] | None = None
) -> list[ExpectationResult]:
    """Outcomes in suite order; ``conditions`` gives the row condition text of an index, shown in labels."""
    outcomes = []
    for r in result["results"]:
        config = r["expectation_config"]
        kwargs = {k: v for k, v in config["kwargs"].items() if k != "batch_id"}
        index = index_of.get(config.get("id"), -1)
        if conditions and index in conditions:
            kwargs["row_condition"] = conditions[index]
        success = bool(r["success"])
        outcomes.append(ExpectationResult(index, config["type"], kwargs, success, _detail(r, success)))
    return sorted(outcomes, key=lambda o: o.index)


def _detail(r: dict[str, Any], success: bool) -> str:
    info = r.get("exception_info") or {}
    # GX nests exception info by metric id when a metric raised, and keeps it flat otherwise.
    infos = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    raised = [i for i in infos if i.get("raised_exception")]
    if raised:
        message = str(raised[0].get("exception_message") or "the expectation raised").strip()
        return "error: " + message.removeprefix("Error: ")
    res = r.get("result") or {}
    if "unexpected_count" in res:
        count, pct = res.get("unexpected_count") or 0, res.get("unexpected_percent") or 0.0
        text = f"{count} unexpected values ({pct:.2f}%)"
        sample = (res.get("partial_unexpected_list") or [])[:SAMPLE_VALUES]
        if sample and not success:
            text += ", e.g. " + ", ".join(_short(v) for v in sample)
        return text
    if "redacted" in res:
        return str(res["redacted"])
    if "observed_value" in res:
        return f"observed {_short(res['observed_value'], 120)}"
    return ""


# --- reporting ----------------------------------------------------------------------------------------------


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def label(o: ExpectationResult) -> str:
    args = ", ".join(f"{k}={_short(v)}" for k, v in o.kwargs.items())
    return f"{o.type}({args})"


def _line(o: ExpectationResult) -> str:
    return f"[{o.index}] {label(o)}: {o.detail}"


def render_summary(name: str, suite: Suite, rows: int, outcomes: list[ExpectationResult]) -> str:
    failed = sum(not o.success for o in outcomes)
    if not failed:
        verdict = "passed"
    elif suite.warn_only:
        verdict = "passed with warnings (warn_only)"
    else:
        verdict = "failed"
    origin = f"suite file `{suite.suite_file}`" if suite.suite_file else "inline expectations"
    lines = [
        f"# Validation suite `{name}`",
        "",
        f"Data source `{suite.data}`, {rows} rows; {origin}.",
        "",
        f"**{verdict}**: {len(outcomes) - failed} of {len(outcomes)} expectations passed.",
        "",
        "| # | expectation | result | details |",
        "|---|---|---|---|",
    ]
    for o in outcomes:
        status = "passed" if o.success else ("warning" if suite.warn_only else "FAILED")
        cells = [str(o.index), f"`{label(o)}`", status, o.detail]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"
