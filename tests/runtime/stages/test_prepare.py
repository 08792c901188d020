"""The prepare stage through the real runner: a command of the project builds the training table from raw
data (scikit-learn's bundled wine data, written by the test), the data stage reads it, and the step reruns
only when what it reads changes. Failures leave the previous outputs where the data stages read them."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.runtime import lockfile, runner
from mlspec.runtime.cilog import Log
from mlspec.runtime.context import StageError
from mlspec.runtime.stages import build, prepare
from mlspec.runtime.workspace import Workspace

SPEC = """\
version: 1
project: wine
task: multiclass
data:
  target: target
  sources:
    train: {path: data/train.csv}
    holdout: {path: data/holdout.csv}
prepare:
  split:
    cmd: [python, prep/split.py, raw, data]
    inputs: [prep/split.py, raw]
    outputs: [data/train.csv, data/holdout.csv]
    env: {HOLDOUT_EVERY: "3"}
training:
  models:
    forest: {estimator: sklearn.ensemble.RandomForestClassifier, data: train}
evaluation:
  data: holdout
  metrics: [accuracy]
"""

# Plain Python, so the test does not time pandas: every third row of each raw file is held out.
SCRIPT = """\
import os, pathlib, sys
raw, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
every = int(os.environ["HOLDOUT_EVERY"])
rows, header = [], None
for path in sorted(raw.glob("*.csv")):
    lines = path.read_text().splitlines()
    header, rows = lines[0], rows + lines[1:]
out.mkdir(exist_ok=True)
(out / "train.csv").write_text("\\n".join([header] + [r for i, r in enumerate(rows) if i % every]) + "\\n")
(out / "holdout.csv").write_text("\\n".join([header] + [r for i, r in enumerate(rows) if not i % every]) + "\\n")
print(f"split {len(rows)} rows")
"""

DATA = ["data:train", "data:holdout"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    (tmp_path / "raw").mkdir()
    frame.iloc[:100].to_csv(tmp_path / "raw" / "a.csv", index=False)
    frame.iloc[100:].to_csv(tmp_path / "raw" / "b.csv", index=False)
    (tmp_path / "prep").mkdir()
    (tmp_path / "prep" / "split.py").write_text(SCRIPT)
    (tmp_path / "mlspec.yaml").write_text(SPEC)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLSPEC_CACHE_DIR", raising=False)
    return tmp_path


def go(*names: str) -> tuple[runner.Report, list[str], str]:
    out, err = io.StringIO(), io.StringIO()
    report = runner.run(load(Path("mlspec.yaml")), names or DATA, log=Log(out, err, {}), store=None)
    lines = [re.sub(r" (in|after) \d+\.\d\d s", r" \1 T", line) for line in out.getvalue().splitlines()]
    return report, lines, err.getvalue()


def statuses(report: runner.Report) -> dict[str, str]:
    return {o.stage_id: o.status for o in report.outcomes}


def test_a_source_written_by_a_step_needs_it(project: Path) -> None:
    stages = {s.id: s for s in build(load(project / "mlspec.yaml").spec)}
    assert list(stages)[:3] == ["prepare:split", "data:train", "data:holdout"]
    assert stages["data:train"].needs == ("prepare:split",)
    assert stages["prepare:split"].needs == ()


def test_the_step_runs_first_then_reruns_only_when_its_inputs_change(project: Path) -> None:
    report, lines, err = go()
    assert report.ok and err == ""
    assert lines[:3] == ["run prepare:split: no lock entry", "  split 178 rows",
                         "ok prepare:split in T: wrote data/train.csv, data/holdout.csv (2 files)"]
    assert (project / "data" / "train.csv").read_text().count("\n") == 1 + 118
    lock = lockfile.read(project / "mlspec.lock")
    entry = lock.stages["prepare:split"]
    assert sorted(entry.inputs) == ["prep/split.py", "raw/a.csv", "raw/b.csv"]
    assert sorted(entry.outputs) == ["files/data/holdout.csv", "files/data/train.csv"]
    assert entry.metrics == {"files": 2}
    # The data stage reads what the step wrote: its input digest is the step's output digest.
    assert lock.stages["data:train"].inputs["data/train.csv"] == entry.outputs["files/data/train.csv"]

    report, lines, _ = go()
    assert set(statuses(report).values()) == {"up to date"}

    # A raw file changes: the step reruns, and the sources it writes with it.
    (project / "raw" / "b.csv").write_text((project / "raw" / "b.csv").read_text() + "13.0" + ",1.0" * 12 + ",2\n")
    report, lines, _ = go()
    assert statuses(report) == {"prepare:split": "ran", "data:train": "ran", "data:holdout": "ran"}
    assert lines[0] == "run prepare:split: input changed: raw/b.csv"

    # A new file in an input directory counts as much; a description does not.
    (project / "raw" / "c.csv").write_text((project / "raw" / "a.csv").read_text())
    assert go()[1][0] == "run prepare:split: new input: raw/c.csv"
    (project / "mlspec.yaml").write_text(SPEC.replace("    env:", "    description: the split\n    env:"))
    assert set(statuses(go()[0]).values()) == {"up to date"}


def test_a_rerun_with_the_same_outputs_leaves_its_dependants_alone(project: Path) -> None:
    go()
    # The script changes, its outputs do not: the step reruns, the data stages see the same digest.
    (project / "prep" / "split.py").write_text(SCRIPT + "# tidied\n")
    report = go()[0]
    assert statuses(report) == {"prepare:split": "ran", "data:train": "up to date", "data:holdout": "up to date"}


def test_the_env_is_part_of_the_fingerprint(project: Path) -> None:
    go()
    (project / "mlspec.yaml").write_text(SPEC.replace('HOLDOUT_EVERY: "3"', 'HOLDOUT_EVERY: "4"'))
    report, lines, _ = go()
    assert lines[0] == "run prepare:split: spec changed: prepare.split"
    assert statuses(report)["data:holdout"] == "ran"


def test_outputs_are_restored_where_declared_when_the_step_is_up_to_date(project: Path) -> None:
    go()
    train = (project / "data" / "train.csv").read_bytes()
    (project / "data" / "train.csv").unlink()
    (project / "data" / "holdout.csv").write_text("half written")
    report, lines, _ = go()
    assert set(statuses(report).values()) == {"up to date"}
    assert lines[:3] == ["skip prepare:split: up to date", "  restored data/train.csv from the outputs of "
                         "prepare:split", "  restored data/holdout.csv from the outputs of prepare:split"]
    assert (project / "data" / "train.csv").read_bytes() == train


def test_a_job_that_did_not_run_the_step_gets_its_outputs_from_the_workspace(project: Path, tmp_path: Path) -> None:
    """As in CI: another job's workspace (its artifact) arrives in a fresh checkout without the outputs."""
    import shutil

    go()
    checkout = tmp_path / "checkout"
    shutil.copytree(project, checkout,
                    ignore=lambda where, names: ["data", "mlspec.lock"] if Path(where) == project else [])
    report = runner.run(load(checkout / "mlspec.yaml"), DATA, log=Log(io.StringIO(), io.StringIO(), {}), store=None)
    # Every stage is adopted from its record, and the step's outputs are back where the sources read them.
    assert set(statuses(report).values()) == {"up to date"}
    assert (checkout / "data" / "holdout.csv").read_bytes() == (project / "data" / "holdout.csv").read_bytes()


def test_a_failing_command_keeps_the_previous_outputs(project: Path) -> None:
    go()
    before = {p: (project / p).read_bytes() for p in ("data/train.csv", "data/holdout.csv")}
    (project / "prep" / "split.py").write_text(
        "import sys\nopen('data/train.csv', 'w').write('partial')\nprint('reading raw')\n"
        "sys.exit('no rows in raw/')\n")
    report, lines, err = go()
    assert statuses(report) == {"prepare:split": "failed", "data:train": "blocked", "data:holdout": "blocked"}
    assert "  reading raw" in lines and "  no rows in raw/" in lines
    assert err == ("mlspec.yaml:11:5: stage prepare:split: prepare step 'split' failed: [python, prep/split.py, "
                   "raw, data] exited with code 1; its previous outputs are kept; its last lines on stderr:\n"
                   "no rows in raw/\n")
    assert {p: (project / p).read_bytes() for p in before} == before
    assert "prepare:split" in lockfile.read(project / "mlspec.lock").stages  # the previous run's record stays


def test_a_failing_command_through_the_cli_exits_1_without_a_traceback(project: Path) -> None:
    from tests.support import run_mlspec

    (project / "prep" / "split.py").write_text("raise SystemExit(3)\n")
    done = run_mlspec("run", "prepare:split", cwd=project)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "prepare step 'split' failed: [python, prep/split.py, raw, data] exited with code 3" in done.stderr


def test_a_missing_output_is_a_located_error(project: Path) -> None:
    (project / "prep" / "split.py").write_text(SCRIPT.replace('(out / "holdout.csv")', '(out / "other.csv")'))
    report, _, err = go("prepare:split")
    assert statuses(report) == {"prepare:split": "failed"}
    assert err == ("mlspec.yaml:13:5: stage prepare:split: prepare step 'split': the command exited 0 but did "
                   "not create 'data/holdout.csv'; make it write every path of `outputs`, or remove this one; its "
                   "previous outputs are kept\n")


def test_a_missing_input_is_a_located_error(project: Path) -> None:
    (project / "prep" / "split.py").unlink()
    err = go("prepare:split")[2]
    assert err == ("mlspec.yaml:12:5: stage prepare:split: prepare step 'split': input 'prep/split.py' does not "
                   "exist; create it or remove it from `inputs`\n")


def test_python_is_the_running_interpreter_and_other_programs_come_from_path(project: Path) -> None:
    assert prepare.program(project, "python", ()) == sys.executable
    assert prepare.program(project, "python3", ()) == sys.executable
    with pytest.raises(StageError, match=r"program 'no-such-tool' is not on PATH; install it, or give its path"):
        prepare.program(project, "no-such-tool", ("prepare", "split", "cmd", 0))
    (project / "prep" / "run.sh").write_text("#!/bin/sh\n")
    with pytest.raises(StageError, match=r"'prep/run\.sh' is not an executable file"):
        prepare.program(project, "prep/run.sh", ())
    (project / "prep" / "run.sh").chmod(0o755)
    assert prepare.program(project, "prep/run.sh", ()) == str(project / "prep" / "run.sh")


def test_a_directory_output_is_kept_and_restored_file_by_file(project: Path) -> None:
    (project / "mlspec.yaml").write_text(SPEC.replace("outputs: [data/train.csv, data/holdout.csv]",
                                                      "outputs: [data]"))
    go()
    entry = lockfile.read(project / "mlspec.lock").stages["prepare:split"]
    assert sorted(entry.outputs) == ["files/data/holdout.csv", "files/data/train.csv"]
    (project / "data" / "notes.txt").write_text("mine")
    (project / "data" / "train.csv").unlink()
    go()
    assert (project / "data" / "train.csv").is_file()
    assert (project / "data" / "notes.txt").read_text() == "mine"  # not the step's: left alone
    assert Workspace.for_spec(project / "mlspec.yaml").stage_dir("prepare:split").joinpath(
        "files", "data", "train.csv").read_bytes() == (project / "data" / "train.csv").read_bytes()


def test_a_checkout_with_a_store_fetches_the_step_and_restores_its_outputs(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in CI with a store: the first job pushes the step's outputs, a fresh runner fetches them by fingerprint
    and puts them where the sources read them, without running the command."""
    import shutil

    monkeypatch.setenv("MLSPEC_STORE", str(tmp_path / "store"))
    report = runner.run(load(project / "mlspec.yaml"), DATA, log=Log(io.StringIO(), io.StringIO(), {}))
    assert report.ok
    checkout = tmp_path / "fresh"
    shutil.copytree(project, checkout,
                    ignore=lambda where, names: ["data", ".mlspec", "mlspec.lock"] if Path(where) == project else [])
    (checkout / "prep" / "split.py").write_text(SCRIPT)  # the same bytes: a command that ran would fail below
    out = io.StringIO()
    report = runner.run(load(checkout / "mlspec.yaml"), DATA, log=Log(out, io.StringIO(), {}))
    assert [(o.stage_id, o.status, o.detail) for o in report.outcomes] == [
        (sid, "up to date", runner.FROM_STORE) for sid in ("prepare:split", *DATA)]
    assert "  restored data/train.csv from the outputs of prepare:split" in out.getvalue().splitlines()
    assert "split 178 rows" not in out.getvalue()
    assert (checkout / "data" / "train.csv").read_bytes() == (project / "data" / "train.csv").read_bytes()


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_an_interrupted_step_leaves_the_previous_outputs(project: Path, how: str) -> None:
    """Ctrl-C puts the previous outputs back at once; a run killed outright leaves half a file, which the next
    run replaces with the recorded outputs (the step did not finish, so its record is the previous run's)."""
    import os
    import signal
    import subprocess
    import time

    go()
    before = (project / "data" / "train.csv").read_bytes()
    (project / "mlspec.yaml").write_text(SPEC.replace('HOLDOUT_EVERY: "3"', 'HOLDOUT_EVERY: "5"'))
    (project / "prep" / "split.py").write_text(
        "import time\nopen('data/train.csv', 'w').write('half')\nprint('started', flush=True)\ntime.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-m", "mlspec", "run", "prepare:split"], cwd=project,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while "started" not in proc.stdout.readline() and time.monotonic() < deadline:
        pass
    assert (project / "data" / "train.csv").read_text() == "half"
    os.killpg(proc.pid, getattr(signal, how))  # the whole group, as a terminal's Ctrl-C or a CI runner does
    proc.communicate(timeout=60)
    if how == "SIGINT":
        assert (project / "data" / "train.csv").read_bytes() == before
        return
    (project / "prep" / "split.py").write_text(SCRIPT)
    (project / "mlspec.yaml").write_text(SPEC)
    report, lines, _ = go()
    assert report.ok
    assert lines[:2] == ["skip prepare:split: up to date",
                         "  restored data/train.csv from the outputs of prepare:split"]
    assert (project / "data" / "train.csv").read_bytes() == before
