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


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": [1, 123456789012345678901]}', "x.json:1:11: integer of 21 digits; at most 20 are expected here"),
        ('{"d": "sha256:1234567890123456789012345",\n "n": -1234567890123456789012345}',
         "x.json:2:7: integer of 25 digits; at most 20 are expected here"),
        ("[" + "9" * 5000 + "]", "x.json:1:2: integer of 5,000 digits; at most 20 are expected here"),
    ],
)
def test_integer_digits_can_be_bounded(text: str, message: str) -> None:
    with pytest.raises(jsonio.JsonError) as err:
        jsonio.loads(text, "x.json", max_int_digits=jsonio.INT64_DIGITS)
    assert str(err.value) == message


def test_the_longest_64_bit_integer_is_kept() -> None:
    assert jsonio.loads(f"[{2**64 - 1}, {-(2**63)}]", "x", max_int_digits=jsonio.INT64_DIGITS) == [
        2**64 - 1, -(2**63)]


@pytest.mark.parametrize("literal", ["1e999", "-1E+400", "1" + "0" * 400 + ".0"])
def test_strict_numbers_refuse_literals_beyond_float64(literal: str) -> None:
    assert jsonio.loads(f"[{literal}]", "x") == [float(literal)]  # Python's reading: infinity
    with pytest.raises(jsonio.JsonError, match=r"^body:1:2: number .* is beyond the range of a 64-bit float$"):
        jsonio.loads(f"[{literal}]", "body", allow_constants=False)


def test_strict_numbers_keep_the_largest_finite_float() -> None:
    assert jsonio.loads("[1.7976931348623157e308, 5e-324]", "x", allow_constants=False) == [
        1.7976931348623157e308, 5e-324]


def test_read_bytes_is_bounded_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_text("[" + "0," * 100 + "0]", "utf-8")
    with pytest.raises(jsonio.JsonError, match=r"^lock: 203 bytes, over the limit of 10$"):
        jsonio.read_bytes(path, what="lock", max_bytes=10)
    assert jsonio.read_bytes(path) == path.read_bytes()


@pytest.mark.parametrize(
    ("data", "expected"),
    [({"a": {"b": {"c": 1}}}, 1), ({"a": {"b": "x"}}, None), ({"a": []}, None), ([], None), ({"a": {}}, None)],
)
def test_dig_walks_any_shape(data: object, expected: object) -> None:
    assert jsonio.dig(data, "a", "b", "c") == expected
