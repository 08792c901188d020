"""`mlspec diff` without git: comparing two locks and two specs, and the table and JSON it prints."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from mlspec.diff import Diff, as_json, champion_switch, change_text, compare, dumps, render, stale_lock
from mlspec.load import load
from mlspec.runtime import lockfile
from mlspec.runtime.cilog import Log
from tests.gitkit import evaluate_entry

OLD_SPEC = {"training": {"seed": 0, "models": {"ridge": {"estimator": "sklearn.linear_model.Ridge",
                                                         "params": {"alpha": 1.0, "solver": {"name": "auto"}}}}}}
NEW_SPEC = {"training": {"seed": 0, "models": {"ridge": {"estimator": "sklearn.linear_model.Ridge",
                                                         "params": {"alpha": 2.0, "solver": {"name": "auto"}}},
                                               "forest": {"estimator": "sklearn.ensemble.RandomForestRegressor"}}}}


def _lock(metrics: dict[str, object], data_digest: str) -> lockfile.Lock:
    data = lockfile.Entry("sha256:0", {}, {}, {"data/train.csv": data_digest}, {}, {}, {"rows": 10})
    return lockfile.Lock({"evaluate": evaluate_entry(metrics), "data:train": data})


OLD = _lock({"champion": "ridge", "r2": 0.5, "mae": 40.0}, "sha256:" + "a" * 64)
NEW = _lock({"champion": "forest", "r2": 0.55, "rmse": 50.0}, "sha256:" + "b" * 64)


def test_rows_cover_both_sides() -> None:
    rows = {(r.kind, r.name): (r.old, r.new, r.change, r.changed) for r in compare(OLD, NEW, OLD_SPEC, NEW_SPEC)}
    assert rows == {
        ("metric", "data:train.rows"): (10, 10, 0.0, False),
        # The champion switched from ridge to forest: its rows compare two models, so they carry no delta.
        ("metric", "evaluate.champion"): ("ridge", "forest", None, True),
        ("metric", "evaluate.mae"): (40.0, None, None, True),
        ("metric", "evaluate.r2"): (0.5, 0.55, None, True),
        ("metric", "evaluate.rmse"): (None, 50.0, None, True),
        # Locks without every model's metrics: the champion's are that model's.
        ("metric", "evaluate.models.ridge.mae"): (40.0, None, None, True),
        ("metric", "evaluate.models.ridge.r2"): (0.5, None, None, True),
        ("metric", "evaluate.models.forest.r2"): (None, 0.55, None, True),
        ("metric", "evaluate.models.forest.rmse"): (None, 50.0, None, True),
        ("param", "training.seed"): (0, 0, 0.0, False),
        ("param", "training.models.ridge.estimator"): ("sklearn.linear_model.Ridge",) * 2 + (None, False),
        ("param", "training.models.ridge.params.alpha"): (1.0, 2.0, 1.0, True),
        ("param", "training.models.ridge.params.solver.name"): ("auto", "auto", None, False),
        ("param", "training.models.forest.estimator"): (None, "sklearn.ensemble.RandomForestRegressor", None, True),
        ("data", "data/train.csv"): ("sha256:" + "a" * 64, "sha256:" + "b" * 64, None, True),
    }


def test_each_model_is_compared_with_itself_across_a_champion_switch() -> None:
    old = _lock({"champion": "ridge", "r2": 0.5, "models": {"ridge": {"r2": 0.5}, "forest": {"r2": 0.45}}}, "x")
    new = _lock({"champion": "forest", "r2": 0.55, "models": {"ridge": {"r2": 0.52}, "forest": {"r2": 0.55}}}, "x")
    d = Diff("main", tuple(compare(old, new, {}, {})), (), champion_switch(old, new))
    assert d.switch == ("ridge", "forest")
    assert render(d) == [
        "note: the champion switched from ridge to forest: evaluate.<metric> rows are two different models; "
        "evaluate.models.<model>.<metric> compare each model with itself",
        "kind    name                       main   workspace  change",
        "metric  evaluate.champion          ridge  forest     "
        "champion switched",
        "metric  evaluate.models.forest.r2  0.45   0.55       +0.1",
        "metric  evaluate.models.ridge.r2   0.5    0.52       +0.02",
        "metric  evaluate.r2                0.5    0.55       "
        "champion switched",
    ]
    assert as_json(d)["champion"] == {"old": "ridge", "new": "forest"}
    assert as_json(d)["metrics"]["evaluate.r2"] == {"old": 0.5, "new": 0.55, "change": None,
                                                    "champion_switched": True}


def test_the_same_champion_keeps_its_delta() -> None:
    old = _lock({"champion": "ridge", "r2": 0.5, "models": {"ridge": {"r2": 0.5}}}, "x")
    new = _lock({"champion": "ridge", "r2": 0.6, "models": {"ridge": {"r2": 0.6}}}, "x")
    rows = {r.name: change_text(r) for r in compare(old, new, {}, {}) if r.changed}
    assert champion_switch(old, new) is None
    assert rows == {"evaluate.r2": "+0.1", "evaluate.models.ridge.r2": "+0.1"}


def test_a_lock_older_than_the_spec_is_noted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mlspec.runtime import runner
    from tests.runtime import fakestages

    spec = fakestages.write_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "stage_module", fakestages.stage_module)
    assert runner.run(load(spec), log=Log(io.StringIO(), io.StringIO(), {})).ok
    lock = lockfile.read(lockfile.path_for(spec))
    assert stale_lock(load(spec), lock) == []
    spec.write_text(spec.read_text().replace("max_depth: 2", "max_depth: 3"))
    assert stale_lock(load(spec), lock) == [
        "mlspec.lock is older than mlspec.yaml: the spec changed since these stages ran: training.models.m2 "
        "(train:m2); the workspace side shows the metrics of the spec as it was (run `mlspec run` to update the "
        "lock)"]


def test_table_lists_what_changed() -> None:
    d = Diff("main", tuple(compare(OLD, NEW, OLD_SPEC, NEW_SPEC)), ("main has no mlspec.yaml",))
    assert render(d) == [
        "note: main has no mlspec.yaml",
        "kind    name                                main          workspace                               change",
        "metric  evaluate.champion                   ridge         forest                                  "
        "champion switched",
        "metric  evaluate.mae                        40            -                                       "
        "champion switched",
        "metric  evaluate.models.forest.r2           -             0.55                                    added",
        "metric  evaluate.models.forest.rmse         -             50                                      added",
        "metric  evaluate.models.ridge.mae           40            -                                       removed",
        "metric  evaluate.models.ridge.r2            0.5           -                                       removed",
        "metric  evaluate.r2                         0.5           0.55                                    "
        "champion switched",
        "metric  evaluate.rmse                       -             50                                      "
        "champion switched",
        "param   training.models.forest.estimator    -             sklearn.ensemble.RandomForestRegressor  added",
        "param   training.models.ridge.params.alpha  1             2                                       +1",
        "data    data/train.csv                      aaaaaaaaaaaa  bbbbbbbbbbbb                            changed",
    ]
    everything = render(d, everything=True)
    assert everything[2].split() == ["metric", "data:train.rows", "10", "10"]
    assert render(Diff("HEAD", ())) == ["no changes against HEAD (--all lists unchanged values)"]


def test_json_groups_by_kind() -> None:
    d = Diff("main", tuple(compare(OLD, NEW, OLD_SPEC, NEW_SPEC)))
    data = json.loads(json.dumps(as_json(d)))
    assert sorted(data) == ["champion", "data", "metrics", "notes", "params", "rev"]
    assert data["params"] == {
        "training.models.forest.estimator": {"old": None, "new": "sklearn.ensemble.RandomForestRegressor",
                                             "change": None},
        "training.models.ridge.params.alpha": {"old": 1.0, "new": 2.0, "change": 1.0},
    }
    assert data["data"] == {"data/train.csv": {"old": "sha256:" + "a" * 64, "new": "sha256:" + "b" * 64,
                                               "change": None}}


def test_infinite_params_keep_the_json_output_valid() -> None:
    spec = {"training": {"seed": 0, "models": {"m": {"estimator": "e", "params": {"tol": float("inf")}}}}}
    old = {"training": {"seed": 0, "models": {"m": {"estimator": "e", "params": {"tol": -1e308}}}}}
    d = Diff("main", tuple(compare(OLD, OLD, old, spec)))
    row = json.loads(dumps(d))["params"]["training.models.m.params.tol"]
    assert row == {"old": -1e308, "new": "inf", "change": None}


def test_a_prepare_steps_inputs_are_data_rows() -> None:
    """What the tables were built from: a changed raw file shows even when the table it made did not change."""
    def lock(raw: str) -> lockfile.Lock:
        step = lockfile.Entry("sha256:0", {}, {}, {"raw/events.csv": raw, "prepare.py": "sha256:" + "c" * 64}, {},
                              {}, {"files": 1})
        return lockfile.Lock({"prepare:table": step})

    rows = {(r.kind, r.name): r.changed for r in compare(lock("sha256:" + "a" * 64), lock("sha256:" + "b" * 64),
                                                          OLD_SPEC, OLD_SPEC)}
    assert (rows[("data", "raw/events.csv")], rows[("data", "prepare.py")]) == (True, False)
