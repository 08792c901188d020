"""`mlspec runs`: the real command line over the history of two real runs that differ in a param and the data."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mlspec import jsonio
from mlspec.runs.history import History
from tests.runs.kit import ENV_OUT, git, go, repo, write
from tests.support import run_mlspec

HEAVY = ("pandas", "numpy", "sklearn", "great_expectations", "scipy", "matplotlib", "mlflow", "optuna", "dask")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Run 1 on main (forest max_depth 3); run 2 on branch exp (max_depth 5, a holdout row added)."""
    spec = repo(tmp_path_factory.mktemp("cli") / "tiny")
    first, _, _ = go(spec)
    git(spec.parent, "checkout", "-q", "-b", "exp")
    write(spec.parent, max_depth=5)
    holdout = spec.parent / "data" / "holdout.csv"
    lines = holdout.read_text().splitlines(keepends=True)
    holdout.write_text("".join(lines) + lines[1])
    git(spec.parent, "commit", "-qam", "deeper forest, one more holdout row")
    second, _, _ = go(spec)
    assert first.ok and second.ok and first.run_id and second.run_id
    return spec.parent, [first.run_id, second.run_id]


def mlspec(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: "" for k in ENV_OUT if k in os.environ}
    return run_mlspec(*args, cwd=root, env=env)


def test_list_shows_the_runs_newest_first_in_100_columns(project: tuple[Path, list[str]]) -> None:
    root, (first, second) = project
    done = mlspec(root, "runs")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert re.split(r"\s{2,}", lines[0]) == ["RUN", "FINISHED", "BRANCH", "CHAMPION", "ROC_AUC", "VERDICT", "STAGES"]
    assert [line.split()[0] for line in lines[1:]] == [second, first]
    assert all(len(line) <= 100 for line in lines)
    assert "  exp  " in lines[1] and "  logreg  " in lines[1] and "  passed  " in lines[1]
    assert "2 skip 4 ran" in lines[1] and "main" in lines[2] and lines[2].endswith("6 ran")


@pytest.mark.parametrize(("args", "expected"), [
    (["--branch", "main"], [0]),
    (["--branch", "exp"], [1]),
    (["--branch", "nope"], []),
    (["--model", "forest"], [1, 0]),
    (["--model", "ridge"], []),
    (["--where", "roc_auc>=0.5"], [1, 0]),
    (["--where", "roc_auc>2"], []),
    (["--where", "forest.accuracy>0", "--where", "logreg.accuracy<=1"], [1, 0]),
    (["--where", "nosuch>0"], []),
    (["--limit", "1"], [1]),
])
def test_filters(project: tuple[Path, list[str]], args: list[str], expected: list[int]) -> None:
    root, ids = project
    done = mlspec(root, "runs", "list", *args, "--json")
    assert done.returncode == 0, done.stderr
    assert [r["run_id"] for r in json.loads(done.stdout)] == [ids[i] for i in expected]


def test_options_before_the_verb_are_kept(project: tuple[Path, list[str]]) -> None:
    """argparse lets a subcommand's defaults overwrite what its parent parsed; `runs -f X show` must keep -f."""
    root, (first, second) = project
    elsewhere = root.parent
    shown = mlspec(elsewhere, "runs", "-f", str(root / "mlspec.yaml"), "--json", "show", "latest~1")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["run_id"] == first
    listed = mlspec(root, "runs", "--branch", "exp", "--json", "list")
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [second]
    after = mlspec(root, "runs", "--branch", "exp", "list", "--branch", "main", "--json")
    assert [r["run_id"] for r in json.loads(after.stdout)] == [first]  # the verb's own option wins


def test_an_empty_filter_says_nothing_matched(project: tuple[Path, list[str]]) -> None:
    root, _ = project
    done = mlspec(root, "runs", "--branch", "nope")
    assert done.returncode == 0 and done.stdout == "no recorded run matches the filters\n"


def test_a_metric_condition_reads_the_right_model(project: tuple[Path, list[str]]) -> None:
    root, (first, second) = project
    runs = History(root / ".mlspec" / "runs.db").runs([first, second])
    cut = (runs[0].metrics["forest"]["roc_auc"] + runs[1].metrics["forest"]["roc_auc"]) / 2
    higher = first if runs[0].metrics["forest"]["roc_auc"] > cut else second
    done = mlspec(root, "runs", "--where", f"forest.roc_auc>{cut!r}", "--json")
    assert [r["run_id"] for r in json.loads(done.stdout)] == [higher]


def test_show_prints_the_record_and_its_json(project: tuple[Path, list[str]]) -> None:
    root, (first, second) = project
    shown = mlspec(root, "runs", "show", "latest~1", "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    assert record["run_id"] == first and record["branch"] == "main"
    assert record["params"]["forest"]["params"]["max_depth"] == 3
    text = mlspec(root, "runs", "show", second[:20])
    assert text.returncode == 0 and text.stdout.startswith(f"run {second} (local)\n")
    assert "    max_depth = 5" in text.stdout and "  branch    exp" in text.stdout


def test_compare_gives_the_params_metric_deltas_and_data_that_changed(project: tuple[Path, list[str]]) -> None:
    root, (first, second) = project
    done = mlspec(root, "runs", "compare", first, second, "--json")
    assert done.returncode == 0, done.stderr
    c = json.loads(done.stdout)
    assert c["params"] == {"forest.max_depth": [3, 5]}
    metrics = History(root / ".mlspec" / "runs.db").runs([first, second])
    for model in ("forest", "logreg"):
        for metric in ("roc_auc", "accuracy"):
            a, b = (r.metrics[model][metric] for r in metrics)
            assert c["metrics"][f"{model}.{metric}"] == {"values": [a, b], "deltas": [0.0, b - a]}
    holdout = c["data"]["holdout"]
    assert list(c["data"]) == ["holdout"] and holdout[0] != holdout[1]
    assert holdout[1] == jsonio.read_object(root / ".mlspec/stages/data/holdout/profile.json")["digest"]
    assert c["stages"]["train:forest"] == ["ran", "ran"] and c["stages"]["data:train"] == ["ran", "up to date"]
    assert c["verdicts"] == ["passed", "passed"]
    text = mlspec(root, "runs", "compare", "latest~1", "latest")
    assert re.search(r"^  forest\.max_depth\s+3\s+5$", text.stdout, re.M), text.stdout


def test_compare_html_has_plots_of_the_runs_values(project: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, (first, second) = project
    page = tmp_path / "compare.html"
    done = mlspec(root, "runs", "compare", first, second, "--html", str(page), "--param", "forest.max_depth")
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    runs = History(root / ".mlspec" / "runs.db").runs([first, second])
    assert html.count("<svg") >= 2
    svg = html[html.index("<svg"):html.rindex("</svg>")]
    for run in runs:  # every point carries its value and run id as text
        assert f"{run.metrics['forest']['roc_auc']:.4g}" in svg
        assert run.run_id in svg
    assert "forest.roc_auc against forest.max_depth" in html
    again = tmp_path / "again.html"
    mlspec(root, "runs", "compare", first, second, "--html", str(again), "--param", "forest.max_depth")
    assert again.read_bytes() == page.read_bytes()  # deterministic: no dates, fixed ids


@pytest.mark.parametrize(("args", "message"), [
    (["runs", "show", "zzz"], "error: no run 'zzz' in the history"),
    (["runs", "show", "2"], "error: run '2' is ambiguous: it starts 2 run ids"),
    (["runs", "show", "latest~5"], "error: run 'latest~5': the history holds 2 runs"),
    (["runs", "compare", "latest"], "error: mlspec runs compare needs two runs or more"),
    (["runs", "--where", "roc_auc=>0.9"], "error: --where 'roc_auc=>0.9': expected [MODEL.]METRIC OP NUMBER"),
    (["runs", "--where", "roc_auc>=high"], "error: --where 'roc_auc>=high': expected"),
    (["runs", "compare", "latest~1", "latest", "--html", "x.html", "--param", "forest.max_dept"],
     "error: --param 'forest.max_dept': no run has that param; did you mean 'forest.max_depth'?"),
])
def test_bad_input_is_a_named_error(project: tuple[Path, list[str]], args: list[str], message: str) -> None:
    root, _ = project
    done = mlspec(root, *args)
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_list_and_show_import_nothing_heavy(project: tuple[Path, list[str]]) -> None:
    root, _ = project
    code = ("import sys\nfrom mlspec import cli\n"
            "rc = cli.main(['runs', '--local']) + cli.main(['runs', 'show', 'latest'])\n"
            f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_sync_mirrors_the_runs_a_store_lacks(project: tuple[Path, list[str]], tmp_path: Path) -> None:
    root, ids = project
    store = tmp_path / "store"
    done = run_mlspec("runs", "sync", cwd=root, env={"MLSPEC_STORE": str(store), "MLSPEC_CACHE_DIR": ""})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("mlspec runs sync: imported 0 part(s) from the store, mirrored 2 to it")
    assert sorted(p.parent.name for p in (store / "history").glob("*/*.json")) == sorted(ids)
    again = run_mlspec("runs", "sync", cwd=root, env={"MLSPEC_STORE": str(store), "MLSPEC_CACHE_DIR": ""})
    assert "imported 0 part(s) from the store, mirrored 0 to it" in again.stdout
