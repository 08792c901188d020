"""The prepare section's mistakes, each with its exact located message: a command line where an argv list
belongs, paths outside the project or of mlspec's own, two writers of one path, a step reading its own
output, steps reading each other's outputs in a cycle."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.errors import SpecError
from mlspec.load import load_text

BASE = """\
version: 1
project: p
task: binary
data:
  target: y
  sources:
    train: {path: data/train.csv}
prepare:
  split:
    cmd: [python, prep.py, raw, data]
    inputs: [prep.py, raw]
    outputs: [data/train.csv]
  clean:
    cmd: [python, clean.py]
    inputs: [clean.py, raw]
    outputs: [build/clean.csv]
training:
  models:
    m: {estimator: sklearn.linear_model.LogisticRegression, data: train}
evaluation:
  data: train
  metrics: [accuracy]
"""


def _problems(text: str, root: Path) -> list[str]:
    try:
        load_text(text, "mlspec.yaml", base=root / "mlspec.yaml")
    except SpecError as exc:
        return [str(p).splitlines()[0] for p in exc.problems]
    return []


CASES = [
    ("cmd: [python, prep.py, raw, data]", "cmd: python prep.py raw 'my data'",
     "mlspec.yaml:10:10: prepare.split.cmd: must be a list of arguments, not a command line: mlspec runs no "
     "shell; write `cmd: [python, prep.py, raw, my data]`"),
    ("cmd: [python, prep.py, raw, data]", "cmd: [python prep.py]",
     "mlspec.yaml:10:10: prepare.split.cmd: must be a list of arguments, not a command line: mlspec runs no "
     "shell; write `cmd: [python, prep.py]`"),
    ("cmd: [python, prep.py, raw, data]", "cmd: []",
     "mlspec.yaml:10:10: prepare.split.cmd: must not be empty"),
    ("inputs: [prep.py, raw]", "inputs: [prep.py, ../raw]",
     "mlspec.yaml:11:23: prepare.split.inputs[1]: '../raw' resolves outside the project (to {parent}/raw); a "
     "prepare step reads and writes files inside the directory holding mlspec.yaml"),
    ("outputs: [data/train.csv]", "outputs: [data/train.csv, .mlspec/x.csv]",
     "mlspec.yaml:12:31: prepare.split.outputs[1]: '.mlspec/x.csv' would overwrite .mlspec, which is mlspec's; "
     "write the step's outputs elsewhere (data/train.csv)"),
    ("outputs: [build/clean.csv]", "outputs: [data]",
     "mlspec.yaml:16:15: prepare.clean.outputs[0]: 'data' is written by prepare step 'split' too "
     "('data/train.csv'); give each path one step"),
    ("inputs: [prep.py, raw]", "inputs: [prep.py, data]",
     "mlspec.yaml:11:23: prepare.split.inputs[1]: 'data' is an output of this step too; a step cannot read what "
     "it writes (write to another path, or split it into two steps)"),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_prepare_mistake(old: str, new: str, expected: str, tmp_path: Path) -> None:
    assert old in BASE
    assert _problems(BASE.replace(old, new, 1), tmp_path) == [expected.format(parent=tmp_path.parent)]


def test_steps_reading_each_other_are_a_cycle(tmp_path: Path) -> None:
    text = BASE.replace("inputs: [prep.py, raw]", "inputs: [prep.py, build/clean.csv]").replace(
        "inputs: [clean.py, raw]", "inputs: [clean.py, data/train.csv]")
    assert _problems(text, tmp_path) == [
        "mlspec.yaml:11:13: prepare.split.inputs: prepare steps read each other's outputs in a cycle: "
        "prepare:split -> prepare:clean -> prepare:split; break it by making one of them read raw files only"]


def test_a_source_a_step_writes_need_not_exist_yet(tmp_path: Path) -> None:
    loaded = load_text(BASE, "mlspec.yaml", base=tmp_path / "mlspec.yaml")
    assert [w for w in loaded.warnings if "data/train.csv' does not exist" in str(w)] == []
    without = BASE.replace("outputs: [data/train.csv]", "outputs: [data/other.csv]")
    assert any("'data/train.csv' does not exist (yet)" in str(w)
               for w in load_text(without, "mlspec.yaml", base=tmp_path / "mlspec.yaml").warnings)


def test_an_input_that_nothing_makes_is_a_warning(tmp_path: Path) -> None:
    (tmp_path / "prep.py").write_text("")
    (tmp_path / "raw").mkdir()
    text = BASE.replace("inputs: [clean.py, raw]", "inputs: [clean.py, raw, data/train.csv]")
    warnings = [str(w).splitlines()[0] for w in load_text(text, "mlspec.yaml", base=tmp_path / "mlspec.yaml").warnings]
    # prep.py and raw exist, data/train.csv is another step's output: only clean.py is missing.
    assert [w for w in warnings if "prepare" in w] == [
        "mlspec.yaml:15:14: prepare.clean.inputs[0]: 'clean.py' does not exist (yet), and no prepare step writes it"]
