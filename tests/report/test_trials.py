"""The report's trials section, from a real searched train stage."""

from __future__ import annotations

from pathlib import Path

from mlspec.load import load
from mlspec.report import trials
from mlspec.report.html import render as render_html
from mlspec.report.markdown import render as render_markdown
from mlspec.report.model import collect
from mlspec.runtime.workspace import Workspace
from tests.runtime.search.kit import edit, project, train


def test_the_section_shows_the_best_trial_the_top_trials_and_which_rows_cv_used(tmp_path: Path) -> None:
    spec = project(tmp_path, "space: {C: [0.01, -1.0, 1.0]}\ncv: 3")
    assert train(spec)[0].ok
    edit(spec, "C: [0.01, -1.0, 1.0]", "C: [0.01, -1.0, 1.0, 10.0]")
    assert train(spec)[0].ok
    loaded = load(spec)
    (view,) = trials.collect(loaded, Workspace.for_spec(spec))
    assert (view.model, view.method, view.metric, view.trials) == ("m", "grid", "roc_auc", 4)
    assert (view.ran, view.cached, view.failed) == (1, 2, 1)
    assert [row.rank for row in view.top] == [1, 2, 3, 0]
    assert view.top[-1].number == 1 and view.top[-1].cv.startswith("failed: InvalidParameterError")
    assert view.best.startswith(f"trial {view.top[0].number} {{C: ")
    text = render_markdown(collect(loaded, tmp_path / "out"))
    assert "#### Search: `m`" in text
    assert ("grid search by roc_auc: 4 trials (1 ran, 2 from the cache, 1 failed); best " + view.best) in text
    assert ("Scored by 3-fold cross-validation on the 398 training rows (data source 'train') only, never on the "
            "evaluation rows ('holdout') the gate judges") in text
    assert f"| 1 | {view.top[0].number} | {view.top[0].params} | {view.top[0].cv} |" in text
    html = render_html(collect(loaded, tmp_path / "out"))
    assert "<h3>Search: m</h3>" in html and f"<code>{view.top[0].params}</code>" in html


def test_a_model_without_a_search_or_trials_adds_no_section(tmp_path: Path) -> None:
    spec = project(tmp_path)
    assert trials.collect(load(spec), Workspace.for_spec(spec)) == ()
