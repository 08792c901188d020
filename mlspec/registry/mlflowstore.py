"""The MLflow backend: versions and aliases in an MLflow model registry, for teams that already run MLflow.

The server is the one ``MLFLOW_TRACKING_URI`` names (and ``MLFLOW_REGISTRY_URI``, if the registry lives
elsewhere); credentials come from MLflow's own variables (``MLFLOW_TRACKING_TOKEN``, ...). GitLab's model
registry speaks this API at ``<gitlab>/api/v4/projects/<id>/ml/mlflow``.

How the registry's concepts map onto MLflow:

* a registered model per spec ``project``; each version is an MLflow model version whose source is the
  artifacts (``mlspec/``: bundle, verdict, metrics, provenance, model card) of a run in the experiment
  ``mlspec/<project>``. The run also records the estimator's params and the evaluation metrics.
* version tags ``mlspec.digest`` (registering is idempotent by it), ``mlspec.verdict`` (promotion refuses a
  failed one, and any version without the tag), ``mlspec.trained_model``, ``mlspec.created_by``.
* version tags ``mlspec.files`` (the digest of every artifact), ``mlspec.manifest`` (the digest of those and
  of the other tags, also written into the ``register`` event) and, with ``MLSPEC_SIGNING_KEY`` set,
  ``mlspec.signature``: promote, rollback and downloading a version for serving check the artifacts against
  them and refuse a changed version (see :mod:`mlspec.registry.integrity`).
* aliases are MLflow's own aliases.
* MLflow keeps no history of alias moves (mlflow#2169), so each event is a registered-model tag
  ``mlspec.history.<time>.<id>`` holding its JSON: unique keys, so concurrent writers never overwrite one
  another's events. MLflow has no locks: serialise deploy jobs in CI (GitLab ``resource_group``, which the
  generated pipeline sets; GitHub ``concurrency``).

MLflow is imported only by this module, and only when the spec's registry is ``mlflow``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mlflow.entities import Metric, Param
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from mlspec import jsonio
from mlspec.registry import integrity
from mlspec.registry.base import (
    Actor,
    Candidate,
    Event,
    EventKind,
    RegistryError,
    Version,
    anchored_manifest,
    check_promotable,
    rollback_target,
)
from mlspec.registry.filestore import now, write_version_files
from mlspec.runtime.hashing import file_digest, manifest

ARTIFACTS = "mlspec"
HISTORY_PREFIX = "mlspec.history."
TAG_DIGEST, TAG_VERDICT, TAG_TRAINED = "mlspec.digest", "mlspec.verdict", "mlspec.trained_model"
TAG_BY, TAG_AT, TAG_METRICS = "mlspec.created_by", "mlspec.created_at", "mlspec.metrics"
TAG_FILES, TAG_MANIFEST, TAG_SIGNATURE = "mlspec.files", "mlspec.manifest", "mlspec.signature"
SEALED = (TAG_DIGEST, TAG_VERDICT, TAG_TRAINED, TAG_BY, TAG_AT, TAG_METRICS)
"""The version tags the manifest covers (with the artifacts' digests in ``mlspec.files``)."""
MAX_PARAM = 6000  # MLflow's limit on a param value


class MlflowRegistry:
    def __init__(self, tracking_uri: str, registry_uri: str | None = None, key: bytes | None = None) -> None:
        # MLflow draws a progress bar for every artifact download, which floods CI logs; set it to override.
        os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
        self.tracking_uri = tracking_uri
        self.key = key
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> MlflowRegistry:
        uri = environ.get("MLFLOW_TRACKING_URI")
        if not uri:
            raise RegistryError("registry.backend is mlflow, but MLFLOW_TRACKING_URI is not set; set it to the "
                                "tracking server (GitLab: https://<gitlab>/api/v4/projects/<id>/ml/mlflow with "
                                "MLFLOW_TRACKING_TOKEN)")
        return cls(uri, environ.get("MLFLOW_REGISTRY_URI") or None, integrity.signing_key(environ))

    @property
    def location(self) -> str:
        parts = urlsplit(self.tracking_uri)  # never print credentials written into the URI
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, host, parts.path, "", "")) if parts.scheme else self.tracking_uri

    # --- reading ----------------------------------------------------------------------------------------------

    def models(self) -> list[str]:
        with self._errors("listing registered models"):
            return sorted(m.name for m in self.client.search_registered_models())

    def versions(self, model: str) -> list[Version]:
        with self._errors(f"listing the versions of {model!r}"):
            found = self.client.search_model_versions(f"name = '{_quote(model)}'")
        return sorted((self._version(mv) for mv in found), key=lambda v: v.number)

    def get(self, model: str, number: int) -> Version:
        try:
            mv = self.client.get_model_version(model, str(number))
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                raise RegistryError(f"{model!r} has no version {number} in the MLflow registry {self.location}"
                                    ) from None
            raise self._failed(f"reading version {number} of {model!r}", exc) from None
        return self._version(mv)

    def aliases(self, model: str) -> dict[str, int]:
        registered = self._registered(model)
        return {} if registered is None else dict(sorted((a, int(v)) for a, v in registered.aliases.items()))

    def history(self, model: str) -> list[Event]:
        registered = self._registered(model)
        if registered is None:
            return []
        try:
            found = sorted((_object(v, k)["at"], k, v) for k, v in registered.tags.items()
                           if k.startswith(HISTORY_PREFIX))
            return [Event.from_json({**_object(v, k), "seq": i})
                    for i, (_, k, v) in enumerate(found, start=1)]
        except jsonio.JsonError as exc:
            raise RegistryError(f"MLflow ({self.location}): {model!r}'s history tag {exc}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RegistryError(f"MLflow ({self.location}): {model!r} has a damaged history tag "
                                f"({type(exc).__name__}: {exc})") from None

    def files(self, model: str, number: int, scratch: Path) -> Path:
        self.get(model, number)
        mv = self.client.get_model_version(model, str(number))
        if not mv.run_id:
            raise RegistryError(f"version {number} of {model!r} was not registered by mlspec (it has no run)")
        with self._errors(f"downloading version {number} of {model!r}"):
            folder = Path(self.client.download_artifacts(mv.run_id, ARTIFACTS, str(scratch)))
        record = _record(mv.name, dict(mv.tags or {}))
        anchored = anchored_manifest(self.history(model), number) or mv.tags.get(TAG_MANIFEST)
        integrity.check(f"version {number} of {model!r} (MLflow {self.location})", "its mlspec tags", record,
                        manifest(folder, file_digest) or {}, anchored, self.key)
        return folder

    def check_intact(self, model: str, number: int) -> None:
        """Refuse version ``number`` unless its artifacts are the ones registered (and signed, with a key)."""
        with tempfile.TemporaryDirectory(prefix="mlspec-verify.") as scratch:
            self.files(model, number, Path(scratch))

    # --- writing ----------------------------------------------------------------------------------------------

    def register(self, model: str, candidate: Candidate, actor: Actor) -> tuple[Version, bool]:
        with self._errors(f"registering a version of {model!r}"):
            if self._registered(model) is None:
                try:
                    self.client.create_registered_model(model, description="Registered by mlspec")
                except MlflowException as exc:  # another job created it meanwhile
                    if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                        raise
            for version in self.versions(model):
                if version.digest == candidate.digest:
                    return version, False
            run_id, source, files = self._log_run(model, candidate, actor)
            created = now()
            tags = {TAG_DIGEST: candidate.digest, TAG_VERDICT: candidate.verdict_word,
                    TAG_TRAINED: candidate.trained_model, TAG_BY: _dumps(actor.as_json()), TAG_AT: created,
                    TAG_METRICS: _dumps(_finite(candidate.metrics)), TAG_FILES: _dumps(files)}
            digest = integrity.manifest_digest(_record(model, tags))
            tags[TAG_MANIFEST] = digest
            if self.key:
                tags[TAG_SIGNATURE] = _dumps(integrity.sign(self.key, digest))
            mv = self.client.create_model_version(model, source, run_id=run_id, tags=tags)
            version = self._version(mv)
            self._append(Event(0, "register", model, version.number, created, actor, manifest=digest))
            return version, True

    def promote(self, model: str, alias: str, number: int, actor: Actor, note: str | None = None) -> Event | None:
        version = self.get(model, number)
        self.check_intact(model, number)  # before its verdict is believed
        check_promotable(version, alias)
        previous = self.aliases(model).get(alias)
        if previous == number:
            return None
        return self._move(model, "promote", alias, number, previous, actor, note)

    def rollback(self, model: str, alias: str, actor: Actor, to: int | None = None,
                 note: str | None = None) -> Event:
        current, target = rollback_target(self.history(model), model, alias, to)
        actual = self.aliases(model).get(alias)
        if actual != current:
            raise RegistryError(f"alias {alias!r} of {model!r} names version {actual} in MLflow, but its mlspec "
                                f"history ends at version {current} (moved outside mlspec?); use `mlspec registry "
                                "promote`")
        version = self.get(model, target)
        self.check_intact(model, target)
        check_promotable(version, alias)
        return self._move(model, "rollback", alias, target, current, actor, note)

    # --- internals --------------------------------------------------------------------------------------------

    def _move(self, model: str, kind: EventKind, alias: str, number: int, previous: int | None, actor: Actor,
              note: str | None) -> Event:
        with self._errors(f"moving alias {alias!r} of {model!r}"):
            self.client.set_registered_model_alias(model, alias, str(number))
            event = Event(0, kind, model, number, now(), actor, alias, previous, note)
            self._append(event)
        return replace(event, seq=len(self.history(model)))  # its place in the history, for messages

    def _append(self, event: Event) -> None:
        key = f"{HISTORY_PREFIX}{event.at.replace(':', '').replace('+', 'Z')}.{uuid.uuid4().hex[:8]}"
        self.client.set_registered_model_tag(event.model, key, _dumps(event.as_json()))

    def _log_run(self, model: str, candidate: Candidate, actor: Actor) -> tuple[str, str, dict[str, str]]:
        name = f"mlspec/{model}"
        experiment = self.client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else self.client.create_experiment(name)
        tags = {"mlspec.model": model, TAG_TRAINED: candidate.trained_model, TAG_DIGEST: candidate.digest,
                TAG_VERDICT: candidate.verdict_word, "mlspec.commit": actor.commit or "", "mlspec.ref": actor.ref or ""}
        run = self.client.create_run(experiment_id, tags=tags, run_name=f"{model}-{candidate.trained_model}")
        run_id = run.info.run_id
        stamp = int(1000 * time.time())
        params = [Param(k, _param(v)) for k, v in sorted((candidate.provenance.get("params") or {}).items())]
        params.append(Param("estimator", str(candidate.provenance.get("estimator"))))
        metrics = [Metric(k, float(v), stamp, 0) for k, v in _finite(candidate.metrics).items()]
        self.client.log_batch(run_id, metrics=metrics, params=params)
        with tempfile.TemporaryDirectory(prefix="mlspec-version.") as tmp:
            write_version_files(Path(tmp), candidate, None)
            files = manifest(Path(tmp), file_digest) or {}
            self.client.log_artifacts(run_id, tmp, ARTIFACTS)
        self.client.set_terminated(run_id, "FINISHED")
        return run_id, f"{run.info.artifact_uri.rstrip('/')}/{ARTIFACTS}", files

    def _registered(self, model: str) -> Any:
        try:
            return self.client.get_registered_model(model)
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise self._failed(f"reading {model!r}", exc) from None

    def _version(self, mv: Any) -> Version:
        tags = dict(mv.tags or {})
        try:
            by = Actor.from_json(_object(tags.get(TAG_BY, "{}"), TAG_BY))
            metrics = _object(tags.get(TAG_METRICS, "{}"), TAG_METRICS)
        except jsonio.JsonError:
            by, metrics = Actor("unknown", "unknown"), {}
        return Version(mv.name, int(mv.version), tags.get(TAG_DIGEST, ""), tags.get(TAG_VERDICT, "unknown"),
                       tags.get(TAG_TRAINED, "unknown"), tags.get(TAG_AT, ""), by, metrics, str(mv.source))

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        try:
            yield
        except MlflowException as exc:
            raise self._failed(doing, exc) from None

    def _failed(self, doing: str, exc: MlflowException) -> RegistryError:
        first = str(exc.message if hasattr(exc, "message") else exc).strip().splitlines()[0]
        return RegistryError(f"MLflow ({self.location}): {doing} failed: {first}")


def _record(model: str, tags: Mapping[str, str]) -> dict[str, Any]:
    """A version's record as :mod:`mlspec.registry.integrity` checks it, from its tags."""
    try:
        files = _object(tags.get(TAG_FILES, "null"), TAG_FILES)
    except jsonio.JsonError:
        files = None
    record: dict[str, Any] = {"model": model, "tags": {k: tags.get(k) for k in SEALED}, "files": files}
    with suppress(KeyError, jsonio.JsonError):  # unsigned, or a mangled signature: both refused with a key
        record["signature"] = _object(tags[TAG_SIGNATURE], TAG_SIGNATURE)
    return record


def _object(text: str, what: str) -> dict[str, Any]:
    data = jsonio.loads(text, what)
    if not isinstance(data, dict):
        raise jsonio.JsonError(f"{what}: expected a JSON object, found {type(data).__name__}")
    return data


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def _quote(text: str) -> str:
    return text.replace("'", "\\'")


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text[:MAX_PARAM]


def _finite(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}
