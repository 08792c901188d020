"""What the kinds' declarations give the fingerprint: the values of sections, files, library versions, spec keys.

Which sections each stage reads is checked from the declarations themselves (tests/runtime/stages/
test_init.py); these pin the values recorded in mlspec.lock, which must not change under a refactor.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

import mlspec
from mlspec.graph import Stage
from mlspec.load import Loaded, load, load_text
from mlspec.runtime import stages
from mlspec.runtime.stages import build
from tests.gitkit import baseline_from_registry, write_lock
from tests.support import EXAMPLES

BREAST = load(EXAMPLES / "breast-cancer" / "mlspec.yaml")
WINE = load(EXAMPLES / "wine" / "mlspec.yaml")


def _stage(loaded: Loaded, stage_id: str) -> Stage:
    return next(s for s in build(loaded.spec) if s.id == stage_id)


def test_gates_are_read_by_the_gate_not_by_evaluate() -> None:
    evaluation = stages.spec_sections(BREAST.spec, _stage(BREAST, "evaluate"))["evaluation"]
    assert "gates" not in evaluation and evaluation["metrics"] == ["roc_auc", "accuracy", "f1", "log_loss"]
    gates = stages.spec_sections(BREAST.spec, _stage(BREAST, "gate"))["evaluation.gates"]
    assert gates["roc_auc"] == {"min": 0.95, "max": None, "max_drop": 0.01, "warn_only": False, "significance": None}


def test_excluding_a_column_reruns_the_suites() -> None:
    """A suite's result.json quotes values only of declared columns: a newly excluded column must rerun the
    suites, or its values stay in their cached results."""
    stage = _stage(BREAST, "validate:train_quality")
    before = stages.spec_sections(BREAST.spec, stage)
    edited = BREAST.spec.model_copy(update={"data": BREAST.spec.data.model_copy(
        update={"exclude": [*BREAST.spec.data.exclude, "mean radius"]})})
    after = stages.spec_sections(edited, stage)
    assert before["data.exclude"] != after["data.exclude"]
    assert {k for k in before if before[k] != after[k]} == {"data.exclude"}


def test_the_gate_reads_its_baseline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mlspec.baseline import NoBaseline

    for var in ("MLSPEC_BASELINE", "GITHUB_BASE_REF", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("MLSPEC_REGISTRY", raising=False)
    spec = tmp_path / "mlspec.yaml"  # outside any git repository, nothing deployed
    spec.write_text((EXAMPLES / "breast-cancer" / "mlspec.yaml").read_text())
    loaded = load(spec)  # a file registry without a store: the base branch's lock is the default baseline
    assert stages.external_inputs(loaded, _stage(loaded, "gate")) == {
        "<baseline>": NoBaseline("not a git repository").identity}
    assert stages.external_inputs(loaded, _stage(loaded, "evaluate")) == {}
    baseline_from_registry(spec)
    loaded = load(spec)
    no_alias = "the registry has no version of 'breast-cancer' with the alias 'production' (nothing deployed there yet)"
    assert stages.external_inputs(loaded, _stage(loaded, "gate")) == {"<baseline>": NoBaseline(no_alias).identity}


def test_the_gate_reads_the_baseline_the_run_asks_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mlspec.baseline import Baseline
    from mlspec.runtime.context import RunOptions

    monkeypatch.setenv("MLSPEC_BASELINE", "ignored: the hook takes the run's options, not the environment")
    spec = tmp_path / "mlspec.yaml"
    spec.write_text((EXAMPLES / "breast-cancer" / "mlspec.yaml").read_text())
    (tmp_path / "base").mkdir()
    lock = write_lock(tmp_path / "base", {"champion": "m", "roc_auc": 0.97})
    loaded = load(spec)
    asked = stages.external_inputs(loaded, _stage(loaded, "gate"), RunOptions(baseline=str(lock)))
    assert asked == {"<baseline>": Baseline(str(lock), "m", {"roc_auc": 0.97}).identity}


def test_source_descriptions_are_not_covered() -> None:
    assert stages.spec_sections(BREAST.spec, _stage(BREAST, "data:train")) == {
        "data.sources.train": {"path": "data/train.csv", "format": "csv"}}


@pytest.mark.parametrize(
    ("loaded", "stage_id", "files"),
    [
        (BREAST, "data:current", ["data/current.csv"]),
        # Only the data stage reads a source; the others read its snapshot, covered by their upstream digest.
        (BREAST, "validate:train_quality", []),
        (WINE, "validate:holdout_suite", ["gx/holdout_suite.json"]),
        (WINE, "train:boosting", []),
        (WINE, "evaluate", []),
        (WINE, "gate", []),
    ],
)
def test_input_files(loaded: Loaded, stage_id: str, files: list[str]) -> None:
    assert stages.input_files(loaded.spec, _stage(loaded, stage_id)) == files


def test_versions_come_from_installed_metadata() -> None:
    found = stages.stage_versions(BREAST.spec, _stage(BREAST, "train:forest"))
    assert found == {
        "mlspec": mlspec.__version__,
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        **{d: metadata.version(d) for d in ("numpy", "pandas", "pyarrow", "scikit-learn", "scipy", "skops")},
    }
    assert set(stages.stage_versions(BREAST.spec, _stage(BREAST, "validate:train_quality"))) == {
        "mlspec", "python", "great-expectations", "pandas", "pyarrow"}
    # The gate's result depends on the libraries only when it recomputes metrics for the significance test.
    assert set(stages.stage_versions(BREAST.spec, _stage(BREAST, "gate"))) == {"mlspec", "python"}
    text = (EXAMPLES / "breast-cancer" / "mlspec.yaml").read_text().replace(
        "roc_auc: {min: 0.95, max_drop: 0.01}", "roc_auc: {min: 0.95, max_drop: 0.01, significance: {}}")
    spec = load_text(text, base=EXAMPLES / "breast-cancer" / "mlspec.yaml").spec
    assert set(stages.stage_versions(spec, next(s for s in build(spec) if s.id == "gate"))) == {
        "mlspec", "python", "numpy", "pandas", "pyarrow", "scikit-learn", "scipy"}


def test_estimators_from_other_packages_add_their_version() -> None:
    text = (EXAMPLES / "breast-cancer" / "mlspec.yaml").read_text()
    text = text.replace("sklearn.ensemble.RandomForestClassifier", "pydantic.main.BaseModel")  # any installed package
    text = text.replace("sklearn.linear_model.LogisticRegression", "notinstalled.Estimator")
    text = text.replace("\n  models:", "\n  packages: [pydantic, notinstalled]\n  models:", 1)
    spec = load_text(text, base=EXAMPLES / "breast-cancer" / "mlspec.yaml").spec
    forest = next(s for s in build(spec) if s.id == "train:forest")
    assert stages.stage_versions(spec, forest)["pydantic"] == metadata.version("pydantic")
    evaluate = stages.stage_versions(spec, next(s for s in build(spec) if s.id == "evaluate"))
    assert "pydantic" in evaluate and "notinstalled" not in evaluate


@pytest.mark.parametrize(
    ("stage_id", "line"),
    [("data:holdout", 13), ("validate:train_quality", 21), ("train:forest", 45), ("evaluate", 50), ("gate", 54)],
)
def test_errors_without_a_key_point_at_the_stage_definition(stage_id: str, line: int) -> None:
    assert BREAST.line_of(*stages.spec_key(_stage(BREAST, stage_id))).line == line


def test_data_outputs_of_an_older_shape_are_rerun_not_adopted() -> None:
    """A data stage written before it kept its snapshot has the same spec, files and library versions: only
    the kind's outputs version tells it apart, and the reason names it."""
    from mlspec.runtime.hashing import StatCache
    from mlspec.runtime.lockfile import Entry
    from mlspec.runtime.staleness import facts_of, why

    stage = _stage(BREAST, "data:train")
    found = stages.stage_versions(BREAST.spec, stage)
    assert found["outputs"] == "2"
    assert "outputs" not in stages.stage_versions(BREAST.spec, _stage(BREAST, "train:forest"))
    facts = facts_of(stage, BREAST, StatCache(None), {})
    older = {k: v for k, v in facts.versions.items() if k != "outputs"}
    old_facts = type(facts)(facts.stage_id, facts.kind, facts.spec, older, facts.inputs, facts.upstream)
    entry = Entry(old_facts.fingerprint, facts.spec, older, facts.inputs, {}, {"profile.json": "sha256:x"}, {})
    assert why(facts, entry, {"profile.json": "sha256:x"}, False) == ["versions changed: outputs absent -> 2"]
