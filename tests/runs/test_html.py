"""The comparison page: plots of the runs' values, deterministic bytes, every value escaped."""

from __future__ import annotations

import re
from dataclasses import replace
from xml.etree import ElementTree

from mlspec.runs import html
from mlspec.runs.compare import compare
from mlspec.runs.record import RunRecord
from tests.runs.records import record

HOSTILE = '<script>alert("x")</script>&$\\x$'


def runs() -> list[RunRecord]:
    return [record("20261201T100000Z-aaaaaa", depth=3, auc=0.91),
            record("20261202T100000Z-bbbbbb", finished="2026-12-02T10:00:05+00:00", depth=6, auc=0.87),
            record("20261203T100000Z-cccccc", finished="2026-12-03T10:00:05+00:00", depth=9, auc=0.93)]


def svgs(page: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", page, re.S)


def texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def test_the_page_plots_each_metric_per_run_and_against_the_param_that_differs() -> None:
    page = html.render(compare(runs()))
    plots = svgs(page)
    titles = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert titles[:2] == ["champion.accuracy per run", "champion.roc_auc per run"]
    assert "forest.roc_auc against forest.max_depth" in titles
    per_run = texts(plots[titles.index("forest.roc_auc per run")])
    assert {"0.91", "0.87", "0.93"} <= set(per_run)  # each run's value, written at its point
    assert {"20261201T100000Z-aaaaaa", "20261203T100000Z-cccccc"} <= set(per_run)  # the runs, in time order
    against = texts(plots[titles.index("forest.roc_auc against forest.max_depth")])
    assert "0.87 (20261202T100000Z-bbbbbb)" in against and "forest.max_depth" in against
    assert html.render(compare(runs())) == page  # deterministic bytes


def test_hostile_values_are_text_everywhere() -> None:
    hostile = [replace(r, project=HOSTILE) for r in runs()]
    hostile[1] = record("20261202T100000Z-bbbbbb", finished="2026-12-02T10:00:05+00:00", depth=HOSTILE,
                        project=HOSTILE)
    page = html.render(compare(hostile), params=["forest.max_depth"])
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page  # the project, the param's value in the table
    for svg in svgs(page):
        ElementTree.fromstring(svg)  # well-formed: matplotlib escaped what it drew
    assert any(HOSTILE in texts(svg) for svg in svgs(page))  # drawn as the text it is ($ is no math)
