"""The bounded JSON reader: every way a file can be hostile or broken is a located user error."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlspec import jsonio


def test_reads_objects_and_arrays(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"a": [1, 2, {"b": null}]}', "utf-8")
    assert jsonio.read_object(path) == {"a": [1, 2, {"b": None}]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
        ("[" * 65 + "]" * 65, "nested deeper than 64 levels"),
        ("1" * 5000, "Exceeds the limit (4300 digits)"),
        ('{"a": 1,}', ":1:9: not valid JSON: Expecting property name enclosed in double quotes"),
        ("", ":1:1: not valid JSON: Expecting value"),
    ],
)
def test_hostile_documents_are_user_errors(text: str, message: str) -> None:
    with pytest.raises(jsonio.JsonError) as err:
        jsonio.loads(text, "x.json")
    assert str(err.value).startswith("x.json")
    assert message in str(err.value)


def test_depth_limit_is_inclusive() -> None:
    assert jsonio.loads("[" * 64 + "]" * 64, "x") is not None


def test_constants_can_be_refused() -> None:
    assert jsonio.loads("[NaN]", "x") != [0]
    with pytest.raises(jsonio.JsonError, match="NaN is not a JSON number"):
        jsonio.loads("[NaN]", "body", allow_constants=False)


def test_size_limit_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + "0," * 100 + "0]", "utf-8")
    with pytest.raises(jsonio.JsonError, match="over the limit of 10"):
        jsonio.read(path, max_bytes=10)


def test_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text("[]", "utf-8")
    with pytest.raises(jsonio.JsonError, match="expected a JSON object, found list"):
        jsonio.read_object(path)


def test_binary_garbage(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(jsonio.JsonError, match="not UTF-8"):
        jsonio.read(path)
