"""`mlspec monitor`: run the monitor stage (and the data stages it needs), tell drift from errors, report.

Exit status, for people and for CI: 0 when there is no drift; 1 when there is drift, or when monitoring could
not judge at all (no rows, missing columns, no model). ``--exit-zero-on-drift`` makes drift exit 0 (errors
still exit 1): the scheduled pipelines use it when a later job acts on drift (``on_drift: issue`` or
``retrain``), which learns of it through ``--outputs FILE``: ``MLSPEC_DRIFT=true`` or ``false`` appended to
FILE, the format of both ``$GITHUB_OUTPUT`` and a GitLab dotenv report. An error writes nothing there, so no
later job mistakes it for "no drift" or for drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlspec.errors import MlspecError
from mlspec.load import Loaded
from mlspec.monitor import report as reports
from mlspec.runtime.workspace import Workspace, display_path

STAGE = "monitor"
OUTPUT_VAR = "MLSPEC_DRIFT"


@dataclass
class Monitored:
    drift: bool | None
    """True: drift; False: none; None: no verdict (an error, shown in the run's log)."""
    report_dir: Path
    lines: list[str] = field(default_factory=list)


def monitor(loaded: Loaded, wait: float = 0.0) -> Monitored:
    from mlspec.runtime.runner import run

    if loaded.spec.monitoring is None:
        raise MlspecError(f"{loaded.path}: the spec has no monitoring section; add one (`monitoring: {{current: "
                          "<data source>}`) to monitor drift")
    outcome = {o.stage_id: o for o in run(loaded, [STAGE], wait=wait).outcomes}[STAGE]
    directory = Workspace.for_spec(loaded.path).stage_dir(STAGE)
    if outcome.status in ("ran", "up to date"):
        return Monitored(False, directory, _lines(directory))
    # A failed *verdict* keeps its report, whose message is the outcome's; an error leaves an older report (or
    # none) behind, which must not be taken for this run's.
    try:
        found = reports.read(directory)
    except (OSError, ValueError):
        found = None
    if outcome.status == "failed" and found is not None and found.get("drift") and found["message"] == outcome.detail:
        return Monitored(True, directory, _lines(directory))
    return Monitored(None, directory)


def _lines(directory: Path) -> list[str]:
    found = reports.read(directory)
    lines = [f"monitor: {found['message']}"]
    if found["model"]["notice"]:
        lines.append(f"notice: {found['model']['notice']}")
    verdicts = [*found["features"], *([found["prediction"]] if found.get("prediction") else [])]
    width = max((len(v["name"]) for v in verdicts), default=0)
    lines += [f"  {v['name']:<{width}}  {v['method']:<4}  {v['verdict']}: {v['reason']}" for v in verdicts
              if v["drift"]]
    perf = found["performance"]
    if perf["available"]:
        shown = ", ".join(f"{m['metric']} {m['current']} (recorded {m['recorded']})" for m in perf["metrics"])
        lines.append(f"metrics on {perf['rows']} labelled current rows: {shown}")
    lines.append(f"report: {display_path(directory / 'drift.md')} (also drift.html, drift.json, junit.xml)")
    return lines


def write_outputs(path: str, drift: bool) -> None:
    with open(path, "a", encoding="utf-8") as out:
        out.write(f"{OUTPUT_VAR}={'true' if drift else 'false'}\n")


def open_issue(loaded: Loaded) -> list[str]:
    """File the last drift report as the project's one drift issue (see :mod:`mlspec.monitor.issue`)."""
    import os

    from mlspec.monitor import issue

    directory = Workspace.for_spec(loaded.path).stage_dir(STAGE)
    try:
        found = reports.read(directory)
        body = (directory / "drift.md").read_text("utf-8")
    except (OSError, ValueError):
        raise MlspecError(f"no drift report in {display_path(directory)}: run `mlspec monitor` first (in CI, this "
                          "job needs the monitor job's artifact)") from None
    if not found.get("drift"):
        return [f"no drift in the last report ({found['message']}); no issue opened"]
    return [issue.file(loaded.spec.project, found["message"], body, os.environ)]
