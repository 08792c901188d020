"""The report as JUnit XML, which GitLab shows in the merge request and pipeline ("Tests" tab).

One ``<testsuite>`` named ``gates`` with a test case per gate, and one ``validation.<suite>`` per
expectation suite with a test case per expectation. Each case names the spec file and the line that
declares its gate or suite (``file``, ``line``). How outcomes map:

* pass: a passing case;
* fail: a ``<failure>`` whose message says why (the same reason the gate stage prints);
* warn (a ``warn_only`` gate or suite that failed): a **passing** case with the warning in
  ``<system-out>``. Warn-only means "do not fail the pipeline", and JUnit consumers count failures and
  skips as problems, so a warning would otherwise read as a failure or as "not run"; the text is kept;
* skipped (a gate whose every check was skipped, e.g. ``max_drop`` without a baseline): ``<skipped>``;
* missing (no verdict, or a suite with no result because the run stopped before it): ``<skipped>`` with the
  reason, since the stage that stopped the run has already failed its own job.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from mlspec.report.model import Report

# Characters XML 1.0 cannot carry at all, not even escaped; a data value GX quoted may hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Case:
    name: str
    classname: str
    status: str
    line: int
    message: str
    details: str


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=_clean(f"mlspec {report.project}"))
    gate_cases = [Case(g.metric, f"{report.project}.gates", g.status, g.line, g.reason,
                       f"current {g.current}, baseline {g.baseline}, change {g.change}; bounds {g.bounds}")
                  for g in report.gates]
    _suite(root, "gates", report.spec_path, gate_cases)
    for s in report.suites:
        classname = f"{report.project}.validation.{s.name}"
        cases = [Case(e.label, classname, e.status, s.line, e.detail, e.detail) for e in s.expectations]
        if not s.expectations:
            cases = [Case(f"suite {s.name}", classname, s.status, s.line, s.summary, s.summary)]
        _suite(root, f"validation.{s.name}", report.spec_path, cases)
    for key in ("tests", "failures", "errors", "skipped"):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(root: ET.Element, name: str, file: str, cases: Iterable[Case]) -> None:
    suite = ET.SubElement(root, "testsuite", name=name)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for c in cases:
        message = _clean(c.message)
        counts["tests"] += 1
        case = ET.SubElement(suite, "testcase", name=_clean(c.name), classname=c.classname, file=_clean(file),
                             line=str(c.line), time="0")
        if c.status == "fail":
            counts["failures"] += 1
            failure = ET.SubElement(case, "failure", message=message, type="mlspec")
            failure.text = message if c.details == c.message else f"{message}\n{_clean(c.details)}"
        elif c.status in ("skipped", "missing"):
            counts["skipped"] += 1
            ET.SubElement(case, "skipped", message=message)
        elif c.status == "warn":
            ET.SubElement(case, "system-out").text = f"warning (warn_only, does not fail the pipeline): {message}"
        else:
            ET.SubElement(case, "system-out").text = message
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", "0")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)
