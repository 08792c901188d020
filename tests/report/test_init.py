"""`mlspec report` on real runs of the breast-cancer example: what each format shows, and that it stays honest."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest

from mlspec.load import load
from mlspec.report import FILES, html, junit, markdown
from mlspec.report.model import Expectation, collect
from mlspec.report.outputs import write
from mlspec.runtime.context import StageError
from mlspec.runtime.verdict import read
from tests.report.conftest import run_here
from tests.support import run_mlspec

SPEC = Path("mlspec.yaml")
OUT = Path(".mlspec/report")


def edit(old: str, new: str) -> None:
    text = SPEC.read_text()
    assert old in text, old
    SPEC.write_text(text.replace(old, new, 1))


def written() -> dict[str, str]:
    return {fmt: (OUT / name).read_text() for fmt, name in FILES.items()}


def test_pull_request_report_in_markdown(pull_request: Path) -> None:
    lines = write(load(SPEC), ["all"], environ={})
    assert lines == [f"wrote {OUT / name}" for name in FILES.values()] + ["✅ gates passed"]
    md = written()["markdown"]
    verdict = read(Path(".mlspec/stages/gate/verdict.json"))
    assert md.startswith("<!-- mlspec-report: breast-cancer -->\n## ✅ mlspec `breast-cancer`: gates passed\n")
    assert "Champion `logreg`; baseline: main:mlspec.lock (champion 'logreg').\n" in md
    for g in verdict.result.gates:  # the champion did not change: current equals baseline
        assert g.current is not None and g.current == g.baseline
        row = next(line for line in md.splitlines() if line.startswith(f"| ✅ | `{g.metric}` "))
        assert f" | {g.current:.4g} | {g.current:.4g} | +0 | " in row
    assert "| ✅ | `f1` (higher is better) | 0.9375 | 0.9375 | +0 | min 0.9, max_drop 2% | " in md
    assert "| ✅ | `train_quality` | `train` | 6 of 6 expectations passed |" in md
    assert "### What changed against main\n" in md
    assert "| parameter | training.models.forest.params.n_estimators | 200 | 100 | -100 |" in md
    assert "| **logreg** (champion) |" in md and "\n| forest |" in md
    assert "3 plots (confusion_matrix-forest, confusion_matrix-logreg, roc) in the HTML report" in md
    assert "<details" not in md  # nothing failed
    # Which class the binary metrics are about, and the champion's numbers per class.
    assert "\nPositive class 1: the binary metrics are about it.\n" in md
    evaluation = json.loads(Path(".mlspec/stages/evaluate/metrics.json").read_text())
    for label, row in evaluation["per_class"]["logreg"].items():
        cells = " | ".join(f"{row[k]:.4g}" for k in ("precision", "recall", "f1"))
        assert f"| {label}{' (positive)' if label == '1' else ''} | {cells} | {row['support']} |" in md
    assert "Positive class <code>1</code>" in written()["html"]


def test_failed_gate_in_every_format(pull_request: Path) -> None:
    edit("roc_auc: {min: 0.95,", "roc_auc: {min: 0.999,")
    assert not run_here(SPEC.absolute()).ok
    loaded = load(SPEC)
    assert write(loaded, ["all"], environ={})[-1] == "❌ 1 gate failed"
    out = written()
    assert "## ❌ mlspec `breast-cancer`: 1 gate failed\n" in out["markdown"]
    row = next(line for line in out["markdown"].splitlines() if "`roc_auc`" in line)
    assert row.startswith("| ❌ | `roc_auc` (higher is better) | 0.9917 |")
    assert "| min 0.999, max_drop 0.01 | 0.9917 &lt; min 0.999 |" in row

    suites = ET.fromstring(out["junit"])
    assert (suites.get("tests"), suites.get("failures"), suites.get("skipped")) == ("11", "1", "0")
    gates = suites.find("testsuite[@name='gates']")
    assert gates is not None and gates.get("failures") == "1"
    failure = gates.find("testcase[@name='roc_auc']/failure")
    assert failure is not None and failure.get("message") == "0.9917 < min 0.999"
    case = gates.find("testcase[@name='roc_auc']")
    assert case is not None
    assert (case.get("file"), case.get("line")) == ("mlspec.yaml", str(loaded.line_of("evaluation", "gates",
                                                                                      "roc_auc").line))
    assert "gates_fail 1\n" in out["gitlab-metrics"]
    assert 'data-verdict="fail"' in out["html"]
    assert '<tr class="gate" data-metric="roc_auc" data-status="fail">' in out["html"]


def test_warn_only_gate_passes_in_junit_with_the_warning(pull_request: Path) -> None:
    edit("log_loss: {max: 0.3, warn_only: true}", "log_loss: {max: 0.05, warn_only: true}")
    assert run_here(SPEC.absolute()).ok  # warn-only: the run passes
    write(load(SPEC), ["junit", "markdown"], environ={})
    suites = ET.fromstring((OUT / "junit.xml").read_text())
    case = suites.find("testsuite[@name='gates']/testcase[@name='log_loss']")
    assert case is not None and case.find("failure") is None and case.find("skipped") is None
    out = case.find("system-out")
    assert out is not None and out.text == "warning (warn_only, does not fail the pipeline): 0.1069 > max 0.05"
    md = (OUT / "report.md").read_text()
    assert "## ⚠️ mlspec `breast-cancer`: gates passed with warnings\n" in md
    assert "| ⚠️ | `log_loss` (lower is better) |" in md
    assert not (OUT / "report.html").exists()  # only the formats asked for


def test_failed_suite_stops_the_run_and_the_report_says_so(pull_request: Path) -> None:
    edit("{column: mean_radius, min_value: 5, max_value: 40}", "{column: mean_radius, min_value: 5, max_value: 15}")
    edit('max_drop: "2%"', 'max_drop: "3%"')  # the gates changed too: the old verdict must not be shown
    assert not run_here(SPEC.absolute()).ok
    write(load(SPEC), ["all"], environ={})
    out = written()
    md = out["markdown"]
    assert "## ❔ mlspec `breast-cancer`: no gate verdict\n" in md
    assert "| ❌ | `train_quality` | `train` | 5 of 6 expectations passed |" in md
    assert "<details open><summary>❌ <code>train_quality</code>: 1 failed expectation</summary>" in md
    failed = next(line for line in md.splitlines() if line.startswith("| expect_column_values_to_be_between"))
    assert re.search(r"\| \d+ unexpected values \(\d+\.\d\d%\), e\.g\. \d", failed), failed
    # Training never ran on the new data checks, so no verdict, no evaluation: said, not faked.
    assert "| ❔ | `roc_auc` (higher is better) | - | - | - | min 0.95, max_drop 0.01 | no gate verdict" in md
    assert "no current evaluation: the one in the workspace is out of date (" in md

    suites = ET.fromstring(out["junit"])
    suite = suites.find("testsuite[@name='validation.train_quality']")
    assert suite is not None and (suite.get("tests"), suite.get("failures")) == ("6", "1")
    gates = suites.find("testsuite[@name='gates']")
    assert gates is not None and (gates.get("tests"), gates.get("skipped")) == ("3", "3")
    assert "roc_auc" not in out["gitlab-metrics"] and "gates_" not in out["gitlab-metrics"]


def test_nothing_run_yet_still_makes_a_report(tmp_path: Path) -> None:
    result = run_mlspec("init", str(tmp_path / "p"), "--example", "wine")
    assert result.returncode == 0, result.stderr
    result = run_mlspec("report", "-f", str(tmp_path / "p" / "mlspec.yaml"), env={"MLSPEC_CACHE_DIR": ""})
    assert result.returncode == 0, result.stderr
    md = (tmp_path / "p" / ".mlspec" / "report" / "report.md").read_text()
    assert "no gate verdict" in md and "no result: the suite did not run" in md
    assert result.stdout.splitlines()[-1] == "❔ no gate verdict"


def test_cli_appends_the_markdown_to_the_github_job_summary(pull_request: Path, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = run_mlspec("report", "--format", "markdown", "--out", str(tmp_path / "out"),
                        env={"GITHUB_STEP_SUMMARY": str(summary), "MLSPEC_CACHE_DIR": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "appended the Markdown report to the job summary ($GITHUB_STEP_SUMMARY)"
    assert summary.read_text() == "earlier step\n" + (tmp_path / "out" / "report.md").read_text()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.md"]


def test_cli_user_errors_have_no_traceback(tmp_path: Path) -> None:
    result = run_mlspec("report", "-f", str(tmp_path / "missing.yaml"))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith(f"error: {tmp_path / 'missing.yaml'}: file not found")
    bad = run_mlspec("report", "--format", "pdf")
    assert bad.returncode == 2 and "invalid choice: 'pdf'" in bad.stderr


def test_markdown_fits_a_github_comment_however_long_the_failures(pull_request: Path) -> None:
    report = collect(load(SPEC), OUT, {})
    many = tuple(Expectation(f"expect_column_values_to_be_in_set(column='c{i}', value_set=[{'x' * 150}])", "fail",
                             "3 unexpected values (1.00%), e.g. " + "'y' " * 60) for i in range(4000))
    huge = replace(report, suites=tuple(replace(s, status="fail", expectations=many) for s in report.suites))
    text = markdown.render(huge)
    assert markdown.length(text) <= markdown.LIMIT
    assert text.startswith(report.marker)
    # Cut to the same number of rows in each suite, and said so.
    shown = text.count("| expect_column_values_to_be_in_set(column='c")
    assert re.findall(r"\n(\d+) more in the HTML report\.\n", text) == [str(4000 - shown // 2)] * 2
    assert shown // 2 in markdown.CAPS
    assert "### Plots" in text  # the sections after the long list are still there


def test_values_cannot_become_markup(pull_request: Path) -> None:
    report = collect(load(SPEC), OUT, {})
    evil = "<script>alert(1)</script> | <!-- mlspec-report: x --> `code`"
    suites = tuple(replace(s, status="fail", expectations=(Expectation(evil, "fail", evil),)) for s in report.suites)
    hostile = replace(report, suites=suites, notices=(evil,))
    page = html.render(hostile)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<!-- mlspec-report") == 0
    md = markdown.render(hostile)
    assert "<script>" not in md and md.count("<!-- mlspec-report:") == 1  # only the real marker, on top
    assert "&lt;script&gt;alert(1)&lt;/script&gt; \\| &lt;!-- mlspec-report: x --&gt; \\`code\\`" in md
    ET.fromstring(junit.render(replace(hostile, suites=tuple(
        replace(s, expectations=(Expectation("bad \x00\x1b chars", "fail", "\x0b"),)) for s in suites))))


def test_html_is_self_contained(pull_request: Path) -> None:
    write(load(SPEC), ["html"], environ={})
    page = (OUT / "report.html").read_text()
    assert re.findall(r'(?:src|href)="(?!data:image/png;base64,)([^"]*)"', page) == []
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; img-src data:;' in page
    assert len(re.findall(r'<img src="data:image/png;base64,', page)) == 3


def test_metrics_txt_is_name_value_lines(pull_request: Path) -> None:
    write(load(SPEC), ["gitlab-metrics"], environ={})
    lines = (OUT / "metrics.txt").read_text().splitlines()
    assert lines[-1] == "# EOF"
    assert all(re.fullmatch(r"[A-Za-z_:][A-Za-z0-9_:]* -?[0-9.e+-]+", line) for line in lines[:-1]), lines
    names = [line.split()[0] for line in lines[:-1]]
    assert names[:4] == ["roc_auc", "accuracy", "f1", "log_loss"]
    assert "data_train_rows" in names and "gates_pass" in names
    metrics = json.loads(Path(".mlspec/stages/evaluate/metrics.json").read_text())["champion_metrics"]
    assert lines[0] == f"roc_auc {metrics['roc_auc']:.6g}"


def test_what_changed_lists_data_digests_and_rows(pull_request: Path) -> None:
    holdout = Path("data/holdout.csv")
    lines = holdout.read_text().splitlines(keepends=True)
    holdout.write_text("".join([*lines, lines[-1]]))  # one more row
    assert run_here(SPEC.absolute()).ok
    # Only monitoring reads data:current: like a CI pull request pipeline, this run did not read it.
    Path(".mlspec/records/data/current.json").unlink()
    changes = collect(load(SPEC), OUT, {}).changes
    assert changes.against == "main"
    assert [(c.kind, c.name, c.old, c.new, c.change) for c in changes.rows] == [
        ("data shape", "data:holdout.rows", "171", "172", "+1"),
        ("parameter", "training.models.forest.params.n_estimators", "200", "100", "-100"),
        ("data file", "data/holdout.csv", "a031d505efa4", changes.rows[2].new, "changed"),
    ]
    assert changes.rows[2].new != "a031d505efa4"


def test_a_broken_evaluation_is_an_error_naming_it(pull_request: Path) -> None:
    """An absent evaluation is a part of the report shown as missing; one that is there but is not an
    evaluation was edited or damaged, and the report says so rather than leave the part out."""
    metrics = Path(".mlspec/stages/evaluate/metrics.json")
    metrics.write_text(json.dumps({**json.loads(metrics.read_text()), "champion": 3}))
    with pytest.raises(StageError) as caught:
        collect(load(SPEC), OUT, environ={})
    assert str(caught.value) == (".mlspec/stages/evaluate/metrics.json: champion: missing or not a string; run "
                                 "`mlspec run evaluate --force`")
    metrics.unlink()
    assert collect(load(SPEC), OUT, environ={}).evaluation_note.startswith("no evaluation: the evaluate stage did not")
