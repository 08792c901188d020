"""The drift report in four formats, written into the monitor stage's output directory.

``drift.json`` (the record other tools read), ``drift.md`` (for people, and the body of the drift issue),
``drift.html`` (the same with a reference-against-current plot per drifted feature, embedded as base64 PNG, so
the file stands alone as a CI artifact) and ``junit.xml`` (one test case per feature and one for the
predictions, so CI test views list the drifted features). No timestamps: the files are content-addressed
outputs; when a run happened is in the stage's ``_run/`` directory.

As with the pull request report (:mod:`mlspec.report`), the Markdown and HTML pages are one view-model
(:func:`view`) printed by two templates, ``templates/monitor/drift.md.j2`` and ``drift.html.j2``.
"""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec.numbers import fmt
from mlspec.render import cell, render, render_html

FILES = ("drift.json", "drift.md", "drift.html", "junit.xml")


def write(directory: Path, report: dict[str, Any], plots: Mapping[str, bytes]) -> list[Path]:
    texts = {
        "drift.json": json.dumps(report, sort_keys=True, indent=2, allow_nan=False) + "\n",
        "drift.md": markdown(report),
        "drift.html": html_page(report, plots),
        "junit.xml": junit(report),
    }
    written = []
    for name, text in texts.items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    return written


def read(directory: Path) -> dict[str, Any]:
    from mlspec import jsonio

    return jsonio.read_object(directory / "drift.json")


# --- the view-model of drift.md and drift.html -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """A feature or the predictions: its cells in the table's column order, marked when it drifted."""

    cells: tuple[str, ...]
    drift: bool


@dataclass(frozen=True)
class Performance:
    text: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class View:
    """What both pages show, every number formatted; the templates only loop and print."""

    title: str
    verdict: str
    message: str
    facts: tuple[str, ...]
    notice: str
    rows: tuple[Row, ...]
    """Features, drifted first (in model order), then the rest; the predictions last."""
    performance: Performance
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Plot:
    name: str
    uri: str


def view(report: dict[str, Any]) -> View:
    model, cur, ref = report["model"], report["current"], report["reference"]
    features = report["features"]
    ordered = [v for v in features if v["drift"]] + [v for v in features if not v["drift"]]
    ordered += [report["prediction"]] if report.get("prediction") else []
    return View(
        title=f"Drift report: {report['project']}",
        verdict="Drift" if report["drift"] else "No drift",
        message=report["message"],
        facts=(f"Model: {model['trained_model']}, {model['where']}",
               f"Current data: {cur['source']!r}, {cur['rows']} rows",
               f"Reference: {ref['description']}, {ref['rows']} rows"),
        notice=model["notice"],
        rows=tuple(Row(_cells(v), v["drift"]) for v in ordered),
        performance=_performance(report["performance"]),
        notes=tuple(report["notes"]),
    )


def _num(value: float | None) -> str:
    # Three digits: drift statistics are noisy beyond that; p-values far below any threshold as 1.2e-04.
    return fmt(value, 3, missing="", tiny=1e-3)


def _cells(v: dict[str, Any]) -> tuple[str, ...]:
    return (v["name"], v["kind"], v["method"], _num(v["statistic"]), _num(v["p_value"]), _num(v["psi"]),
            f"{v['threshold']:g}", v["verdict"], v["reason"] + (f" ({v['note']})" if v["note"] else ""))


def _performance(perf: dict[str, Any]) -> Performance:
    if not perf["available"]:
        return Performance((f"Not computed: {perf['reason']}.",), ())
    rows = tuple((m["metric"], _num(m["recorded"]), _num(m["current"]), _num(m["change"]),
                  ("worse" if m["worse"] else "not worse") + f" ({m['direction']} is better)")
                 for m in perf["metrics"])
    return Performance((f"On {perf['rows']} labelled rows of the current data (reported, not gated):",), rows)


# --- Markdown and HTML -----------------------------------------------------------------------------------------


def markdown(report: dict[str, Any]) -> str:
    v = view(report)
    tables = {"features": [_md_cells(r.cells) for r in v.rows],
              "performance": [_md_cells(r) for r in v.performance.rows]}
    return render("monitor/drift.md.j2", {"v": v, **tables})


def _md_cells(cells: tuple[str, ...]) -> list[str]:
    """Cells kept to their column and shown as text, as the PR report's are: feature names and the reasons
    (which quote categories) come from the data, and drift.md is the drift issue's body."""
    return [cell(c) for c in cells]


def html_page(report: dict[str, Any], plots: Mapping[str, bytes]) -> str:
    pictures = [Plot(name, "data:image/png;base64," + base64.b64encode(png).decode("ascii"))
                for name, png in plots.items()]
    return render_html("monitor/drift.html.j2", {"v": view(report), "plots": pictures}, stdlib_entities=True)


# --- JUnit -----------------------------------------------------------------------------------------------------


def junit(report: dict[str, Any]) -> str:
    cases = [*report["features"], *([report["prediction"]] if report.get("prediction") else [])]
    failures = sum(1 for v in cases if v["drift"])
    suites = ET.Element("testsuites", name="mlspec monitor", tests=str(len(cases)), failures=str(failures))
    suite = ET.SubElement(suites, "testsuite", name=f"drift of {report['project']}", tests=str(len(cases)),
                          failures=str(failures), errors="0", skipped="0")
    for v in cases:
        group = "predictions" if v is report.get("prediction") else "features"
        case = ET.SubElement(suite, "testcase", classname=f"monitor.{group}", name=v["name"])
        detail = f"{v['method']}: {v['reason']}" + (f" ({v['note']})" if v["note"] else "")
        if v["drift"]:
            failure = ET.SubElement(case, "failure", message=f"{v['verdict']}: {v['reason']}", type=v["verdict"])
            failure.text = detail
        else:
            ET.SubElement(case, "system-out").text = detail
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
