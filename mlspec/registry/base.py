"""What a model registry holds, the protocol its backends implement, and the rules of its state machine.

A registry holds, per registered model (the spec's ``project``):

* **versions**, numbered from 1 and immutable: a gated bundle with its metrics, gate verdict, provenance
  record and model card. Registering the same bundle (by digest) again returns the existing version.
* **aliases** (``staging``, ``production``, ...), each naming one version.
* an append-only **history** of every registration and alias move: who, when, from which commit and CI run.

The state machine, the same for every backend::

    register(bundle, verdict)  ->  version N        (any verdict is recorded as it is)
    promote(alias, N)          ->  alias: M -> N    (refused unless N's gate passed or only warned)
    rollback(alias[, to=K])    ->  alias: N -> K    (K: the version the alias named before N, or an
                                                     earlier one; the same refusal applies)

An alias's past is a stack replayed from the history: a promotion pushes a version, a rollback pops back to
an earlier one. So repeated rollbacks walk back through what the alias named, instead of toggling between
the last two versions, and the history alone tells which version was live at any moment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from mlspec.errors import MlspecError

EventKind = Literal["register", "promote", "rollback"]
PROMOTABLE = ("pass", "warn")
"""Verdicts that allow promotion: a warn-only gate reports, it does not block."""


class RegistryError(MlspecError):
    """A registry operation the user asked for cannot be done (unknown version, refused promotion, ...)."""


@dataclass(frozen=True)
class Actor:
    """Who or what made a change, and from where: CI facts when in CI, else git and the local user."""

    user: str
    system: str
    """``github``, ``gitlab`` or ``local``."""
    commit: str | None = None
    ref: str | None = None
    run_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Actor:
        return cls(str(data.get("user") or "unknown"), str(data.get("system") or "unknown"),
                   _opt(data.get("commit")), _opt(data.get("ref")), _opt(data.get("run_url")))


@dataclass(frozen=True)
class Candidate:
    """A bundle to register, with the records that travel with it."""

    bundle_dir: Path
    """The ``train:<model>`` outputs: ``model.skops`` and ``metadata.json``."""
    digest: str
    """The bundle's digest, as the gate verdict names it (``model_digest``)."""
    trained_model: str
    """The spec's name of the trained model (``training.models.<name>``)."""
    verdict: Mapping[str, Any]
    """The gate's ``verdict.json``."""
    metrics: Mapping[str, Any]
    """The model's evaluation metrics."""
    provenance: Mapping[str, Any]

    @property
    def verdict_word(self) -> str:
        return str(self.verdict.get("verdict", "unknown"))


@dataclass(frozen=True)
class Version:
    model: str
    number: int
    digest: str
    verdict: str
    trained_model: str
    created_at: str
    created_by: Actor
    metrics: Mapping[str, Any] = field(default_factory=dict)
    location: str = ""
    """Where the version's files are: a directory, or a backend URI."""

    @property
    def promotable(self) -> bool:
        return self.verdict in PROMOTABLE


@dataclass(frozen=True)
class Event:
    seq: int
    kind: EventKind
    model: str
    version: int
    at: str
    """UTC time, ISO 8601 with microseconds."""
    actor: Actor
    alias: str | None = None
    previous: int | None = None
    """The version the alias named before this move."""
    note: str | None = None
    recovered: bool = False
    """A registration found on disk without its history line (a crash between the two) and written back."""
    manifest: str | None = None
    """Of a registration: the digest of the version's manifest (see :mod:`mlspec.registry.integrity`)."""

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"seq": self.seq, "event": self.kind, "model": self.model, "version": self.version,
                               "at": self.at, "by": self.actor.as_json()}
        if self.alias is not None:
            out |= {"alias": self.alias, "previous": self.previous}
        if self.note:
            out["note"] = self.note
        if self.recovered:
            out["recovered"] = True
        if self.manifest is not None:
            out["manifest"] = self.manifest
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Event:
        kind = data["event"]
        if kind not in ("register", "promote", "rollback"):
            raise ValueError(f"unknown event {kind!r}")
        previous = data.get("previous")
        return cls(int(data["seq"]), kind, str(data["model"]), int(data["version"]), str(data["at"]),
                   Actor.from_json(data.get("by") or {}), _opt(data.get("alias")),
                   int(previous) if previous is not None else None, _opt(data.get("note")),
                   bool(data.get("recovered", False)), _opt(data.get("manifest")))


class Registry(Protocol):
    """A model registry backend. Every method that changes state records an :class:`Event`."""

    @property
    def location(self) -> str:
        """Where the registry is (a directory, a tracking URI), for messages."""
        ...

    def models(self) -> list[str]: ...

    def register(self, model: str, candidate: Candidate, actor: Actor) -> tuple[Version, bool]:
        """The version holding ``candidate``'s bundle, and whether it is new (False: that digest was there)."""
        ...

    def versions(self, model: str) -> list[Version]: ...

    def get(self, model: str, number: int) -> Version: ...

    def aliases(self, model: str) -> dict[str, int]: ...

    def promote(self, model: str, alias: str, number: int, actor: Actor, note: str | None = None) -> Event | None:
        """Move ``alias`` to version ``number``; None if it already names it (a retried deploy job)."""
        ...

    def rollback(self, model: str, alias: str, actor: Actor, to: int | None = None,
                 note: str | None = None) -> Event: ...

    def history(self, model: str) -> list[Event]: ...

    def files(self, model: str, number: int, scratch: Path) -> Path:
        """A local directory with the version's files (``bundle/``, ``provenance.json``, ...); remote backends
        download into ``scratch``."""
        ...


# --- the rules, shared by the backends ------------------------------------------------------------------------


def check_promotable(version: Version, alias: str) -> None:
    if not version.promotable:
        raise RegistryError(f"refusing to move {alias!r} to version {version.number} of {version.model!r}: its gate "
                            f"verdict is {version.verdict!r}; only a version whose gate passed (or only warned) "
                            "can be promoted")


def anchored_manifest(events: Iterable[Event], number: int) -> str | None:
    """The manifest digest the history recorded when version ``number`` was registered (None: none)."""
    return next((e.manifest for e in events if e.kind == "register" and e.version == number), None)


def alias_stack(events: Iterable[Event], alias: str) -> list[int]:
    """The versions ``alias`` named, oldest first, as promotions pushed and rollbacks popped them."""
    stack: list[int] = []
    for event in events:
        if event.alias != alias:
            continue
        if event.kind == "promote":
            stack.append(event.version)
        elif event.kind == "rollback":
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:  # a history written by hand or another tool; keep the move it records
                stack.append(event.version)
    return stack


def current_aliases(events: Iterable[Event]) -> dict[str, int]:
    """Every alias and the version it names now, replayed from the history."""
    out: dict[str, int] = {}
    for event in events:
        if event.alias is not None and event.kind in ("promote", "rollback"):
            out[event.alias] = event.version
    return dict(sorted(out.items()))


def rollback_target(events: list[Event], model: str, alias: str, to: int | None) -> tuple[int, int]:
    """``(current, target)`` of rolling ``alias`` back, or :class:`RegistryError` saying why it cannot be."""
    stack = alias_stack(events, alias)
    if not stack:
        raise RegistryError(f"alias {alias!r} of {model!r} names no version; nothing to roll back")
    current, earlier = stack[-1], stack[:-1]
    if to is None:
        if not earlier:
            raise RegistryError(f"alias {alias!r} of {model!r} has named only version {current}; there is no "
                                "earlier version to roll back to")
        return current, earlier[-1]
    if to == current:
        raise RegistryError(f"alias {alias!r} of {model!r} already names version {to}")
    if to not in earlier:
        named = ", ".join(str(v) for v in dict.fromkeys(reversed(earlier))) or "none"
        raise RegistryError(f"alias {alias!r} of {model!r} never named version {to} before version {current}; "
                            f"a rollback goes back to an earlier version of the alias ({named}); use `mlspec "
                            "registry promote` to move it elsewhere")
    return current, to


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)
