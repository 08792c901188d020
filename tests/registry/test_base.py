"""The registry's state machine, the same on every backend: register, promote, refuse, roll back, history.

Each test runs against the file registry and against a real MLflow tracking server (SQLite store).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec.registry import Registry, RegistryError, resolve
from tests.registry.kit import CI, LOCAL, candidate, unique_model


def _moves(registry: Registry, model: str) -> list[tuple[str, str | None, int | None, int]]:
    return [(e.kind, e.alias, e.previous, e.version) for e in registry.history(model)]


def test_register_is_idempotent_by_bundle_digest(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    first, new = registry.register(model, candidate(tmp_path, "a"), CI)
    assert (first.number, new, first.verdict, first.trained_model) == (1, True, "pass", "ridge")
    again, new = registry.register(model, candidate(tmp_path, "a"), LOCAL)  # same bytes, another directory
    assert (again.number, new) == (1, False)
    second, new = registry.register(model, candidate(tmp_path, "b", metrics={"r2": 0.75}), CI)
    assert (second.number, new, dict(second.metrics)) == (2, True, {"r2": 0.75})
    assert [v.number for v in registry.versions(model)] == [1, 2]
    assert registry.get(model, 1).digest == candidate(tmp_path, "a").digest
    assert _moves(registry, model) == [("register", None, None, 1), ("register", None, None, 2)]


def test_promote_moves_an_alias_and_records_who(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    registry.register(model, candidate(tmp_path, "a"), CI)
    registry.register(model, candidate(tmp_path, "b"), CI)
    event = registry.promote(model, "staging", 1, CI, note="deploy target staging")
    assert event is not None
    assert (event.kind, event.alias, event.previous, event.version, event.note) == (
        "promote", "staging", None, 1, "deploy target staging")
    assert event.actor == CI
    assert registry.promote(model, "staging", 1, CI) is None  # a retried job moves nothing, records nothing
    registry.promote(model, "staging", 2, LOCAL)
    registry.promote(model, "production", 1, LOCAL)
    assert registry.aliases(model) == {"production": 1, "staging": 2}
    assert resolve(registry, model, "staging").number == 2
    history = registry.history(model)
    assert [e.seq for e in history] == [1, 2, 3, 4, 5]
    assert _moves(registry, model)[2:] == [("promote", "staging", None, 1), ("promote", "staging", 1, 2),
                                           ("promote", "production", None, 1)]
    assert history[3].actor == LOCAL
    assert history[3].at > history[2].at


@pytest.mark.parametrize("verdict", ["fail", "unknown"])
def test_promotion_refuses_a_version_whose_gate_did_not_pass(registry: Registry, tmp_path: Path,
                                                             verdict: str) -> None:
    model = unique_model()
    registry.register(model, candidate(tmp_path, "good"), CI)
    registry.promote(model, "production", 1, CI)
    bad, _ = registry.register(model, candidate(tmp_path, "bad", verdict=verdict), CI)
    assert bad.verdict == verdict  # recorded as it is: the registry keeps failed candidates too
    with pytest.raises(RegistryError) as caught:
        registry.promote(model, "production", bad.number, CI)
    assert str(caught.value) == (
        f"refusing to move 'production' to version 2 of {model!r}: its gate verdict is {verdict!r}; only a version "
        "whose gate passed (or only warned) can be promoted")
    assert registry.aliases(model) == {"production": 1}
    assert [e.kind for e in registry.history(model)] == ["register", "promote", "register"]


def test_a_warned_gate_can_be_promoted(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    registry.register(model, candidate(tmp_path, "a", verdict="warn"), CI)
    assert registry.promote(model, "production", 1, CI) is not None


def test_rollback_walks_back_through_what_the_alias_named(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    for content in "abc":
        registry.register(model, candidate(tmp_path, content), CI)
    for number in (1, 2, 3):
        registry.promote(model, "production", number, CI)
    back = registry.rollback(model, "production", LOCAL, note="latency regression")
    assert (back.kind, back.previous, back.version, back.note) == ("rollback", 3, 2, "latency regression")
    assert registry.aliases(model) == {"production": 2}
    registry.rollback(model, "production", LOCAL)  # again: further back, not back to 3
    assert registry.aliases(model) == {"production": 1}
    with pytest.raises(RegistryError) as caught:
        registry.rollback(model, "production", LOCAL)
    assert str(caught.value) == (f"alias 'production' of {model!r} has named only version 1; there is no earlier "
                                 "version to roll back to")
    registry.promote(model, "production", 3, CI)
    assert registry.rollback(model, "production", LOCAL).version == 1
    assert _moves(registry, model)[3:] == [
        ("promote", "production", None, 1), ("promote", "production", 1, 2), ("promote", "production", 2, 3),
        ("rollback", "production", 3, 2), ("rollback", "production", 2, 1), ("promote", "production", 1, 3),
        ("rollback", "production", 3, 1)]


def test_rollback_to_a_chosen_earlier_version(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    for content in "abcd":
        registry.register(model, candidate(tmp_path, content), CI)
    for number in (1, 2, 3):
        registry.promote(model, "production", number, CI)
    assert registry.rollback(model, "production", LOCAL, to=1).version == 1
    assert registry.aliases(model) == {"production": 1}
    with pytest.raises(RegistryError) as caught:
        registry.rollback(model, "production", LOCAL, to=4)
    assert str(caught.value) == (
        f"alias 'production' of {model!r} never named version 4 before version 1; a rollback goes back to an "
        "earlier version of the alias (none); use `mlspec registry promote` to move it elsewhere")
    with pytest.raises(RegistryError, match="already names version 1"):
        registry.rollback(model, "production", LOCAL, to=1)


def test_aliases_are_independent(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    for content in "ab":
        registry.register(model, candidate(tmp_path, content), CI)
    registry.promote(model, "staging", 1, CI)
    registry.promote(model, "staging", 2, CI)
    registry.promote(model, "production", 1, CI)
    registry.rollback(model, "staging", CI)
    assert registry.aliases(model) == {"production": 1, "staging": 1}
    with pytest.raises(RegistryError, match=r"'canary' of .* names no version; nothing to roll back"):
        registry.rollback(model, "canary", CI)


def test_unknown_versions_and_aliases_are_clear_errors(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    registry.register(model, candidate(tmp_path, "a"), CI)
    with pytest.raises(RegistryError, match=f"{model!r} has no version 7 in the .*registry"):
        registry.promote(model, "production", 7, CI)
    with pytest.raises(RegistryError, match=r"has no alias 'production' .*\(aliases: none\)"):
        resolve(registry, model, "production")
    assert registry.history(unique_model()) == []
    assert registry.versions(unique_model()) == []
    assert registry.aliases(unique_model()) == {}


def test_version_files_travel_with_the_version(registry: Registry, tmp_path: Path) -> None:
    model = unique_model()
    version, _ = registry.register(model, candidate(tmp_path, "a"), CI)
    folder = registry.files(model, version.number, tmp_path / "scratch")
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) >= [
        "MODEL_CARD.md", "bundle/metadata.json", "bundle/model.skops", "metrics.json", "provenance.json",
        "verdict.json"]
    assert (folder / "bundle" / "model.skops").read_bytes() == b"model a"
    assert not (folder / "bundle" / "_run").exists()  # run facts are not part of the bundle
    assert "# Model card: m" in (folder / "MODEL_CARD.md").read_text()
