"""`mlspec diff` without git: comparing two locks and two specs, and the table and JSON it prints."""

from __future__ import annotations

import json

from mlspec.diff import Diff, as_json, compare, dumps, render
from mlspec.runtime import lockfile
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
        ("metric", "evaluate.champion"): ("ridge", "forest", None, True),
        ("metric", "evaluate.mae"): (40.0, None, None, True),
        ("metric", "evaluate.r2"): (0.5, 0.55, 0.55 - 0.5, True),
        ("metric", "evaluate.rmse"): (None, 50.0, None, True),
        ("param", "training.seed"): (0, 0, 0.0, False),
        ("param", "training.models.ridge.estimator"): ("sklearn.linear_model.Ridge",) * 2 + (None, False),
        ("param", "training.models.ridge.params.alpha"): (1.0, 2.0, 1.0, True),
        ("param", "training.models.ridge.params.solver.name"): ("auto", "auto", None, False),
        ("param", "training.models.forest.estimator"): (None, "sklearn.ensemble.RandomForestRegressor", None, True),
        ("data", "data/train.csv"): ("sha256:" + "a" * 64, "sha256:" + "b" * 64, None, True),
    }


def test_table_lists_what_changed() -> None:
    d = Diff("main", tuple(compare(OLD, NEW, OLD_SPEC, NEW_SPEC)), ("main has no mlspec.yaml",))
    assert render(d) == [
        "note: main has no mlspec.yaml",
        "kind    name                                main          workspace                               change",
        "metric  evaluate.champion                   ridge         forest                                  changed",
        "metric  evaluate.mae                        40            -                                       removed",
        "metric  evaluate.r2                         0.5           0.55                                    +0.05",
        "metric  evaluate.rmse                       -             50                                      added",
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
    assert sorted(data) == ["data", "metrics", "notes", "params", "rev"]
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
