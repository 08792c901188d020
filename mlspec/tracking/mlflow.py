"""The MLflow tracking backend: each run record becomes MLflow runs, read back with MLflow's own client and UI.

How a record maps onto MLflow (experiment: ``tracking.experiment``, default the project's name):

* one *parent* run per pipeline run (``RunRecord.run_id``), named after it and found again by its tag
  ``mlspec.run_id``: the parts a CI pipeline's jobs send add to it. Tags: commit, branch, dirty, who, verdict,
  champion, overrides, mlspec version, CI URL, the parts and the stages that ran (united over parts); the
  champion's metrics; the run's report (``report.md``, ``report.html``) as artifacts under ``report/``.
* a *nested* run per model (``mlflow.parentRunId``, tag ``mlspec.model``; the champion's tagged
  ``mlspec.champion``) with the params it was trained with and its evaluation metrics.

Sending is idempotent, so a record sent twice (a send that timed out after the server took it) changes
nothing: params MLflow already has are not logged again (MLflow refuses to change one), a metric is logged
only when its value differs from the run's latest. Two jobs creating the same parent at once both keep the
older one and the other is deleted.

MLflow's client retries a failed request for minutes by default; here a request gets a few seconds and one
retry (unless the user's own ``MLFLOW_HTTP_REQUEST_*`` settings say otherwise), because the record is safe
in the outbox and a CI job should not hang on a server that is down.

MLflow is imported only by this module, and only when ``tracking.backend`` is ``mlflow``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlflow.entities import Metric, Param, RunTag
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from mlspec.runs.record import RunRecord

try:
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH, MAX_TAG_VAL_LENGTH
except ImportError:  # pragma: no cover - older MLflow
    MAX_PARAM_VAL_LENGTH, MAX_TAG_VAL_LENGTH = 500, 5000

TAG_RUN, TAG_KIND, TAG_MODEL, TAG_CHAMPION = "mlspec.run_id", "mlspec.kind", "mlspec.model", "mlspec.champion"
PARENT_TAG = "mlflow.parentRunId"
REPORT_FILES = ("report.md", "report.html")
FAST = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
        "MLFLOW_HTTP_REQUEST_TIMEOUT": "10", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true"}
"""Fail fast: one retry after a second, ten seconds per request (MLflow: 7 retries, 120 s). And no "View run"
line per finished run (each costs a request): mlspec prints the parent run's address once."""
_KEY = re.compile(r"[^\w\-. /:]")


class SendFailed(Exception):
    """MLflow did not take the record; the message is the server's first line."""


class MlflowTracker:
    def __init__(self, uri: str, experiment: str) -> None:
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        self.uri = uri
        self.experiment = experiment
        self.client = MlflowClient(tracking_uri=uri)

    @property
    def location(self) -> str:
        """The server's address without credentials or query, for messages."""
        parts = urlsplit(self.uri)
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else self.uri

    def send(self, record: RunRecord, report: Path | None) -> str:
        """Log ``record`` (and the report files in ``report``, if any); the parent run's address in the UI."""
        with _fast(), _failures():
            experiment_id = self._experiment()
            parent = self._parent(experiment_id, record)
            self._update_parent(parent, record, report)
            for model in sorted({*record.params, *record.metrics}):
                child = self._child(experiment_id, parent.info.run_id, record, model)
                self._log(child, _model_params(record.params.get(model, {})),
                          {**record.metrics.get(model, {}), **_search_metrics(record.params.get(model, {}))},
                          {TAG_CHAMPION: "true" if model == record.champion else "false"}, record)
                self._finish(child, record)
            return f"{self.location.rstrip('/')}/#/experiments/{experiment_id}/runs/{parent.info.run_id}"

    # --- finding or creating the runs -------------------------------------------------------------------------

    def _experiment(self) -> str:
        found = self.client.get_experiment_by_name(self.experiment)
        if found is None:
            try:
                return str(self.client.create_experiment(self.experiment))
            except MlflowException as exc:  # another job created it meanwhile
                if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                    raise
                found = self.client.get_experiment_by_name(self.experiment)
        if found is None:
            raise SendFailed(f"the experiment {self.experiment!r} was neither found nor created")
        if found.lifecycle_stage != "active":
            raise SendFailed(f"the experiment {self.experiment!r} is deleted; restore it in MLflow, or set "
                             "tracking.experiment to another name")
        return str(found.experiment_id)

    def _parent(self, experiment_id: str, record: RunRecord) -> Any:
        query = f"tags.`{TAG_RUN}` = '{_quote(record.run_id)}' and tags.`{TAG_KIND}` = 'run'"
        tags = {TAG_RUN: record.run_id, TAG_KIND: "run", "mlspec.project": record.project}
        return self._one(experiment_id, query, tags, record.run_id, record)

    def _child(self, experiment_id: str, parent_id: str, record: RunRecord, model: str) -> Any:
        query = (f"tags.`{TAG_RUN}` = '{_quote(record.run_id)}' and tags.`{TAG_KIND}` = 'model' and "
                 f"tags.`{TAG_MODEL}` = '{_quote(model)}'")
        tags = {TAG_RUN: record.run_id, TAG_KIND: "model", TAG_MODEL: model, PARENT_TAG: parent_id}
        return self._one(experiment_id, query, tags, model, record)

    def _one(self, experiment_id: str, query: str, tags: dict[str, str], name: str, record: RunRecord) -> Any:
        found = self.client.search_runs([experiment_id], query, max_results=10)
        if not found:
            self.client.create_run(experiment_id, start_time=_ms(record.started), tags=tags, run_name=name)
            found = self.client.search_runs([experiment_id], query, max_results=10)
        # Two jobs that created it at once both keep the oldest, and delete the other.
        keep, *extra = sorted(found, key=lambda r: (r.info.start_time, r.info.run_id))
        for run in extra:
            self.client.delete_run(run.info.run_id)
        return keep

    # --- logging ------------------------------------------------------------------------------------------

    def _update_parent(self, parent: Any, record: RunRecord, report: Path | None) -> None:
        have = parent.data.tags
        ran = {s.id for s in record.stages if s.status == "ran"}
        failed = {s.id for s in record.stages if s.status == "failed"}
        tags = {
            "mlspec.commit": record.commit, "mlflow.source.git.commit": record.commit,
            "mlspec.branch": record.branch, "mlflow.source.git.branch": record.branch,
            "mlspec.dirty": None if record.dirty is None else str(record.dirty).lower(),
            "mlspec.who": record.who, "mlflow.user": record.who,
            "mlspec.verdict": record.verdict, "mlspec.champion": record.champion,
            "mlspec.version": record.mlspec_version or None, "mlspec.ci_url": record.ci.get("url"),
            "mlspec.spec_fingerprint": record.spec_fingerprint,
            "mlspec.parts": _united(have.get("mlspec.parts"), [record.part]),
            "mlspec.stages_ran": _united(have.get("mlspec.stages_ran"), ran),
            "mlspec.stages_failed": _united(have.get("mlspec.stages_failed"), failed),
            "mlspec.overrides": _united(have.get("mlspec.overrides"), record.overrides, "\n"),
        }
        # A part that has no say on a tag (no gate ran in it) leaves what another part wrote.
        self._log(parent, {}, dict(record.champion_metrics), {k: v for k, v in tags.items() if v}, record)
        for name in REPORT_FILES:
            if report is not None and (report / name).is_file():
                self.client.log_artifact(parent.info.run_id, str(report / name), "report")
        self._finish(parent, record, failed=bool(failed) or bool(have.get("mlspec.stages_failed")))

    def _log(self, run: Any, params: Mapping[str, str], metrics: Mapping[str, Any], tags: Mapping[str, str],
             record: RunRecord) -> None:
        have_params, have_metrics = run.data.params, run.data.metrics
        stamp = _ms(record.finished)
        new_params = [Param(k, v) for k, v in sorted(params.items()) if k not in have_params]
        new_metrics = [Metric(_key(k), float(v), stamp, 0) for k, v in sorted(metrics.items())
                       if _finite(v) and have_metrics.get(_key(k)) != float(v)]
        new_tags = [RunTag(k, _clip(v, MAX_TAG_VAL_LENGTH)) for k, v in sorted(tags.items())]
        truncated = sorted(k for k, v in params.items() if _TRUNCATED.search(v) and k not in have_params)
        if truncated:
            new_tags.append(RunTag("mlspec.truncated_params", ", ".join(truncated)))
        self.client.log_batch(run.info.run_id, metrics=new_metrics, params=new_params, tags=new_tags)

    def _finish(self, run: Any, record: RunRecord, failed: bool = False) -> None:
        end = max(_ms(record.finished), run.info.end_time or 0)
        self.client.set_terminated(run.info.run_id, "FAILED" if failed else "FINISHED", end_time=end)


@contextmanager
def _fast() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in FAST}
    for key, value in FAST.items():
        os.environ.setdefault(key, value)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)


@contextmanager
def _failures() -> Iterator[None]:
    try:
        yield
    except MlflowException as exc:
        raise SendFailed(_why(str(getattr(exc, "message", exc)))) from None
    except OSError as exc:  # reading a report file, a socket error MLflow let through
        raise SendFailed(f"{type(exc).__name__}: {exc}") from None


# --- values -----------------------------------------------------------------------------------------------

_TRUNCATED = re.compile(r" …\[truncated: \d+ chars\]$")


def _model_params(entry: Mapping[str, Any]) -> dict[str, str]:
    """A model's params as MLflow params: the estimator's own under their names, mlspec's under ``mlspec.``."""
    out: dict[str, str] = {}
    for key, value in entry.items():
        if key == "params" and isinstance(value, Mapping):
            out.update({_key(str(k)): _param(v) for k, v in value.items()})
        elif key == "search" and isinstance(value, Mapping):
            out.update({_key(f"mlspec.search.{k}"): _param(v) for k, v in value.items() if k != "cv_score"})
        else:
            out[_key(f"mlspec.{key}")] = _param(value)
    return out


def _search_metrics(entry: Mapping[str, Any]) -> dict[str, float]:
    search = entry.get("search")
    score = search.get("cv_score") if isinstance(search, Mapping) else None
    return {"search_cv_score": float(score)} if score is not None and _finite(score) else {}


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return _clip(text, MAX_PARAM_VAL_LENGTH)


def _clip(text: str, limit: int) -> str:
    """``text``, or as much as fits with a visible mark of how long it was (MLflow refuses a longer value)."""
    if len(text) <= limit:
        return text
    mark = f" …[truncated: {len(text)} chars]"
    return text[: limit - len(mark)] + mark


def _united(have: str | None, new: Any, sep: str = ", ") -> str | None:
    values = {v for v in (have or "").split(sep) if v} | {v for v in new if v}
    return sep.join(sorted(values)) or None


def _key(name: str) -> str:
    return _KEY.sub("_", name)[:250]


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _ms(stamp: str) -> int:
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return int(time.time() * 1000)


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


_WHY = (
    (re.compile(r"Connection refused|ECONNREFUSED"), "connection refused (is the server running?)"),
    (re.compile(r"timed out|Timeout", re.I), f"no answer within {FAST['MLFLOW_HTTP_REQUEST_TIMEOUT']} s"),
    (re.compile(r"Name or service not known|nodename nor servname|Failed to resolve|getaddrinfo failed"),
     "host name not found"),
    (re.compile(r"error code (401|403)\b"), "HTTP {0}: not allowed (check MLFLOW_TRACKING_TOKEN, or "
                                           "MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)"),
    (re.compile(r"error code (404)\b"), "HTTP {0}: no MLflow tracking API at this address"),
    (re.compile(r"error code (\d{3})\b"), "HTTP {0}"),
    (re.compile(r"Max retries exceeded"), "no answer"),
)


def _why(message: str) -> str:
    """MLflow's message (a page of urllib3's retry history for a refused connection) in a few words."""
    for pattern, said in _WHY:
        found = pattern.search(message)
        if found:
            return said.format(*found.groups())
    lines = message.strip().splitlines()
    return _short(lines[0]) if lines else "no answer"


def _short(text: str) -> str:
    return text if len(text) <= 300 else text[:297] + "..."
