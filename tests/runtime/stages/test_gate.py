"""The gate stage in the runner, on the diabetes example (lower-is-better RMSE): verdict file, fingerprint
inputs, failing and warn-only gates with located errors, and the baseline as an input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mlspec.baseline import NoBaseline
from mlspec.load import load
from mlspec.runtime import lockfile, verdict
from mlspec.runtime.hashing import file_digest, manifest, outputs_fingerprint
from tests.gitkit import write_lock
from tests.runtime.gatekit import edit, go

GATE_DIR = Path(".mlspec/stages/gate")
RMSE_LINE, R2_LINE = 46, 47  # of examples/diabetes/mlspec.yaml
# The example deploys to the registry alias staging, so its baseline is that alias's version: none yet.
NO_ALIAS = "the registry has no version of 'diabetes' with the alias 'staging' (nothing deployed there yet)"


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
    assert data["baseline"] == {"source": None, "reason": NO_ALIAS}
    assert (GATE_DIR / "summary.txt").read_text().splitlines() == [
        "gate: pass for model 'ridge' (baseline: none)",
        "metric                   better  current  baseline  change  verdict  reason",
        "root_mean_squared_error  lower   55.71    -         -       pass     55.71 <= max 65; max_drop skipped: no "
        "baseline",
        "r2                       higher  0.3915   -         -       pass     0.3915 >= min 0.3",
        f"notice: no baseline ({NO_ALIAS}): relative gates (max_drop) skipped, absolute gates (min, max) apply",
    ]
    entry = lock.stages["gate"]
    assert sorted(entry.spec) == ["data.target", "evaluation.champion", "evaluation.data", "evaluation.gates",
                                  "evaluation.metrics", "task"]
    assert entry.inputs == {"<baseline>": NoBaseline(NO_ALIAS).identity}
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
           f"baseline: {NO_ALIAS}" in lines
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
    assert f"ok gate in T: warn: 1 passed, 1 warned (r2); relative gates skipped, no baseline: {NO_ALIAS}" in lines
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
    assert go()[1][-4] == "skip gate: up to date"

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
    assert gate["reason"] == "55.71 <= max 65; equal to the baseline 55.71"


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
    assert _verdict()["baseline"] == {"source": None, "reason": NO_ALIAS}
