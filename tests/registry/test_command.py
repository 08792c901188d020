"""`mlspec registry ACTION` as an API: plain arguments in, the text the command prints out."""

from __future__ import annotations

import json
from pathlib import Path

from mlspec.registry import command
from mlspec.registry.filestore import FileRegistry
from tests.registry.kit import CI, candidate

MODEL = "m"


def test_each_action_takes_plain_arguments(tmp_path: Path) -> None:
    registry = FileRegistry(tmp_path / "registry")
    registry.register(MODEL, candidate(tmp_path, "a"), CI)
    registry.register(MODEL, candidate(tmp_path, "b", trained="forest"), CI)
    assert command.promote(registry, MODEL, "1", "production", root=tmp_path, note="first") == (
        "moved alias 'production' of 'm' from nothing to version 1\n")
    assert command.promote(registry, MODEL, "1", "production", root=tmp_path) == (
        "alias 'production' already names version 1\n")
    assert command.promote(registry, MODEL, "2", "production", root=tmp_path) == (
        "moved alias 'production' of 'm' from version 1 to version 2\n")
    assert [v["aliases"] for v in json.loads(command.list_versions(registry, MODEL, as_json=True))] == [
        [], ["production"]]
    assert json.loads(command.show(registry, MODEL, "production", as_json=True))["version"] == 2
    assert command.rollback(registry, MODEL, "production", root=tmp_path, note="bad") == (
        "rolled alias 'production' of 'm' back from version 2 to 1\n")
    moves = json.loads(command.history(registry, MODEL, alias="production", as_json=True))
    assert [(e["event"], e["version"], e.get("note")) for e in moves] == [
        ("promote", 1, "first"), ("promote", 2, None), ("rollback", 1, "bad")]
    assert command.history(registry, MODEL).count("\n") > len(moves)
