"""`mlspec runs compare --html FILE`: the comparison as one self-contained page with plots.

The view-model is built here and the template (``templates/runs/compare.html.j2``) only loops and prints,
with autoescaping on: a project name, a param value or a run id is text on the page, never markup. The plots
(:mod:`mlspec.runs.plots`) are inline SVG made by matplotlib, whose text it escapes itself; they are the only
markup passed through. The runs are shown in time order (by start), whatever order they were given in;
deltas stay against the first run given.

Plots: for each metric of the comparison (``<model>.<metric>``, the champion's first), its value per run;
and, for each param named with ``--param`` (else each param that differs, at most :data:`MOST_PARAMS`), the
metrics of its model (``forest.max_depth``: forest's) against it, one point per run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import markupsafe

from mlspec.errors import MlspecError
from mlspec.render import render_html
from mlspec.runs.compare import Comparison, flat_params
from mlspec.runs.plots import per_run, scatter
from mlspec.runs.views import number
from mlspec.suggest import did_you_mean

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
MOST_PARAMS = 4
MOST_METRIC_PLOTS = 12


@dataclass(frozen=True)
class Plot:
    title: str
    svg: markupsafe.Markup


def view(c: Comparison, params: Sequence[str] = ()) -> dict[str, Any]:
    order = sorted(range(len(c.runs)), key=lambda i: (c.runs[i].started, i))
    labels = [c.runs[i].run_id for i in order]
    metric_rows = sorted(c.metrics, key=lambda r: (r.model != "champion", r.model, r.metric))
    plots = [Plot(f"{row.name} per run", _markup(per_run(row.name, labels, [row.values[i] for i in order])))
             for row in metric_rows[:MOST_METRIC_PLOTS] if sum(v is not None for v in row.values) > 0]
    flat = [flat_params(r) for r in c.runs]
    known = sorted({k for f in flat for k in f})
    for param in params:
        if param not in known:
            raise MlspecError(f"--param {param!r}: no run has that param" + did_you_mean(param, known))
    # By default the params a person set: not the estimator's name, nor a search's summary (its score is a result).
    chosen = list(params) or [r.name for r in c.params
                              if not r.name.endswith(".estimator") and ".search." not in r.name][:MOST_PARAMS]
    for param in chosen:
        # The metrics of the model the param belongs to; the champion's for a param of no evaluated model.
        model = param.split(".", 1)[0]
        rows = [r for r in c.metrics if r.model == model] or [r for r in c.metrics if r.model == "champion"]
        for row in rows:
            points = [(flat[i][param], value, c.runs[i].run_id) for i in order
                      if (value := row.values[i]) is not None and flat[i].get(param) is not None]
            if points:
                plots.append(Plot(f"{row.name} against {param}", _markup(scatter(row.name, param, points))))
    return {
        "csp": CSP,
        "project": c.runs[0].project,
        "runs": [{"id": r.run_id, "started": r.started, "branch": r.branch or "-", "commit": (r.commit or "-")[:12],
                  "who": r.who, "champion": r.champion or "-", "verdict": r.verdict or "-",
                  "overrides": ", ".join(r.overrides) or "-"} for r in c.runs],
        "params": [{"name": r.name, "values": [_text(v) for v in r.values]} for r in c.params],
        "metrics": [{"name": r.name, "cells": [{"value": number(v), "delta": _delta(d)}
                                               for v, d in zip(r.values, r.deltas, strict=True)]}
                    for r in c.metrics],
        "data": [{"name": r.name, "values": [_text(v) for v in r.values]} for r in c.data],
        "stages": [{"name": r.name, "values": [_text(v) for v in r.values]} for r in c.stages],
        "plots": plots,
    }


def render(c: Comparison, params: Sequence[str] = ()) -> str:
    return render_html("runs/compare.html.j2", view(c, params))


def _markup(svg: str) -> markupsafe.Markup:
    # matplotlib's SVG writer escapes every string it draws (escape_cdata / escape_attrib): trusted markup.
    return markupsafe.Markup(svg)


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return number(value)
    return str(value)


def _delta(value: float | None) -> str:
    return "" if value is None or value == 0 else f"{value:+.4g}"
