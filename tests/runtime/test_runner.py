"""The runner in-process: what runs, what is skipped and why, failures, and the lock it leaves.

The data stage is the real one; validate/train/evaluate are the stand-ins of ``fakestages`` (the real ones
are exercised end to end in ``test_runner_examples.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from importlib import metadata
from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.load import load
from mlspec.runtime import lockfile, runner
from mlspec.runtime.cilog import Log
from mlspec.runtime.hashing import StatCache
from mlspec.runtime.stages import build
from mlspec.runtime.staleness import facts_of
from tests.runtime import fakestages

ALL = ["data:train", "data:holdout", "validate:train_check", "train:m1", "train:m2", "evaluate", "gate"]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny project as the current directory, run with the stand-in stages."""
    fakestages.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    for var in ("MLSPEC_CACHE_DIR", "FAKE_BLOCK", "FAKE_FAIL", "FAKE_ERROR", "FAKE_CRASH"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(runner, "stage_module", fakestages.stage_module)
    return tmp_path


def go(*names: str, force: bool = False) -> tuple[runner.Report, list[str], str]:
    """Run in-process; returns the report, stdout lines with timings masked, and stderr."""
    out, err = io.StringIO(), io.StringIO()
    report = runner.run(load(Path("mlspec.yaml")), names, force=force, log=Log(out, err, {}))
    # The run's id in the history differs every run; tests/runs checks that line.
    lines = [re.sub(r" (in|after) \d+\.\d\d s", r" \1 T", line) for line in out.getvalue().splitlines()
             if not line.startswith("history: run ")]
    return report, lines, err.getvalue()


def planned(*names: str, force: bool = False) -> list[str]:
    return runner.render_plan(runner.plan(load(Path("mlspec.yaml")), names, force=force))


def statuses(report: runner.Report) -> dict[str, str]:
    return {o.stage_id: o.status for o in report.outcomes}


def test_first_run_runs_everything_and_records_it(root: Path) -> None:
    report, lines, err = go()
    assert report.ok and err == ""
    assert lines == [
        "run data:train: no lock entry",
        "  read train.csv: 5 rows, 2 columns",
        "ok data:train in T: 5 rows, 2 columns",
        "run data:holdout: no lock entry",
        "  read holdout.csv: 3 rows, 2 columns",
        "ok data:holdout in T: 3 rows, 2 columns",
        "run validate:train_check: no lock entry",
        "ok validate:train_check in T: 5 rows checked",
        "run train:m1: no lock entry",
        "  pretending to fit sklearn.linear_model.LogisticRegression",
        "ok train:m1 in T: fitted on 5 rows",
        "run train:m2: no lock entry",
        "  pretending to fit sklearn.tree.DecisionTreeClassifier",
        "ok train:m2 in T: fitted on 5 rows",
        "run evaluate: no lock entry",
        "ok evaluate in T: champion m1",
        "run gate: no lock entry",
        "ok gate in T: pass: no gates",
        "mlspec run: 7 ran, 0 up to date",
        "lock: mlspec.lock",
        "outputs: .mlspec/stages",
    ]
    lock = lockfile.read(root / "mlspec.lock")
    assert sorted(lock.stages) == sorted(ALL)
    train = lock.stages["train:m1"]
    # The data stage reads the file; the stages after it read its snapshot, covered by their upstream digest.
    assert lock.stages["data:train"].inputs == {
        "train.csv": "sha256:" + hashlib.sha256((root / "train.csv").read_bytes()).hexdigest()}
    assert sorted(lock.stages["data:train"].outputs) == ["profile.json", "snapshot.parquet"]
    assert train.inputs == {}
    assert sorted(train.upstream) == ["data:train", "validate:train_check"]
    assert sorted(train.spec) == ["data.derived", "data.exclude", "data.features", "data.positive_class",
                                  "data.sources.train", "data.target", "task", "training.models.m1",
                                  "training.seed", "training.trust"]
    assert train.versions["scikit-learn"] == metadata.version("scikit-learn")
    assert list(train.outputs) == ["model.json"]
    assert lock.stages["evaluate"].metrics == {"champion": "m1", "scores": {"m1": 0.888889, "m2": 0.888889}}
    assert not (root / ".mlspec" / "tmp").exists() or list((root / ".mlspec" / "tmp").iterdir()) == []


def test_second_run_skips_everything_and_leaves_the_lock_alone(root: Path) -> None:
    go()
    before = (root / "mlspec.lock").stat()
    report, lines, _ = go()
    assert statuses(report) == dict.fromkeys(ALL, "up to date")
    assert lines[:7] == [f"skip {sid}: up to date" for sid in ALL]
    assert lines[7] == "mlspec run: 0 ran, 7 up to date"
    assert (root / "mlspec.lock").stat().st_mtime_ns == before.st_mtime_ns
    assert planned() == [*[f"skip {sid}: up to date" for sid in ALL], "mlspec plan: 0 to run, 7 up to date"]


def test_changed_holdout_reruns_only_what_reads_it(root: Path) -> None:
    go()
    fakestages.write_csv(root / "holdout.csv", 4)
    assert planned() == [
        "skip data:train: up to date",
        "run data:holdout: input changed: holdout.csv",
        "skip validate:train_check: up to date",
        "skip train:m1: up to date",
        "skip train:m2: up to date",
        "run evaluate: needs data:holdout, which runs first",
        "run gate: needs data:holdout, evaluate, which run first",
        "mlspec plan: 3 to run, 4 up to date",
    ]
    report, lines, _ = go()
    # The stand-in evaluate does not read the holdout rows, so its outputs stay the same; the gate reads them
    # (to score a registry baseline on them), so it runs again.
    assert [sid for sid, s in statuses(report).items() if s == "ran"] == ["data:holdout", "evaluate", "gate"]
    assert "run evaluate: upstream changed: data:holdout" in lines
    assert "run gate: upstream changed: data:holdout" in lines


def test_changed_training_data_reruns_its_branch(root: Path) -> None:
    go()
    fakestages.write_csv(root / "train.csv", 6)
    assert planned()[2:5] == [
        "run validate:train_check: needs data:train, which runs first",
        "run train:m1: needs data:train, validate:train_check, which run first",
        "run train:m2: needs data:train, validate:train_check, which run first",
    ]
    report, _, _ = go()
    assert [sid for sid, s in statuses(report).items() if s == "ran"] == [
        "data:train", "validate:train_check", "train:m1", "train:m2", "evaluate", "gate"]


def test_spec_edits_rerun_only_the_stages_that_read_them(root: Path) -> None:
    go()
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text() + "# a comment changes nothing\n")
    spec.write_text(spec.read_text().replace("{path: holdout.csv}", "{path: holdout.csv, description: later}"))
    assert planned()[-1] == "mlspec plan: 0 to run, 7 up to date"

    spec.write_text(spec.read_text().replace("max_depth: 2", "max_depth: 3"))
    assert planned() == [
        "skip data:train: up to date",
        "skip data:holdout: up to date",
        "skip validate:train_check: up to date",
        "skip train:m1: up to date",
        "run train:m2: spec changed: training.models.m2",
        "run evaluate: needs train:m2, which runs first",
        "run gate: needs evaluate, which runs first",
        "mlspec plan: 3 to run, 4 up to date",
    ]
    spec.write_text(spec.read_text().replace("seed: 1", "seed: 2"))
    assert [line for line in planned() if line.startswith("run ")] == [
        "run train:m1: spec changed: training.seed",
        "run train:m2: spec changed: training.models.m2, training.seed",
        "run evaluate: spec changed: training.seed; needs train:m1, train:m2, which run first",
        "run gate: needs evaluate, which runs first",
    ]


def test_reordering_models_reruns_only_evaluate(root: Path) -> None:
    go()
    spec = root / "mlspec.yaml"
    m1 = "    m1: {estimator: sklearn.linear_model.LogisticRegression, data: train}\n"
    m2 = "    m2: {estimator: sklearn.tree.DecisionTreeClassifier, data: train, params: {max_depth: 2}}\n"
    spec.write_text(spec.read_text().replace(m1 + m2, m2 + m1))
    assert [line for line in planned() if line.startswith("run ")] == [
        "run evaluate: spec changed: training.models", "run gate: needs evaluate, which runs first"]


def test_tampered_outputs_are_detected(root: Path) -> None:
    go()
    model = root / ".mlspec" / "stages" / "train" / "m1" / "model.json"
    model.write_text("{}\n")
    (model.parent / "extra.txt").write_text("x")
    (root / ".mlspec" / "stages" / "data" / "holdout" / "profile.json").unlink()
    lines = planned()
    assert "run train:m1: output changed: model.json; output not recorded: extra.txt" in lines
    assert "run data:holdout: output missing: profile.json" in lines

    import shutil

    shutil.rmtree(model.parent)
    assert "run train:m1: outputs missing" in planned()
    report, _, _ = go()
    assert report.ok
    assert json.loads(model.read_text())["rows"] == 5
    assert planned()[-1] == "mlspec plan: 0 to run, 7 up to date"


def test_force_reruns_named_stages_and_only_stale_needs(root: Path) -> None:
    go()
    _, lines, _ = go("train:m1", force=True)
    assert lines == [
        "skip data:train: up to date",
        "skip validate:train_check: up to date",
        "run train:m1: --force",
        "  pretending to fit sklearn.linear_model.LogisticRegression",
        "ok train:m1 in T: fitted on 5 rows",
        "mlspec run: 1 ran, 2 up to date",
        "lock: mlspec.lock",
        "outputs: .mlspec/stages",
    ]
    # The deterministic stand-in wrote identical outputs, so nothing downstream is stale.
    assert planned()[-1] == "mlspec plan: 0 to run, 7 up to date"


def test_kind_selects_every_stage_of_that_kind_and_what_they_need(root: Path) -> None:
    report, _, _ = go("train")
    assert list(statuses(report)) == ["data:train", "validate:train_check", "train:m1", "train:m2"]
    report, _, _ = go("evaluate", "data:holdout")
    assert statuses(report) == {**dict.fromkeys(ALL[:-1], "up to date"), "data:holdout": "ran", "evaluate": "ran"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("trian", "unknown stage 'trian'; did you mean 'train'?"),
        ("train:mm1", "unknown stage 'train:mm1'; did you mean 'train:m1'?"),
        ("bogus", "unknown stage 'bogus'; expected one of: data, data:holdout, data:train, evaluate, gate, train, "
                  "train:m1, train:m2, validate, validate:train_check"),
        ("deploy:staging", "stage 'deploy:staging' is not available yet; mlspec run can run prepare, data, "
                           "validate, train, evaluate, gate and monitor stages; deploy with `mlspec deploy TARGET`"),
        ("monitor", "there are no monitor stages in the spec; run `mlspec plan` to list the stages"),
    ],
)
def test_bad_stage_names(root: Path, name: str, message: str) -> None:
    with pytest.raises(MlspecError) as caught:
        go(name)
    assert str(caught.value) == message
    assert not (root / ".mlspec").exists()


def test_kind_without_stages(root: Path) -> None:
    spec = root / "mlspec.yaml"
    text = spec.read_text()
    spec.write_text(text[: text.index("validation:")] + text[text.index("training:"):])
    with pytest.raises(MlspecError) as caught:
        go("validate")
    assert str(caught.value) == "there are no validate stages in the spec; run `mlspec plan` to list the stages"


def test_failed_verdict_keeps_outputs_blocks_dependents_and_is_not_recorded(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_FAIL", "validate:train_check")
    report, lines, err = go()
    assert not report.ok
    assert err == "mlspec.yaml:10:3: stage validate:train_check: suite 'train_check': 1 of 1 checks failed:\n" \
                  "  - y has nulls\n"
    assert statuses(report) == {
        "data:train": "ran", "data:holdout": "ran", "validate:train_check": "failed",
        "train:m1": "blocked", "train:m2": "blocked", "evaluate": "blocked", "gate": "blocked",
    }
    assert lines[6:] == [
        "run validate:train_check: no lock entry",
        "failed validate:train_check in T: 1 of 1 checks failed",
        "blocked train:m1: needs validate:train_check, which did not succeed",
        "blocked train:m2: needs validate:train_check, which did not succeed",
        "blocked evaluate: needs train:m1, train:m2, which did not succeed",
        "blocked gate: needs evaluate, which did not succeed",
        "mlspec run: 2 ran, 0 up to date, 1 failed (validate:train_check), 4 blocked (train:m1, train:m2, evaluate, "
        "gate)",
        "lock: mlspec.lock",
        "outputs: .mlspec/stages",
    ]
    assert (root / ".mlspec/stages/validate/train_check/report.txt").read_text() == "train: 5 rows checked\n"
    assert sorted(lockfile.read(root / "mlspec.lock").stages) == ["data:holdout", "data:train"]

    monkeypatch.delenv("FAKE_FAIL")
    report, lines, _ = go()
    assert report.ok
    assert "run validate:train_check: no lock entry" in lines


def test_failing_again_after_success_removes_the_entry(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    go()
    monkeypatch.setenv("FAKE_FAIL", "validate:train_check")
    go("validate", force=True)
    assert "validate:train_check" not in lockfile.read(root / "mlspec.lock").stages
    assert "run validate:train_check: no lock entry" in planned()


def test_stage_error_is_located_and_independent_stages_finish(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_ERROR", "train:m1")
    report, lines, err = go()
    assert err == "mlspec.yaml:15:3: stage train:m1: the seed is cursed\n"
    assert statuses(report) == {**dict.fromkeys(ALL, "ran"), "train:m1": "failed", "evaluate": "blocked",
                                "gate": "blocked"}
    assert "failed train:m1 after T" in lines
    assert "train:m1" not in lockfile.read(root / "mlspec.lock").stages
    assert not (root / ".mlspec/stages/train/m1").exists()
    assert list((root / ".mlspec/tmp").iterdir()) == []


def test_missing_data_file_is_located_at_its_path(root: Path) -> None:
    (root / "holdout.csv").unlink()
    assert planned()[1] == "run data:holdout: no lock entry"
    report, _, err = go()
    assert err == "mlspec.yaml:8:15: stage data:holdout: data source 'holdout': file 'holdout.csv' not found\n"
    assert statuses(report)["evaluate"] == "blocked"


def test_missing_package_is_a_user_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pandas(kind: str) -> object:
        raise ModuleNotFoundError("No module named 'pandas'", name="pandas")

    monkeypatch.setattr(runner, "stage_module", no_pandas)
    report, _, err = go("data:train")
    assert err == ("mlspec.yaml:7:5: stage data:train: Python package 'pandas' is not installed; "
                   "`pip install 'mlspec-ci[run]'` installs what the built-in stages need\n")
    assert not report.ok


def test_a_bug_in_a_stage_propagates_and_leaves_the_lock_consistent(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_CRASH", "train:m2")
    with pytest.raises(RuntimeError, match="stand-in stage crashed"):
        go()
    assert sorted(lockfile.read(root / "mlspec.lock").stages) == [
        "data:holdout", "data:train", "train:m1", "validate:train_check"]
    monkeypatch.delenv("FAKE_CRASH")
    report, _, _ = go()  # the run lock was released; tmp leftovers are cleared
    assert [sid for sid, s in statuses(report).items() if s == "ran"] == ["train:m2", "evaluate", "gate"]


def test_stages_removed_from_the_spec_leave_the_lock(root: Path) -> None:
    go()
    spec = root / "mlspec.yaml"
    spec.write_text(spec.read_text().replace(
        "    m2: {estimator: sklearn.tree.DecisionTreeClassifier, data: train, params: {max_depth: 2}}\n", ""))
    go()
    assert sorted(lockfile.read(root / "mlspec.lock").stages) == sorted(set(ALL) - {"train:m2"})


def test_version_change_is_named(root: Path) -> None:
    go()
    loaded = load(Path("mlspec.yaml"))
    stage = next(s for s in build(loaded.spec) if s.id == "data:train")
    facts = facts_of(stage, loaded, StatCache(None), {})
    old = {**facts.versions, "pandas": "2.2.0"}
    old_fingerprint = type(facts)(facts.stage_id, facts.kind, facts.spec, old, facts.inputs, facts.upstream)
    lock = lockfile.read(root / "mlspec.lock")
    entry = lock.stages["data:train"]
    written = lockfile.Entry(old_fingerprint.fingerprint, entry.spec, old, entry.inputs, entry.upstream,
                             entry.outputs, entry.metrics)
    lockfile.write(root / "mlspec.lock", lock.with_entry("data:train", written))
    (root / ".mlspec/records/data/train.json").write_text(lockfile.entry_to_json(written))  # as an old run left it
    assert planned()[0] == f"run data:train: versions changed: pandas 2.2.0 -> {metadata.version('pandas')}"


def test_plan_writes_nothing(root: Path) -> None:
    before = sorted(p.name for p in root.iterdir())
    assert planned()[0] == "run data:train: no lock entry"
    assert sorted(p.name for p in root.iterdir()) == before


def test_cache_dir_from_the_environment(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLSPEC_CACHE_DIR", "ci-cache")
    _, lines, _ = go("data:train")
    assert lines[-1] == "outputs: ci-cache/stages"
    assert (root / "ci-cache/stages/data/train/profile.json").is_file()
    assert not (root / ".mlspec").exists()


def test_input_digests_are_cached_for_the_next_run(root: Path) -> None:
    import os
    import time

    for name in ("train.csv", "holdout.csv"):
        os.utime(root / name, (time.time() - 3600, time.time() - 3600))
    go()
    entries = json.loads((root / ".mlspec" / "stat-cache.json").read_text())["entries"]
    assert {str(root / "train.csv"), str(root / "holdout.csv")} <= set(entries)
