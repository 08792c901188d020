"""`mlspec validate --data` on the command line: the examples pass, a mistake is located, with no traceback."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support import EXAMPLE_NAMES, EXAMPLES, run_mlspec


def test_validate_data_passes_every_example(tmp_path: Path) -> None:
    for name in EXAMPLE_NAMES:
        spec = EXAMPLES / name / "mlspec.yaml"
        if name == "churn":  # its tables are built by its prepare step: checked where a later CI job has them
            spec = _prepared_elsewhere(tmp_path)
        result = run_mlspec("validate", "-q", "--data", "-f", str(spec))
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert re.search(rf"^{re.escape(str(spec))}: data checked \(\d estimators; sources read: train, holdout"
                         r"(, current)?\)$", result.stderr, re.M), result.stderr


def _prepared_elsewhere(tmp_path: Path) -> Path:
    """The churn example as a CI job after its prepare job has it: the step's recorded outputs in the workspace
    (its artifact), nothing yet where the step declares them."""
    project = tmp_path / "churn"
    shutil.copytree(EXAMPLES / "churn", project)
    spec = project / "mlspec.yaml"
    before = run_mlspec("validate", "-q", "--data", "-f", str(spec))
    assert before.returncode == 0, before.stderr
    assert "sources read: none" in before.stderr  # the step has not run: nothing to read, said so
    assert "an output of prepare step 'table' that has not run yet" in before.stderr
    done = run_mlspec("run", "-f", str(spec), "prepare")
    assert done.returncode == 0, done.stderr
    shutil.rmtree(project / "data")
    return spec


def test_validate_data_locates_a_misspelt_column_and_exits_1(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(EXAMPLES / "wine", project)
    spec = project / "mlspec.yaml"
    text = spec.read_text(encoding="utf-8")
    assert "target: cultivar" in text
    spec.write_text(text.replace("target: cultivar", "target: Cultivar"), encoding="utf-8")
    plain = run_mlspec("validate", "-q", "-f", str(spec))
    assert plain.returncode == 0, plain.stderr  # only the data shows the mistake
    result = run_mlspec("validate", "--data", "-f", str(spec))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "target: cultivar" in s)
    assert (f"{spec}:{line}:11: data.target: data source 'train' has no column 'Cultivar', needed by the target; "
            "did you mean 'cultivar'? (column names are case-sensitive)\n") in result.stderr
    assert f"  {line:>4} |   target: Cultivar\n" in result.stderr
