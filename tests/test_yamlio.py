"""YAML reading: marks, duplicate keys, merge keys, limits."""

from __future__ import annotations

import tracemalloc

import pytest

from mlspec.yamlio import MAX_BYTES, Mark, YamlError, parse


def test_marks_for_keys_and_values() -> None:
    doc = parse("a:\n  b: [1, 2]\n  c: {d: x}\n")
    assert doc.data == {"a": {"b": [1, 2], "c": {"d": "x"}}}
    assert doc.keys[("a", "b")] == Mark(2, 3)
    assert doc.values[("a", "b")] == Mark(2, 6)
    assert doc.values[("a", "b", 1)] == Mark(2, 10)
    assert doc.keys[("a", "c", "d")] == Mark(3, 7)


def test_scalars_keep_yaml_types_but_keys_stay_strings() -> None:
    doc = parse("on: yes\n1: 2.5\nnull: ~\n")
    # `on:` as a key stays the string "on" (GitHub's famous `on:` problem); values are typed.
    assert doc.data == {"on": True, "1": 2.5, "null": None}


def test_duplicate_key_points_at_second_occurrence() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: 1\nb:\n  c: 1\n  c: 2\n")
    assert (info.value.line, info.value.col) == (4, 3)
    assert info.value.message.startswith("duplicate key 'c' (first defined at line 3)")


def test_merge_keys_expand_and_explicit_keys_win() -> None:
    doc = parse("base: &b {x: 1, y: 2}\nuse:\n  <<: *b\n  y: 3\n")
    assert doc.data["use"] == {"x": 1, "y": 3}


def test_merge_of_a_scalar_is_an_error() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: &s 1\nb:\n  <<: *s\n")
    assert info.value.message == "`<<` merge needs a mapping or a list of mappings"


def test_alias_bomb_fails_fast_with_bounded_memory() -> None:
    # Nine levels of ten-fold aliases would expand to 10**9 values.
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    tracemalloc.start()
    try:
        with pytest.raises(YamlError) as info:
            parse("\n".join(lines) + "\n")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "too many aliases" in info.value.message
    assert peak < 64 * 1024 * 1024


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: " + "[" * 200 + "]" * 200 + "\n")
    assert info.value.message == "nesting is too deep (more than 64 levels)"


def test_oversized_text_is_refused_before_parsing() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: '" + "x" * MAX_BYTES + "'\n")
    assert info.value.message == "file is larger than 2 MiB; a spec should be a few KiB"


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: !!python/object/apply:os.system ['echo hi']\n")
    assert info.value.message == "unsupported YAML tag 'tag:yaml.org,2002:python/object/apply:os.system'; remove it"
    assert (info.value.line, info.value.col) == (1, 4)


def test_unsafe_scalar_tags_are_refused() -> None:
    with pytest.raises(YamlError) as info:
        parse("a: !!python/name:os.system ''\n")
    assert info.value.message.startswith("invalid YAML value: could not determine a constructor")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9" * 5000, "number of 5,000 characters; a spec number has at most 100"),
        ("1" + ":59" * 200_000, "number of 600,001 characters; a spec number has at most 100"),
        (str(2**63), "integer out of range; a spec integer lies between -2**63 and 2**63"),
        ("-0x8000000000000000", "integer out of range; a spec integer lies between -2**63 and 2**63"),
        ("1.0e+999", "number 1.0e+999 is beyond the range of a 64-bit float and would read as infinity; "
                     "write .inf if infinity is meant"),
        ("-2.5E+400", "number -2.5E+400 is beyond the range of a 64-bit float"),
        ("!!int abc", "invalid number 'abc': invalid literal for int() with base 10: 'abc'"),
    ],
)
def test_numbers_a_64_bit_machine_cannot_hold_are_located_errors(value: str, message: str) -> None:
    with pytest.raises(YamlError) as info:
        parse(f"a:\n  b: {value}\n")
    assert message in info.value.message
    assert (info.value.line, info.value.col, info.value.path) == (2, 6, ("a", "b"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [(str(2**63 - 1), 2**63 - 1), (str(-(2**63) + 1), -(2**63) + 1), ("1.5e+308", 1.5e308), ("1:30", 90),
     (".inf", float("inf")), ("-.Inf", float("-inf")), ("1.0e999", "1.0e999")],  # YAML 1.1: no exponent sign, a string
)
def test_numbers_in_range_and_spelled_infinity_are_kept(value: str, expected: object) -> None:
    assert parse(f"a: {value}\n").data == {"a": expected}
