"""The report as GitLab's metrics report (``artifacts:reports:metrics``): ``metrics.txt``.

GitLab reads one ``name value`` pair per line (the OpenMetrics text format without types or labels) and
shows, in the merge request, how each value differs from the target branch's latest report. The names are
stable across runs, so the comparison lines up: the champion's metrics by their spec names (``roc_auc``),
the number of gates by outcome (``gates_fail``) and each data source's rows (``data_train_rows``).
Metric names allow only letters, digits, ``_`` and ``:``; anything else becomes ``_``.
"""

from __future__ import annotations

import re

from mlspec.report.model import Report


def render(report: Report) -> str:
    lines = [f"{_name(name)} {value:.6g}" for name, value in report.numbers]
    return "\n".join([*lines, "# EOF"]) + "\n"


def _name(name: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_:]", "_", name)
    return clean if re.match(r"[A-Za-z_:]", clean) else f"_{clean}"
