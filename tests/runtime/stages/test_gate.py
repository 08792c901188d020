"""The gate stage in the runner, on the diabetes example (lower-is-better RMSE): verdict file, fingerprint
inputs, failing and warn-only gates with located errors, and the baseline as an input."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from mlspec.baseline import NoBaseline
from mlspec.load import load
from mlspec.runtime import lockfile, verdict
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from tests.gitkit import baseline_from_registry, write_lock
from tests.runtime.gatekit import edit, go

GATE_DIR = Path(".mlspec/stages/gate")
RMSE_LINE, R2_LINE = 46, 47  # of examples/diabetes/mlspec.yaml
# The example deploys to the registry alias staging; asked for the registry's baseline, it gets that alias's
# version: none yet.
NO_ALIAS = "the registry has no version of 'diabetes' with the alias 'staging' (nothing deployed there yet)"


# Its file registry has no store, so by default it compares with the base branch's lock: none outside git.
NO_LOCK = "not a git repository"


@pytest.fixture
def registry_baseline(diabetes: Path) -> Path:
    """The example asking for the registry's version as its baseline (the default of a spec whose registry
    outlives a CI job), run once that way: nothing deployed yet."""
    baseline_from_registry(diabetes / "mlspec.yaml")
    report, _, _ = go()
    assert report.ok
    return diabetes


def _verdict() -> dict[str, object]:
    data: dict[str, object] = json.loads((GATE_DIR / "verdict.json").read_text())
    return data


def test_the_verdict_names_the_model_bundle_and_the_gate_settings(diabetes: Path) -> None:
    lock = lockfile.read(Path("mlspec.lock"))
    data = _verdict()
    assert list(data) == ["format", "verdict", "model", "model_digest", "evaluation_digest", "spec_fingerprint",
                          "baseline", "notices", "gates"]
    bundle = outputs_fingerprint(manifest(Path(".mlspec/stages/train/ridge"), file_digest) or {})
    assert (data["verdict"], data["model"], data["model_digest"]) == ("pass", "ridge", bundle)
    assert data["model_digest"] == lock.stages["evaluate"].upstream["train:ridge"]
    assert data["evaluation_digest"] == outputs_fingerprint(lock.stages["evaluate"].outputs)
    assert data["spec_fingerprint"] == verdict.spec_fingerprint(load(Path("mlspec.yaml")).spec)
    assert data["baseline"] == {"source": None, "reason": NO_LOCK}
    assert (GATE_DIR / "summary.txt").read_text().splitlines() == [
        "gate: pass for model 'ridge' (baseline: none)",
        "metric                   better  current  baseline  change  verdict  reason",
        "root_mean_squared_error  lower   55.71    -         -       pass     55.71 <= max 65; max_drop skipped: no "
        "baseline",
        "r2                       higher  0.3915   -         -       pass     0.3915 >= min 0.3",
        f"notice: no baseline ({NO_LOCK}): relative gates (max_drop) skipped, absolute gates (min, max) apply",
    ]
    entry = lock.stages["gate"]
    assert sorted(entry.spec) == ["data.positive_class", "data.target", "evaluation.champion", "evaluation.data",
                                  "evaluation.gates", "evaluation.metrics", "task"]
    assert entry.inputs == {"<baseline>": NoBaseline(NO_LOCK).identity}
    assert list(entry.upstream) == ["data:holdout", "evaluate"]
    assert sorted(entry.outputs) == ["summary.txt", "verdict.json"]
    assert entry.metrics == {"verdict": "pass", "model": "ridge",
                             "gates": {"root_mean_squared_error": "pass", "r2": "pass"}}


def test_editing_a_gate_reruns_only_the_gate_and_a_failure_is_located(diabetes: Path) -> None:
    edit("{max: 65,", "{max: 50,")
    _, lines, _ = go()
    assert [line for line in lines if line.startswith("run ")] == ["run gate: spec changed: evaluation.gates"]

    edit("{max: 50,", "{max: 40,")
    report, lines, err = go(environ={"GITHUB_ACTIONS": "true"})
    assert not report.ok
    assert err == (f"::error file=mlspec.yaml,line={RMSE_LINE},col=5::mlspec.yaml:{RMSE_LINE}:5: stage gate: "
                   "root_mean_squared_error: 55.71 > max 40\n")
    assert "failed gate in T: fail: 1 passed, 1 failed (root_mean_squared_error); relative gates skipped, no " \
           f"baseline: {NO_LOCK}" in lines
    assert "gate" not in lockfile.read(Path("mlspec.lock")).stages  # a failed verdict is never up to date
    assert _verdict()["verdict"] == "fail"
    assert "run gate: no lock entry" in go()[1]  # and so it runs again


def test_every_failing_gate_gets_its_own_error(diabetes: Path) -> None:
    edit("r2: {min: 0.3, warn_only: true}", "r2: {min: 0.5}")
    edit("{max: 65,", "{max: 40,")
    report, _, err = go()
    assert not report.ok
    assert err.splitlines() == [
        f"mlspec.yaml:{RMSE_LINE}:5: stage gate: root_mean_squared_error: 55.71 > max 40",
        f"mlspec.yaml:{R2_LINE}:5: stage gate: r2: 0.3915 < min 0.5",
    ]
    outcome = next(o for o in report.outcomes if o.stage_id == "gate")
    assert outcome.detail == "2 gates failed: root_mean_squared_error, r2"


def test_warn_only_gates_report_but_pass(diabetes: Path) -> None:
    edit("r2: {min: 0.3, warn_only: true}", "r2: {min: 0.5, warn_only: true}")
    report, lines, err = go()
    assert report.ok and err == ""
    assert "  r2: warn: 0.3915 < min 0.5" in lines
    assert f"ok gate in T: warn: 1 passed, 1 warned (r2); relative gates skipped, no baseline: {NO_LOCK}" in lines
    assert lockfile.read(Path("mlspec.lock")).stages["gate"].metrics["verdict"] == "warn"


def test_a_new_baseline_reruns_the_gate(diabetes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "base"
    base.mkdir()
    write_lock(base, {"champion": "forest", "root_mean_squared_error": 54.0, "r2": 0.45})
    monkeypatch.setenv("MLSPEC_BASELINE", str(base / "mlspec.lock"))
    _, lines, _ = go()
    assert [line for line in lines if line.startswith("run ")] == ["run gate: input changed: <baseline>"]
    assert "  root_mean_squared_error: pass: 55.71 <= max 65; 1.714 worse than the baseline 54, within max_drop 5% " \
           "of 54 = 2.7" in lines
    assert _verdict()["baseline"] == {"source": str(base / "mlspec.lock"), "model": "forest",
                                      "metrics": {"root_mean_squared_error": 54.0, "r2": 0.45}, "predictions": False}
    again = go()[1]
    assert "skip gate: up to date" in again and not [line for line in again if line.startswith("run ")]

    write_lock(base, {"champion": "forest", "root_mean_squared_error": 50.0, "r2": 0.45})
    report, lines, err = go()
    assert "run gate: input changed: <baseline>" in lines
    assert err == (f"mlspec.yaml:{RMSE_LINE}:5: stage gate: root_mean_squared_error: 5.714 worse than the baseline "
                   "50, more than max_drop 5% of 50 = 2.5\n")
    assert not report.ok


def test_significance_without_the_baseline_predictions_falls_back_visibly(
    diabetes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    edit('max_drop: "5%"}', 'max_drop: "5%", significance: {resamples: 200}}')
    base = tmp_path / "base"
    base.mkdir()
    write_lock(base, {"champion": "forest", "root_mean_squared_error": 50.0, "r2": 0.45},
               {"predictions.parquet": "sha256:" + "0" * 64})
    monkeypatch.setenv("MLSPEC_BASELINE", str(base / "mlspec.lock"))
    report, _, _ = go()
    assert not report.ok
    assert _verdict()["notices"] == [
        "root_mean_squared_error: significance not tested (the baseline's predictions.parquet (sha256:00000000...) "
        f"is not in .mlspec/baseline/evaluate or {base}/.mlspec/stages/evaluate; restore the base branch's evaluate "
        "outputs there); the plain max_drop threshold applies"]


def test_significance_with_the_baseline_predictions(diabetes: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The baseline is this very run (as the base branch would be before any change): same model, same rows,
    so the bootstrap interval of the worsening is exactly zero."""
    edit('max_drop: "5%"}', 'max_drop: 0, significance: {resamples: 200}}')
    place = Path(".mlspec/baseline/evaluate")
    place.mkdir(parents=True)
    (place / "predictions.parquet").write_bytes(Path(".mlspec/stages/evaluate/predictions.parquet").read_bytes())
    monkeypatch.setenv("MLSPEC_BASELINE", "mlspec.lock")
    report, lines, _ = go()
    assert report.ok
    assert "  significance: paired bootstrap of 'ridge' against the baseline's 'ridge' for root_mean_squared_error" \
        in lines
    gate = next(g for g in _verdict()["gates"] if g["metric"] == "root_mean_squared_error")  # type: ignore[attr-defined]
    assert gate["interval"] == {"low": 0.0, "high": 0.0, "confidence": 0.95, "resamples": 200}
    assert gate["reason"] == "55.71 <= max 65; equal to the baseline 55.71; 95% interval of the worsening [0, 0]"


def test_gate_baseline_is_a_run_option_and_leaves_the_environment_alone(
    diabetes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlspec.cli import main

    base = tmp_path / "base"
    base.mkdir()
    write_lock(base, {"champion": "forest", "root_mean_squared_error": 54.0, "r2": 0.45})
    monkeypatch.setenv("PYDANTIC_DISABLE_PLUGINS", "__all__")  # which main() sets by default
    before = dict(os.environ)
    assert main(["gate", "--baseline", str(base / "mlspec.lock")]) == 0
    assert dict(os.environ) == before
    assert "run gate: input changed: <baseline>" in capsys.readouterr().out
    assert _verdict()["baseline"]["source"] == str(base / "mlspec.lock")  # type: ignore[index]

    # Nothing of the request stayed behind: the next gate goes back to the default baseline.
    assert main(["gate"]) == 0
    assert "run gate: input changed: <baseline>" in capsys.readouterr().out
    assert _verdict()["baseline"] == {"source": None, "reason": NO_LOCK}


# --- the registry's version as the baseline -------------------------------------------------------------------

REGISTRY = Path(".mlspec/registry")
V1_SOURCE = "registry staging = ridge v1"


def _deploy_staging() -> int:
    """Deploy the gated champion to the spec's registry target `staging`; the version number it got."""
    from mlspec.deploy import deploy

    result = deploy(load(Path("mlspec.yaml")), "staging", environ={})
    version: int = result.receipt["version"]
    return version


def _gate(metric: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in _verdict()["gates"] if g["metric"] == metric)  # type: ignore[attr-defined]
    return found


def test_the_registry_version_is_scored_on_the_same_rows_and_the_significance_test_runs(
        registry_baseline: Path) -> None:
    import pandas as pd

    from mlspec.registry import FileRegistry

    v1_metrics = dict(lockfile.read(Path("mlspec.lock")).stages["evaluate"].metrics)
    v1_predictions = pd.read_parquet(".mlspec/stages/evaluate/predictions.parquet")
    assert _deploy_staging() == 1
    edit('max_drop: "5%"}', 'max_drop: "0.5%", significance: {resamples: 300}}')
    edit("alpha: 1.0", "alpha: 300.0")  # ridge gets a little worse: more than max_drop, by a little
    report, lines, _ = go()
    assert "  baseline: scoring registry staging = ridge v1 on the evaluation rows" in lines
    assert "  significance: paired bootstrap of 'ridge' against the baseline's 'ridge' for root_mean_squared_error" \
        in lines

    base = _verdict()["baseline"]
    (v1,) = FileRegistry(REGISTRY).versions("diabetes")
    assert base == {"source": V1_SOURCE, "model": "ridge", "predictions": True,
                    "metrics": {k: v for k, v in v1_metrics.items() if k not in ("champion", "models")},
                    "registry": {"alias": "staging", "model": "diabetes", "version": 1, "digest": v1.digest}}
    # The version's scores are the evaluate stage's own, row for row: the same code on the same rows.
    scored = pd.read_parquet(GATE_DIR / "baseline" / "predictions.parquet")
    assert list(scored.columns) == ["row", "y_true", "ridge:pred"]
    for column in scored.columns:
        assert scored[column].tolist() == v1_predictions[column].tolist(), column

    rmse = _gate("root_mean_squared_error")
    assert rmse["baseline"] == v1_metrics["root_mean_squared_error"]
    assert rmse["interval"] is not None and rmse["interval"]["resamples"] == 300
    # 0.4947 worse is beyond the allowance, but within the noise of these rows: the interval lets it pass.
    assert rmse["reason"].startswith("56.21 <= max 65; 0.4947 worse than the baseline 55.71, more than max_drop "
                                     "0.5% of 55.71 = 0.2786, but not significantly: 95% interval of the worsening [")
    assert report.ok
    assert (GATE_DIR / "summary.txt").read_text().splitlines()[0] == (
        f"gate: pass for model 'ridge' (baseline: {V1_SOURCE})")


def test_moving_the_alias_reruns_the_gate_and_an_unchanged_alias_does_not(registry_baseline: Path) -> None:
    from mlspec.registry import FileRegistry
    from mlspec.registry.base import Actor

    _deploy_staging()
    assert "run gate: input changed: <baseline>" in go()[1]
    assert "skip gate: up to date" in go()[1]

    edit("alpha: 1.0", "alpha: 30.0")  # a better ridge: it passes, and becomes version 2
    assert go()[0].ok
    assert _deploy_staging() == 2
    _, lines, _ = go()
    assert "run gate: input changed: <baseline>" in lines
    assert _verdict()["baseline"]["source"] == "registry staging = ridge v2"  # type: ignore[index]
    assert _gate("root_mean_squared_error")["reason"] == "55.45 <= max 65; equal to the baseline 55.45"
    assert "skip gate: up to date" in go()[1]

    FileRegistry(REGISTRY).rollback("diabetes", "staging", Actor("test", "local"))
    _, lines, _ = go()
    assert "run gate: input changed: <baseline>" in lines
    assert _verdict()["baseline"]["source"] == V1_SOURCE  # type: ignore[index]
    assert _gate("root_mean_squared_error")["reason"] == "55.45 <= max 65; 0.2694 better than the baseline 55.71"


def test_the_registry_baseline_does_not_depend_on_where_the_registry_is(
    diabetes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    _deploy_staging()
    go()
    before = lockfile.read(Path("mlspec.lock")).stages["gate"]
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(REGISTRY, elsewhere)
    shutil.rmtree(REGISTRY)
    monkeypatch.setenv("MLSPEC_REGISTRY", str(elsewhere))
    assert "skip gate: up to date" in go()[1]  # a runner with the registry at another path agrees
    assert lockfile.read(Path("mlspec.lock")).stages["gate"] == before


def test_a_tampered_version_is_refused(registry_baseline: Path) -> None:
    _deploy_staging()
    metadata = REGISTRY / "diabetes/versions/1/bundle/metadata.json"
    metadata.write_text(metadata.read_text().replace('"estimator"', '"estimator" ', 1))
    report, _, err = go()
    assert not report.ok
    assert err == (
        f"mlspec.yaml:48:3: stage gate: the baseline {V1_SOURCE}: version 1 of 'diabetes' "
        f"({REGISTRY / 'diabetes/versions/1'}): bundle/metadata.json changed after it was registered (the digests "
        "differ from the registry's record); refusing to use it. Register the model again (`mlspec deploy`) rather "
        "than editing a version\n")
    # Nothing recorded against the tampered version: the gate's entry is still the one from before the deploy.
    assert lockfile.read(Path("mlspec.lock")).stages["gate"].inputs == {"<baseline>": NoBaseline(NO_ALIAS).identity}


def test_an_unreadable_registry_is_an_error_naming_it(registry_baseline: Path) -> None:
    from mlspec.errors import MlspecError

    _deploy_staging()
    with (REGISTRY / "diabetes/history.jsonl").open("a") as history:
        history.write('{"seq": 3}\n')
    with pytest.raises(MlspecError) as caught:
        go()
    assert str(caught.value) == (
        f"the baseline: cannot read alias 'staging' of 'diabetes' in the registry {REGISTRY}: "
        f"{REGISTRY / 'diabetes/history.jsonl'}:3: not a registry event (KeyError: 'event'); the history is damaged")


def test_a_version_that_cannot_score_the_rows_is_no_baseline(registry_baseline: Path) -> None:
    """The evaluation data lost a column version 1 needs: nothing to compare on these rows, said so."""
    _deploy_staging()
    holdout = Path("data/holdout.csv")
    rows = [line.split(",") for line in holdout.read_text().splitlines()]
    drop = rows[0].index("s6")
    holdout.write_text("".join(",".join(r[:drop] + r[drop + 1:]) + "\n" for r in rows))
    edit("numeric: [age, bmi, bp, s1, s2, s3, s4, s5, s6]", "numeric: [age, bmi, bp, s1, s2, s3, s4, s5]")
    report, lines, _ = go()
    assert report.ok
    reason = _verdict()["baseline"]["reason"]  # type: ignore[index]
    assert reason.startswith(f"{V1_SOURCE} cannot be scored on this run's evaluation rows: ")
    assert "s6" in reason
    assert any(line.startswith("ok gate in T: pass: 2 passed; relative gates skipped, no baseline: "
                               f"{V1_SOURCE} cannot be scored") for line in lines)


def test_no_alias_yet_is_no_baseline_and_the_log_says_where_it_looked(registry_baseline: Path) -> None:
    edit("{max: 65,", "{max: 64,")
    report, lines, _ = go()
    assert report.ok
    assert f"  no baseline: {NO_ALIAS}; the registry is {REGISTRY}" in lines
    assert _verdict()["baseline"] == {"source": None, "reason": NO_ALIAS}


def test_a_regression_against_the_deployed_version_fails_and_the_report_names_it(registry_baseline: Path) -> None:
    from mlspec.report import FILES
    from mlspec.report.outputs import write

    _deploy_staging()
    edit("alpha: 1.0", "alpha: 3000.0")  # ridge much worse; forest is the champion, still worse than version 1
    report, _, err = go()
    assert not report.ok
    assert err == (f"mlspec.yaml:{RMSE_LINE}:5: stage gate: root_mean_squared_error: 3.428 worse than the baseline "
                   "55.71, more than max_drop 5% of 55.71 = 2.786\n")
    write(load(Path("mlspec.yaml")), ["markdown"], environ={})
    markdown = (Path(".mlspec/report") / FILES["markdown"]).read_text()
    assert f"Champion `forest`; baseline: {V1_SOURCE}.\n" in markdown
    assert "not compared: the baseline is a registry version; files are compared with a git revision as the " \
        "baseline (--baseline REV, MLSPEC_BASELINE=REV)" in markdown
