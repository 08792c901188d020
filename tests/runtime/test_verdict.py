"""`require_passed`: what deployment checks before it acts, and every way it refuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlspec.errors import MlspecError
from mlspec.load import load
from mlspec.runtime.verdict import evaluated_outputs, out_of_date, read, require_passed
from mlspec.runtime.workspace import Workspace
from tests.runtime.gatekit import edit, go

VERDICT = Path(".mlspec/stages/gate/verdict.json")


def _refusal(model: str = "ridge") -> str:
    with pytest.raises(MlspecError) as caught:
        require_passed(Workspace(Path(".mlspec")), load(Path("mlspec.yaml")), model)
    return str(caught.value)


def test_a_passed_gate_allows_its_model(diabetes: Path) -> None:
    found = require_passed(Workspace(Path(".mlspec")), load(Path("mlspec.yaml")), "ridge")
    assert (found.verdict, found.model) == ("pass", "ridge")


def test_a_warned_gate_allows_its_model(diabetes: Path) -> None:
    edit("r2: {min: 0.3, warn_only: true}", "r2: {min: 0.5, warn_only: true}")
    assert go()[0].ok
    assert require_passed(Workspace(Path(".mlspec")), load(Path("mlspec.yaml")), "ridge").verdict == "warn"


def test_refused_after_a_failed_gate(diabetes: Path) -> None:
    edit("{max: 65,", "{max: 40,")
    assert not go()[0].ok
    assert _refusal() == "the gate failed for model 'ridge' (root_mean_squared_error: 55.71 > max 40); not deploying"


def test_refused_for_another_model(diabetes: Path) -> None:
    assert _refusal("forest") == ("the gate judged model 'ridge', not 'forest'; to deploy 'forest', make it the "
                                  "champion (evaluation.champion: {model: forest}) and run `mlspec gate`")


def test_refused_when_the_gates_changed_since(diabetes: Path) -> None:
    edit("{max: 65,", "{max: 60,")  # not rerun: the verdict on disk is for the old thresholds
    assert _refusal() == ("the gate verdict was reached with other gate settings than mlspec.yaml has now; run "
                          "`mlspec gate` again")


def test_refused_when_the_bundle_changed_since(diabetes: Path) -> None:
    metadata = Path(".mlspec/stages/train/ridge/metadata.json")
    metadata.write_text(metadata.read_text() + " ")
    assert _refusal() == "the model bundle of 'ridge' changed after the gate judged it; run `mlspec gate` again"
    shutil.rmtree(metadata.parent)
    assert _refusal() == "the model bundle of 'ridge' is missing from .mlspec/stages/train/ridge"


def test_refused_without_a_verdict(diabetes: Path) -> None:
    shutil.rmtree(VERDICT.parent)
    assert _refusal() == "no gate verdict in .mlspec/stages/gate: run `mlspec gate` before deploying"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", ".mlspec/stages/gate/verdict.json:1:2: not valid JSON: Expecting property name enclosed in double "
              "quotes; run `mlspec gate` again"),
        ('{"format": 2}', ".mlspec/stages/gate/verdict.json: not a gate verdict (ValueError: format 2, expected 1); "
                          "run `mlspec gate` again"),
        ('{"format": 1}', ".mlspec/stages/gate/verdict.json: not a gate verdict (KeyError: 'gates'); run "
                          "`mlspec gate` again"),
    ],
)
def test_refused_with_a_broken_verdict(diabetes: Path, content: str, message: str) -> None:
    VERDICT.write_text(content)
    assert _refusal() == message


def test_refused_when_the_verdict_does_not_name_the_bundle(diabetes: Path) -> None:
    data = json.loads(VERDICT.read_text())
    VERDICT.write_text(json.dumps({**data, "model_digest": None}))
    assert _refusal() == ("the gate verdict does not identify the model bundle it judged (the gate ran outside "
                          "`mlspec run`); run `mlspec gate` again")



def _forge(**changes: object) -> None:
    data = json.loads(VERDICT.read_text())
    VERDICT.write_text(json.dumps({**data, **changes}))


def test_a_verdict_edited_to_pass_after_a_failed_gate_is_refused(diabetes: Path) -> None:
    edit("{max: 65,", "{max: 40,")
    assert not go()[0].ok
    _forge(verdict="pass")
    assert _refusal() == (".mlspec/stages/gate/verdict.json: verdict is 'pass', but judging the gates again gives "
                          "'fail': the verdict does not match what the gate read; run `mlspec gate` again")
    data = json.loads(VERDICT.read_text())
    data["gates"][0]["verdict"] = "pass"
    VERDICT.write_text(json.dumps(data))
    assert _refusal().startswith(".mlspec/stages/gate/verdict.json: gates[0].verdict (root_mean_squared_error) is "
                                 "'pass', but judging again gives 'fail'")


def test_an_edited_model_digest_is_refused(diabetes: Path) -> None:
    _forge(model_digest="sha256:" + "0" * 64)
    assert _refusal().startswith(".mlspec/stages/gate/verdict.json: model_digest is 'sha256:000")


def test_edited_metrics_are_refused(diabetes: Path) -> None:
    metrics = Path(".mlspec/stages/evaluate/metrics.json")
    data = json.loads(metrics.read_text())
    data["champion_metrics"]["root_mean_squared_error"] = 1.0
    metrics.write_text(json.dumps(data))
    assert _refusal().startswith(".mlspec/stages/evaluate/metrics.json: the evaluate outputs are not the ones the "
                                 "evaluate stage recorded")


def test_a_verdict_not_recorded_by_the_gate_is_refused(diabetes: Path) -> None:
    _forge(notices=["edited"])
    assert _refusal().startswith(".mlspec/stages/gate/verdict.json: not the verdict the gate stage recorded")


# --- out_of_date: the one test of a verdict's currency (deploy and the report) ----------------------------------


def _current() -> tuple[str, ...]:
    workspace = Workspace(Path(".mlspec"))
    return out_of_date(read(VERDICT), load(Path("mlspec.yaml")).spec, evaluated_outputs(workspace))


def test_a_fresh_verdict_is_current(diabetes: Path) -> None:
    assert _current() == ()


def test_a_verdict_is_out_of_date_when_the_gates_change(diabetes: Path) -> None:
    edit("{max: 65,", "{max: 60,")
    assert _current() == ("spec_fingerprint",)
    edit("{max: 60,", "{max: 65,")
    assert _current() == ()


def test_a_verdict_is_out_of_date_when_the_evaluation_changes(diabetes: Path) -> None:
    plot = next(Path(".mlspec/stages/evaluate/plots").glob("*.png"))
    plot.write_bytes(plot.read_bytes() + b"\0")
    assert _current() == ("evaluation_digest",)
    edit("{max: 65,", "{max: 60,")
    assert _current() == ("spec_fingerprint", "evaluation_digest")
    shutil.rmtree(".mlspec/stages/evaluate")
    assert evaluated_outputs(Workspace(Path(".mlspec"))) == {}
    assert "evaluation_digest" in _current()
