"""The ``monitor`` stage: the current data against the deployed model's reference, one verdict per feature.

Which model: :mod:`mlspec.monitor.deployed`. Which reference: ``monitoring.reference`` when the spec names a
data source (profiled now, with the model's predictions on it), else the ``reference.json`` profile saved with
the model at training time. The statistics and verdicts: :mod:`mlspec.monitor.drift`. Outputs: ``drift.json``,
``drift.md``, ``drift.html`` and ``junit.xml`` (:mod:`mlspec.monitor.report`).

Drift is a failed verdict (``StageResult.failed``, one failure per drifted feature at its spec key), written
with its reports; what follows (fail the job, open an issue, retrain) is the CI pipeline's business, see
``monitoring.on_drift``. Data that cannot be monitored at all (no rows, missing columns, no model) is a
:class:`StageError`: an error, never a drift verdict, so it never triggers a retraining.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlspec.errors import MlspecError
from mlspec.graph import Stage, stage_id, unique
from mlspec.runtime.stages.kind import Ci, Kind, Read, source_read
from mlspec.spec import Spec

if TYPE_CHECKING:
    import pandas as pd

    from mlspec.load import Loaded
    from mlspec.monitor import deployed, drift, performance
    from mlspec.runtime import bundle
    from mlspec.runtime.context import RunOptions, StageContext, StageResult
    from mlspec.spec import Monitoring

MAX_PLOTS = 20
REPORT_FORMAT = 1
MODEL_INPUT = "<monitored model>"
"""The stage's input that stands for the model it watches (see :mod:`mlspec.monitor.deployed`)."""


def _sources(spec: Spec) -> list[str]:
    mon = spec.monitoring
    assert mon is not None  # the graph has a monitor stage only when the spec has a monitoring section
    return [mon.current] + ([mon.reference] if mon.reference else [])


def _stages(spec: Spec) -> list[Stage]:
    if spec.monitoring is None:
        return []
    return [Stage("monitor", "monitor", None, unique(stage_id("data", s) for s in _sources(spec)), scheduled=True)]


def _reads(spec: Spec, stage: Stage) -> list[Read]:
    return [
        # The schedule decides when monitoring runs, not what it finds.
        Read("monitoring", exclude=frozenset({"schedule"})),
        *(Read(p) for p in ("project", "task", "data.target", "data.positive_class", "evaluation.metrics",
                            "registry")),
        # Which alias is watched follows from the deploy targets; only that conclusion matters here...
        Read("deploy.<monitored alias>", derived=_monitored_alias),
        # ...and the model it names is the stage's input (see _model_input).
        Read("deploy", fingerprinted=False),
        # Whether there is a store says where the registry is; the model found there is the input, not the URL.
        Read("store", fingerprinted=False),
        *(source_read(s) for s in _sources(spec)),
        Read("training.trust", fingerprinted=False),  # which model files it may load, not what it finds
    ]


def _monitored_alias(spec: Spec) -> str | None:
    from mlspec.monitor.deployed import monitored_alias

    return monitored_alias(spec)


def _model_input(loaded: Loaded, stage: Stage, options: RunOptions) -> dict[str, str]:
    """The monitored model: the registry version an alias names, or the workspace's champion bundle, by
    digest; a newly deployed model reruns monitoring and an unchanged one does not."""
    from mlspec.monitor.deployed import find
    from mlspec.runtime.context import StageError

    try:
        return {MODEL_INPUT: find(loaded).identity}
    except StageError:  # no model: the stage itself reports it, at its spec key
        return {MODEL_INPUT: "none"}


KIND = Kind(
    "monitor", _stages, _reads,
    files=lambda spec, stage: [],  # the snapshots of its data stages, upstream outputs
    libraries=("matplotlib", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops"),
    spec_key=lambda stage: ("monitoring",),
    external=_model_input,
    scheduled=True,
    # Its job is the scheduled workflow's (mlspec.targets.pipeline.monitor_job), not the training pipeline's.
    ci=Ci(stage_cache=True),
)


def run(ctx: StageContext) -> StageResult:
    from mlspec.monitor import deployed, drift, performance, report
    from mlspec.runtime import snapshot
    from mlspec.runtime.context import StageError, StageResult
    from mlspec.runtime.features import require_columns

    spec: Spec = ctx.spec
    mon = spec.monitoring
    assert mon is not None  # the graph has a monitor stage only when the spec has a monitoring section
    found = deployed.find(ctx.loaded)
    ctx.log(f"model: {found.trained_model}, {found.where}")
    if found.notice:
        ctx.log(f"notice: {found.notice}")
    current = snapshot.read(ctx, mon.current)
    if len(current) == 0:
        raise StageError(f"data source {mon.current!r} has no rows: there is nothing to monitor (an empty export "
                         "is a broken data pipeline, not an absence of drift)", ("monitoring", "current"))
    with tempfile.TemporaryDirectory(prefix="mlspec-monitor.") as scratch:  # a remote registry downloads here
        model = _load(ctx, found, Path(scratch))
        saved = _saved_profile(model) if mon.reference is None else None
    names = model.features
    require_columns(names, [str(c) for c in current.columns], mon.current, ("monitoring", "current"),
                    f"model {found.trained_model!r}")
    drift.check_overrides(mon.drift, names)
    if saved is not None:
        reference, described = saved, f"the training data of {found.trained_model!r} (its saved profile)"
    else:
        reference, described = _reference(ctx, model, found)
    ctx.log(f"comparing {len(current)} rows of {mon.current!r} with {described} ({reference['rows']} rows)")

    verdicts = []
    for name in names:
        ref = reference["features"].get(name)
        if ref is None:
            raise StageError(f"the reference profile has no feature {name!r}; retrain the model", ("monitoring",))
        if ref["kind"] == "datetime":  # time moves on: a date's raw values always drift (see monitor.profile)
            continue
        method, threshold, where, note = drift.settings(mon.drift, name, ref["kind"])
        verdict = drift.compare(name, ref, current[name], method, threshold)
        verdict.note, verdict.spec_path = verdict.note or note, where
        verdicts.append(verdict)
    try:
        scoring: performance.Scoring | None = performance.score(model, current, found.trained_model, mon.current)
    except StageError as exc:
        # A model that cannot read the current data is an error, unless drifted features already explain it
        # (e.g. text in a numeric column): then the verdicts stand and the report says what failed.
        if not any(v.drift for v in verdicts):
            raise
        scoring, unscored = None, str(exc)
    if scoring is not None:
        prediction = _prediction(reference, scoring, spec, mon)
        perf = performance.compare(spec, model, found.trained_model, current, scoring, found.metrics)
    else:
        prediction, perf = None, {"available": False, "rows": 0, "reason": unscored, "metrics": []}

    drifted = [v for v in verdicts if v.drift] + ([prediction] if prediction and prediction.drift else [])
    message = _message(verdicts, prediction)
    result = {
        "format": REPORT_FORMAT,
        "project": spec.project,
        "drift": bool(drifted),
        "message": message,
        "model": {"trained_model": found.trained_model, "where": found.where, "notice": found.notice},
        "current": {"source": mon.current, "rows": len(current)},
        "reference": {"description": described, "rows": reference["rows"]},
        "settings": {**mon.drift.model_dump(mode="json"), "on_drift": mon.on_drift},
        "features": [v.as_json() for v in verdicts],
        "prediction": prediction.as_json() if prediction else None,
        "performance": perf,
        "notes": _notes(verdicts, mon, reference),
    }
    pictures = _plots(drifted, prediction, reference, current, scoring)
    report.write(ctx.out_dir, result, pictures)
    # When, and of which model: facts of this run, outside the content-addressed reports.
    run = {"monitored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "model": found.identity}
    (ctx.run_dir / "monitor.json").write_text(json.dumps(run, indent=2) + "\n", "utf-8")
    metrics = {"drift": bool(drifted), "drifted": [v.name for v in drifted], "features": len(verdicts),
               "current_rows": len(current)}
    if not drifted:
        return StageResult(metrics, message)
    failures = [(f"{'predictions' if v is prediction else f'feature {v.name!r}'}: {v.verdict}: {v.reason}",
                 v.spec_path) for v in drifted]
    return StageResult(metrics, message, failed=message, failures=failures)


def _load(ctx: StageContext, found: deployed.MonitoredModel, scratch: Path) -> bundle.Bundle:
    from mlspec.runtime import bundle
    from mlspec.runtime.context import StageError

    try:
        return bundle.load(found.bundle(scratch), ctx.spec.training.trust, ctx.log)
    except bundle.BundleError as exc:
        raise StageError(f"the monitored model ({found.where}): {exc}", ("monitoring",)) from None


def _saved_profile(model: bundle.Bundle) -> dict[str, Any]:
    from mlspec.monitor import profile as prof
    from mlspec.runtime.context import StageError

    try:
        return prof.read(model.path / prof.FILE)
    except MlspecError as exc:  # a bundle from before profiles, or a damaged one
        raise StageError(str(exc), ("monitoring",)) from None


def _reference(ctx: StageContext, model: bundle.Bundle, found: deployed.MonitoredModel) -> tuple[dict[str, Any], str]:
    """The profile of ``monitoring.reference``, with the model's predictions on it, and what it is, for people."""
    from mlspec.monitor import profile as prof
    from mlspec.runtime import snapshot
    from mlspec.runtime.context import StageError
    from mlspec.runtime.features import require_columns

    spec: Spec = ctx.spec
    mon = spec.monitoring
    assert mon is not None and mon.reference is not None
    frame = snapshot.read(ctx, mon.reference)
    require_columns(model.features, [str(c) for c in frame.columns], mon.reference, ("monitoring", "reference"),
                    f"model {found.trained_model!r}")
    if len(frame) == 0:
        raise StageError(f"data source {mon.reference!r} has no rows to compare with", ("monitoring", "reference"))
    kinds = {f["name"]: f["kind"] for f in model.metadata["input"]["features"]}
    try:
        predictions = prof.predict_sample(model.model, frame, model.features)
    except (ValueError, TypeError) as exc:
        raise StageError(f"model {found.trained_model!r} cannot predict on data source {mon.reference!r}: {exc}",
                         ("monitoring", "reference")) from None
    built = prof.build(frame, [(n, kinds[n]) for n in model.features], predictions, spec.task, mon.reference)
    return built, f"data source {mon.reference!r}"


def _prediction(reference: dict[str, Any], scoring: performance.Scoring, spec: Spec,
                mon: Monitoring) -> drift.FeatureDrift | None:
    import pandas as pd

    from mlspec.monitor import drift

    ref = reference.get("prediction")
    if ref is None:
        return None
    verdict = drift.compare("predictions", ref, pd.Series(scoring.predictions), "psi", mon.drift.psi_threshold)
    verdict.spec_path = ("monitoring", "drift", "psi_threshold")
    verdict.note = "predicted classes" if spec.task != "regression" else "predicted values"
    return verdict


def _message(verdicts: list[drift.FeatureDrift], prediction: drift.FeatureDrift | None) -> str:
    drifted = [v.name for v in verdicts if v.drift]
    pred = prediction is not None and prediction.drift
    if not drifted and not pred:
        return f"no drift in {len(verdicts)} features" + (" or the predictions" if prediction else "")
    if not drifted:
        return f"drift in the predictions (none in the {len(verdicts)} features)"
    shown = ", ".join(drifted[:8]) + (f" and {len(drifted) - 8} more" if len(drifted) > 8 else "")
    return f"drift in {len(drifted)} of {len(verdicts)} features ({shown})" + (" and in the predictions" if pred
                                                                             else "")


def _notes(verdicts: list[drift.FeatureDrift], mon: Monitoring, reference: dict[str, Any]) -> list[str]:
    from mlspec.monitor import stats

    tests = [v for v in verdicts if v.method != "psi"]
    notes = ["PSI floors each bin's share at 1e-4; the KS reference is a 1000-point quantile sketch of the "
             "training data, its p-value conservative (see mlspec.monitor.stats)."]
    if tests:
        level = max(v.threshold for v in tests)
        chance = stats.family_false_alarm(level, len(tests))
        notes.append(f"p-values are per feature, not corrected for multiple testing: with {len(tests)} tests at "
                     f"p < {level:g}, the chance of at least one false alarm when nothing drifted is about "
                     f"{chance:.0%}.")
    psi = [v for v in verdicts if v.method == "psi" and v.psi is not None]
    if psi:
        v = psi[0]
        ref_rows, cur_rows = v.reference["rows"] - v.reference["nulls"], v.current["rows"] - v.current["nulls"]
        bins = len(reference["features"][v.name].get("edges") or reference["features"][v.name]["counts"]) + 1
        noise = (bins - 1) * (1 / ref_rows + 1 / cur_rows)
        notes.append(f"Without any drift, PSI over {bins} bins is about {noise:.2g} by chance alone "
                     f"({bins - 1} x (1/{ref_rows} + 1/{cur_rows}) for {v.name!r}); thresholds below about twice "
                     "that alarm on noise.")
    if mon.on_drift != "fail":
        notes.append(f"on_drift: {mon.on_drift}: in the scheduled pipeline, drift "
                     + ("opens or updates the drift issue." if mon.on_drift == "issue"
                        else "retrains the model; the retrained model is deployed only if it passes the gates."))
    return notes


def _plots(drifted: list[drift.FeatureDrift], prediction: drift.FeatureDrift | None, reference: dict[str, Any],
           current: pd.DataFrame, scoring: performance.Scoring | None) -> dict[str, bytes]:
    import pandas as pd

    from mlspec.monitor import plots

    out: dict[str, bytes] = {}
    for v in drifted[:MAX_PLOTS]:
        if v is prediction and scoring is not None:
            ref, column, title = reference["prediction"], pd.Series(scoring.predictions), "predictions"
        else:
            ref, column, title = reference["features"][v.name], current[v.name], v.name
        png = plots.drift_plot(title, ref, column)
        if png is not None:
            out[title] = png
    return out
