"""The search inside `train:<model>`: trials cached by fingerprint, the best refitted, CV on training rows only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mlspec.runtime import bundle
from mlspec.runtime.runner import run
from mlspec.runtime.search import executors
from mlspec.runtime.search.cv import FoldScore
from tests.runtime.search.kit import cached_files, edit, found, project, stage_dir, statuses, train


def test_a_grid_search_refits_its_best_trial_as_the_model_evaluate_sees(tmp_path: Path) -> None:
    spec = project(tmp_path)
    report, loaded, lines = train(spec)
    assert report.ok, lines
    trials = found(spec)
    means = [t["cv_mean"] for t in trials["trials"]]
    assert [t["params"] for t in trials["trials"]] == [{"C": 0.01}, {"C": 0.1}, {"C": 1.0}, {"C": 10.0}]
    assert trials["best_trial"] == means.index(max(means)) and trials["metric"] == "roc_auc"
    best = trials["trials"][trials["best_trial"]]
    model = bundle.load(stage_dir(spec))
    assert model.metadata["params"]["C"] == best["params"]["C"] == model.model.named_steps["estimator"].C
    assert model.metadata["params"]["max_iter"] == 1000 and model.metadata["params"]["random_state"] == 7
    assert model.metadata["search"] == {"method": "grid", "trials": 4, "best_trial": trials["best_trial"],
                                        "metric": "roc_auc", "cv_score": best["cv_mean"], "cv": 3}
    lock = (spec.parent / "mlspec.lock").read_text(encoding="utf-8")
    assert '"trials": 4' in lock and f'"cv_roc_auc": {best["cv_mean"]}' in lock
    assert any("search: 4 trials: 4 ran, 0 from the cache, 0 failed" in line for line in lines)
    assert len(cached_files(spec)) == 4
    # evaluate scores that very bundle on the holdout rows
    assert run(loaded, ["evaluate"]).ok


def test_raising_a_grid_budget_runs_only_the_new_trials(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [0.01, 0.1, 1.0, 10.0]}\nbudget: 2\ncv: 3")
    assert train(spec)[0].ok
    assert statuses(spec) == {0: "ran", 1: "ran"}
    edit(spec, "budget: 2", "budget: 4")
    report, _, lines = train(spec)
    assert report.ok
    assert statuses(spec) == {0: "cached", 1: "cached", 2: "ran", 3: "ran"}
    assert any("4 trials: 2 ran, 2 from the cache" in line for line in lines)


def test_random_draws_keep_their_first_trials_when_the_budget_grows(tmp_path: Path) -> None:
    space = "method: random\nbudget: 3\ncv: 2\nspace:\n  C: {low: 0.001, high: 10.0, log: true}\n  tol: [0.001, 0.0001]"
    spec = project(tmp_path, space)
    assert train(spec)[0].ok
    first = found(spec)["trials"]
    edit(spec, "budget: 3", "budget: 5")
    assert train(spec)[0].ok
    assert found(spec)["trials"][:3] == first
    assert statuses(spec) == {0: "cached", 1: "cached", 2: "cached", 3: "ran", 4: "ran"}
    assert all(0.001 <= t["params"]["C"] <= 10.0 for t in found(spec)["trials"])


@pytest.mark.parametrize("search", [
    "space: {C: [0.1, 1.0]}\ncv: 2",
    "method: random\nbudget: 3\ncv: 2\nspace: {C: {low: 0.01, high: 10.0, log: true}}",
    "method: optuna\nbudget: 4\nparallel: 2\ncv: 2\nspace: {C: {low: 0.01, high: 10.0, log: true}}",
], ids=["grid", "random", "optuna"])
def test_the_same_spec_gives_the_same_trials_in_another_workspace(tmp_path: Path, search: str) -> None:
    one, two = project(tmp_path / "one", search), project(tmp_path / "two", search)
    assert train(one)[0].ok and train(two)[0].ok
    assert (stage_dir(one) / "trials.json").read_bytes() == (stage_dir(two) / "trials.json").read_bytes()
    assert [p.name for p in cached_files(one)] == [p.name for p in cached_files(two)]
    entries = [json.loads((s.parent / "mlspec.lock").read_text(encoding="utf-8"))["stages"]["train:m"]
               for s in (one, two)]
    assert entries[0] == entries[1] and entries[0]["metrics"]["trials"] > 0


def test_optuna_tells_cached_points_without_fitting_them_again(tmp_path: Path) -> None:
    spec = project(tmp_path, "method: optuna\nbudget: 3\ncv: 2\nspace: {C: {low: 0.01, high: 10.0, log: true}}")
    assert train(spec)[0].ok
    first = found(spec)["trials"]
    edit(spec, "budget: 3", "budget: 5")
    assert train(spec)[0].ok
    assert found(spec)["trials"][:3] == first
    assert statuses(spec) == {0: "cached", 1: "cached", 2: "cached", 3: "ran", 4: "ran"}


def test_cross_validation_sees_only_the_training_sources_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pandas as pd

    spec = project(tmp_path)
    seen: list[Any] = []
    real = executors.score_fold

    def spy(pipeline: Any, x: Any, y: Any, tr: Any, te: Any, how: Any) -> FoldScore:
        seen.append(x)
        return real(pipeline, x, y, tr, te, how)

    monkeypatch.setattr(executors, "score_fold", spy)
    assert train(spec)[0].ok
    training = pd.read_csv(spec.parent / "data" / "train.csv").drop(columns="malignant")
    holdout = pd.read_csv(spec.parent / "data" / "holdout.csv").drop(columns="malignant")
    rows = {tuple(r) for r in training.itertuples(index=False)}
    assert not rows & {tuple(r) for r in holdout.itertuples(index=False)}, "test setup: distinct rows"
    assert len(seen) == 4 * 3
    for x in seen:
        assert {tuple(r) for r in x[training.columns].itertuples(index=False)} == rows


def test_a_failing_trial_is_recorded_and_not_cached_while_the_others_go_on(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [-1.0, 1.0]}\ncv: 2")
    report, _, lines = train(spec)
    assert report.ok, lines
    trials = found(spec)["trials"]
    assert "C" in trials[0]["failed"] and "cv_mean" not in trials[0]
    assert found(spec)["best_trial"] == 1 and statuses(spec) == {0: "failed", 1: "ran"}
    assert len(cached_files(spec)) == 1
    assert any("trial 0 {C: -1.0} failed" in line for line in lines)


def test_a_search_whose_every_trial_fails_is_a_located_error(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [-1.0, -2.0]}\ncv: 2")
    report, _, lines = train(spec)
    assert not report.ok
    errors = [line for line in lines if "every one of the 2 trials" in line]
    assert errors and errors[0].startswith(f"{spec}:18:7: stage train:m: every one of the 2 trials of model 'm' "
                                           "failed; trial 0 {'C': -1.0}: "), errors


def test_a_space_key_the_estimator_does_not_take_is_located(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {Cc: [0.1, 1.0]}\ncv: 2")
    report, _, lines = train(spec)
    assert not report.ok
    assert any(line.startswith(f"{spec}:19:17: stage train:m: unknown parameter 'Cc' of LogisticRegression; "
                               "did you mean 'C'?") for line in lines), lines


def test_trials_travel_through_the_store_to_a_fresh_workspace(tmp_path: Path) -> None:
    import shutil

    # No run cache: the fresh workspace's train stage runs again rather than fetching its outputs.
    spec = project(tmp_path, extra=f"store: {{url: {tmp_path / 'store'}, run_cache: false}}\n")
    assert train(spec)[0].ok
    assert len(list((tmp_path / "store" / "trials" / "m").glob("*.json"))) == 4
    shutil.rmtree(spec.parent / ".mlspec")
    (spec.parent / "mlspec.lock").unlink()
    report, _, lines = train(spec)
    assert report.ok, lines
    assert statuses(spec) == {0: "cached", 1: "cached", 2: "cached", 3: "cached"}
    assert len(cached_files(spec)) == 4  # kept in the workspace too


def test_trials_json_holds_no_run_facts(tmp_path: Path) -> None:
    spec = project(tmp_path)
    assert train(spec)[0].ok
    text = (stage_dir(spec) / "trials.json").read_text(encoding="utf-8")
    assert "seconds" not in text and "cached" not in text and "ran" not in json.loads(text)
