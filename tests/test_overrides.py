"""`--set KEY=VALUE`: parsing, applying over the file, every message, the CLI, and the fingerprint it changes."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlspec.errors import SpecError
from mlspec.load import load, load_text
from mlspec.overrides import Override, parse
from mlspec.runtime import runner
from mlspec.runtime.cilog import Log
from tests.runtime.gatekit import CLEAN
from tests.runtime.stagekit import copy_example
from tests.test_load_errors import BASE


@pytest.mark.parametrize(("text", "keys", "value", "add"), [
    ("training.seed=3", ("training", "seed"), 3, False),
    ("training.models.forest.params.max_depth=12", ("training", "models", "forest", "params", "max_depth"), 12,
     False),
    ("+training.models.forest.params.max_features=0.5", ("training", "models", "forest", "params", "max_features"),
     0.5, True),
    ("evaluation.metrics=[accuracy, f1]", ("evaluation", "metrics"), ["accuracy", "f1"], False),
    ("x.y={impute: median, scale: null}", ("x", "y"), {"impute": "median", "scale": None}, False),
    ("x=", ("x",), None, False),
    ("x='012'", ("x",), "012", False),
    ("x=a=b", ("x",), "a=b", False),
    ("x=yes", ("x",), True, False),  # as the file reads it (PyYAML: YAML 1.1)
    ("x=true", ("x",), True, False),
])
def test_parse(text: str, keys: tuple[str, ...], value: Any, add: bool) -> None:
    assert parse(text) == Override(text, keys, value, add)


def loaded_with(*overrides: str) -> Any:
    return load_text(BASE, "mlspec.yaml", overrides=overrides)


def test_values_are_applied_over_the_file_and_recorded() -> None:
    loaded = loaded_with("+training.models.forest.params.max_depth=12", "training.seed=7",
                         "+training.models.forest.params.n_estimators=50", "registry.backend=mlflow",
                         "training.seed=8", "training.models.forest.params.max_depth=13")
    forest = loaded.spec.training.models["forest"]
    assert forest.params == {"max_depth": 13, "n_estimators": 50}, "added, then changed"
    assert loaded.spec.training.seed == 8, "a later --set of the same key wins"
    assert loaded.spec.registry.backend == "mlflow", "a field the file does not write"
    assert loaded.overrides == ("+training.models.forest.params.max_depth=12", "training.seed=7",
                                "+training.models.forest.params.n_estimators=50", "registry.backend=mlflow",
                                "training.seed=8", "training.models.forest.params.max_depth=13")
    assert loaded.doc.text == BASE, "the file is untouched"
    assert load_text(BASE, "mlspec.yaml").spec.training.models["forest"].params == {}


def test_a_list_item_and_a_union_member_are_addressed() -> None:
    loaded = loaded_with("evaluation.metrics.0=f1", "deploy.staging.alias=prod", "deploy.staging.when.manual=true")
    assert loaded.spec.evaluation.metrics == ["f1", "roc_auc"]
    assert loaded.spec.deploy["staging"].alias == "prod"  # type: ignore[union-attr]
    assert loaded.spec.deploy["staging"].when.manual is True


ERRORS: list[tuple[list[str], str]] = [
    (["training.models.forest.params.max_dept=12"],
     "--set training.models.forest.params.max_dept=12: training.models.forest.params: unknown key 'max_dept'; to "
     "add a key that is not there, write --set +training.models.forest.params.max_dept=12"),
    (["training.sed=1"], "--set training.sed=1: training: unknown key 'sed'; did you mean 'seed'?; to add a key "
     "that is not there, write --set +training.sed=1"),
    (["traning.seed=1"], "--set traning.seed=1: unknown key 'traning'; did you mean 'training'?; to add a key that "
     "is not there, write --set +traning.seed=1"),
    (["+training.seed=1", "+training.models.forest.data=holdout"],
     "--set +training.models.forest.data=holdout: training.models.forest: 'data' is already there; write --set "
     "training.models.forest.data=... without the '+' to change it"),
    (["evaluation.metrics.5=f1"], "--set evaluation.metrics.5=f1: evaluation.metrics: is a list of 2 items; "
     "address an item by its index 0 to 1, got '5'"),
    (["evaluation.metrics.first=f1"], "--set evaluation.metrics.first=f1: evaluation.metrics: is a list of 2 "
     "items; address an item by its index 0 to 1, got 'first'"),
    (["task.kind=x"], "--set task.kind=x: task: is the string 'binary', not a mapping: it has no key 'kind'"),
    (["training.seed"], "--set training.seed: expected KEY=VALUE, e.g. --set training.models.forest.params."
     "max_depth=12"),
    (["=1"], "--set =1: the key before '=' is empty; write the dotted path of the value to change, e.g. "
     "training.seed=1"),
    (["data.sources.train..path=x"], "--set data.sources.train..path=x: 'data.sources.train..path' has an empty "
     "part between dots; a key that itself contains a dot cannot be set from the command line: edit mlspec.yaml "
     "instead"),
    (["training.seed=[1"], "--set training.seed=[1: the value is not valid YAML: did not find expected ',' or ']' "
     "(while parsing a flow sequence at line 1); quote a string ('...')"),
    (["training.seed=a: b"], "--set training.seed=a: b: the value reads as a block-style YAML collection; write a "
     "list as [a, b] and a mapping as {key: value}, or quote a string ('...')"),
    # Validation of an overridden value: the file's own messages, located at the argument.
    (["training.seed=many"], "--set training.seed=many: training.seed: expected a whole number, got the string "
     "'many'"),
    (["task=binar"], "--set task=binar: task: the string 'binar' is not allowed; did you mean 'binary'?"),
    (["training.models.forest.data=trian"], "--set training.models.forest.data=trian: training.models.forest.data: "
     "unknown data source 'trian'; did you mean 'train'?"),
    (["+training.models.forest.estimatr=x"], "--set +training.models.forest.estimatr=x: training.models.forest: "
     "unknown key 'estimatr'; did you mean 'estimator'?"),
    (["training.models.forest.search.method=grid"], "--set training.models.forest.search.method=grid: "
     "training.models.forest.search: missing required key 'space'; add `space:`"),  # in the mapping it made
    (["data.sources.train.outsid=true"], "--set data.sources.train.outsid=true: data.sources.train: unknown key "
     "'outsid'; did you mean 'outside_project'?; to add a key that is not there, write --set "
     "+data.sources.train.outsid=true"),  # a member of a union, chosen as pydantic chooses it
    (["version=2"], "--set version=2: version: unsupported spec version 2; this mlspec reads version 1 (upgrade "
     "mlspec for newer specs)"),
]


@pytest.mark.parametrize(("overrides", "message"), ERRORS, ids=[e[0][-1] for e in ERRORS])
def test_every_error_names_the_argument(overrides: list[str], message: str) -> None:
    with pytest.raises(SpecError) as caught:
        loaded_with(*overrides)
    assert str(caught.value) == message


def test_every_bad_key_is_reported_at_once_and_the_file_keeps_its_lines() -> None:
    text = BASE.replace("  metrics: [accuracy, roc_auc]", "  metrics: [accuracy, roc_auc]\n  champion: 3")
    with pytest.raises(SpecError) as caught:
        load_text(text, "mlspec.yaml", overrides=["training.seed=x"])
    assert str(caught.value).splitlines() == [
        "--set training.seed=x: training.seed: expected a whole number, got the string 'x'",
        "mlspec.yaml:22:13: evaluation.champion: expected a mapping, got the number 3",
        "mlspec.yaml: 2 problems",
    ]
    with pytest.raises(SpecError) as caught:
        loaded_with("a=1", "b.c=2")
    assert [line.split(":")[0] for line in str(caught.value).splitlines()] == ["--set a=1", "--set b.c=2",
                                                                               "--set"]


def mlspec(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN}
    return subprocess.run([sys.executable, "-m", "mlspec", *args], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def diabetes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in CLEAN:
        monkeypatch.delenv(var, raising=False)
    spec = copy_example("diabetes", tmp_path)
    monkeypatch.chdir(spec.parent)
    return spec


@pytest.mark.parametrize(("command", "message"), [
    (["validate", "--set", "training.models.forest.params.n_estimatrs=10"],
     "--set training.models.forest.params.n_estimatrs=10: training.models.forest.params: unknown key "
     "'n_estimatrs'; did you mean 'n_estimators'?; to add a key that is not there, write --set "
     "+training.models.forest.params.n_estimatrs=10"),
    (["run", "--set", "training.seed=-1"], "--set training.seed=-1: training.seed: must be >= 0, got -1"),
    (["plan", "--set", "training.seed"], "--set training.seed: expected KEY=VALUE, e.g. --set "
     "training.models.forest.params.max_depth=12"),
    (["gate", "--set", "evaluation.gates.r2.min=high"], "--set evaluation.gates.r2.min=high: "
     "evaluation.gates.r2.min: expected a number, got the string 'high'"),
])
def test_the_commands_take_set_and_show_its_errors_without_a_traceback(diabetes: Path, command: list[str],
                                                                       message: str) -> None:
    done = mlspec(diabetes.parent, *command)
    assert (done.returncode, done.stderr.strip(), done.stdout) == (1, message, "")
    assert not (diabetes.parent / ".mlspec").exists(), "nothing ran"


def test_an_override_changes_the_fingerprint_like_an_edit(diabetes: Path) -> None:
    log = Log(io.StringIO(), io.StringIO(), {})
    assert runner.run(load(diabetes), ["train:ridge"], log=log).ok
    alpha = ["training.models.ridge.params.alpha=2.5"]

    done = mlspec(diabetes.parent, "plan", "train:ridge", "--set", alpha[0])
    assert done.stderr == "note: mlspec.yaml with --set training.models.ridge.params.alpha=2.5 (the file is " \
                          "unchanged)\n"
    assert done.stdout.splitlines()[-2:] == ["run train:ridge: spec changed: training.models.ridge",
                                            "mlspec plan: 1 to run, 2 up to date"]
    assert mlspec(diabetes.parent, "plan", "train:ridge", "--set", "training.models.ridge.params.alpha=1.0"
                  ).stdout.splitlines()[-1] == "mlspec plan: 0 to run, 3 up to date", "the file's own value"

    assert runner.run(load(diabetes, alpha), ["train:ridge"], log=log).ok
    assert [i.reasons for i in runner.plan(load(diabetes, alpha), ["train:ridge"]).items][-1] == ()
    again = runner.plan(load(diabetes), ["train:ridge"]).items[-1]
    assert (again.stage_id, tuple(again.reasons)) == ("train:ridge", ("spec changed: training.models.ridge",)), \
        "back to the file's spec: the stage reruns, as after undoing an edit"
