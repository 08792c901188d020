"""The drift report in four formats, written into the monitor stage's output directory.

``drift.json`` (the record other tools read), ``drift.md`` (for people, and the body of the drift issue),
``drift.html`` (the same with a reference-against-current plot per drifted feature, embedded as base64 PNG, so
the file stands alone as a CI artifact) and ``junit.xml`` (one test case per feature and one for the
predictions, so CI test views list the drifted features). No timestamps: the files are content-addressed
outputs; when a run happened is in the stage's ``_run/`` directory.
"""

from __future__ import annotations

import base64
import html
import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlspec.numbers import fmt

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


# --- shared pieces ---------------------------------------------------------------------------------------------


def _rows(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Features, drifted first (in model order), then the rest; the predictions last."""
    features = report["features"]
    rows = [v for v in features if v["drift"]] + [v for v in features if not v["drift"]]
    return rows + ([report["prediction"]] if report.get("prediction") else [])


def _num(value: float | None) -> str:
    # Three digits: drift statistics are noisy beyond that; p-values far below any threshold as 1.2e-04.
    return fmt(value, 3, missing="", tiny=1e-3)


def _cells(v: dict[str, Any]) -> list[str]:
    return [v["name"], v["kind"], v["method"], _num(v["statistic"]), _num(v["p_value"]), _num(v["psi"]),
            f"{v['threshold']:g}", v["verdict"], v["reason"] + (f" ({v['note']})" if v["note"] else "")]


HEADER = ["feature", "kind", "method", "statistic", "p-value", "PSI", "threshold", "verdict", "why"]


def _facts(report: dict[str, Any]) -> list[str]:
    model, cur, ref = report["model"], report["current"], report["reference"]
    return [
        f"Model: {model['trained_model']}, {model['where']}",
        f"Current data: {cur['source']!r}, {cur['rows']} rows",
        f"Reference: {ref['description']}, {ref['rows']} rows",
    ]


def _performance_lines(perf: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    if not perf["available"]:
        return [f"Not computed: {perf['reason']}."], []
    rows = [[m["metric"], _num(m["recorded"]), _num(m["current"]), _num(m["change"]),
             ("worse" if m["worse"] else "not worse") + f" ({m['direction']} is better)"] for m in perf["metrics"]]
    return [f"On {perf['rows']} labelled rows of the current data (reported, not gated):"], rows


# --- Markdown --------------------------------------------------------------------------------------------------


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    return [line(header), "|" + "---|" * len(header), *(line(r) for r in rows)]


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Drift report: {report['project']}", ""]
    lines += [f"**{'Drift' if report['drift'] else 'No drift'}**: {report['message']}.", ""]
    lines += [f"- {fact}" for fact in _facts(report)]
    if report["model"]["notice"]:
        lines += ["", f"> **Notice:** {report['model']['notice']}"]
    lines += ["", *_md_table(HEADER, [_cells(v) for v in _rows(report)])]
    text, rows = _performance_lines(report["performance"])
    lines += ["", "## Model performance on the current data", "", *text]
    if rows:
        lines += ["", *_md_table(["metric", "recorded", "current", "change", ""], rows)]
    lines += ["", "## Notes", "", *(f"- {n}" for n in report["notes"])]
    return "\n".join(lines) + "\n"


# --- HTML ------------------------------------------------------------------------------------------------------

_STYLE = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse}"
          "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}tr.drift td{background:#fde8e8}"
          ".notice{background:#fff5d6;padding:.6em}figure{display:inline-block;margin:.5em}")


def _html_table(header: list[str], rows: list[list[str]], marks: list[bool] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for i, row in enumerate(rows):
        cls = ' class="drift"' if marks and marks[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>")
    return "\n".join([*out, "</table>"])


def html_page(report: dict[str, Any], plots: Mapping[str, bytes]) -> str:
    title = f"Drift report: {report['project']}"
    rows = _rows(report)
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p><strong>{'Drift' if report['drift'] else 'No drift'}</strong>: {html.escape(report['message'])}."
             "</p>", "<ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in _facts(report)) + "</ul>"]
    if report["model"]["notice"]:
        parts.append(f'<p class="notice"><strong>Notice:</strong> {html.escape(report["model"]["notice"])}</p>')
    parts.append(_html_table(HEADER, [_cells(v) for v in rows], [v["drift"] for v in rows]))
    if plots:
        parts.append("<h2>Drifted features: reference against current</h2>")
        for name, png in plots.items():
            data = base64.b64encode(png).decode("ascii")
            parts.append(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'
                         f"<figcaption>{html.escape(name)}</figcaption></figure>")
    text, perf_rows = _performance_lines(report["performance"])
    parts += ["<h2>Model performance on the current data</h2>", *(f"<p>{html.escape(t)}</p>" for t in text)]
    if perf_rows:
        parts.append(_html_table(["metric", "recorded", "current", "change", ""], perf_rows))
    parts += ["<h2>Notes</h2>", "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in report["notes"]) + "</ul>"]
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{_STYLE}</style></head>\n<body>\n{body}\n</body>\n</html>\n")


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
