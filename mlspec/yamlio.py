"""Safe YAML reading that remembers where every key and value came from.

PyYAML's ``safe_load`` throws line numbers away and silently keeps the last of two duplicate keys. We compose
the node graph (safe tags only) and build plain Python values ourselves, so that:

* every mapping key and value has a 1-based (line, column) mark, addressed by its path in the document;
* a duplicate key is an error pointing at the second occurrence;
* alias expansion ("billion laughs") and oversized files are cut off early with bounded memory;
* a number is either one a 64-bit machine holds exactly as written or an error at its mark: PyYAML would raise
  a bare ``ValueError`` on 4,300+ digits, spend quadratic time on a long base-60 literal (``1:59:59:...``) and
  silently read ``1.0e999`` as infinity.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import yaml

# A spec is a hand-written config file; anything near these limits is a mistake or an attack.
MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 100_000
MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100
"""A 64-bit integer has at most 19 digits (64 in binary); a float 17 significant digits and an exponent."""
INT_BITS = 63
"""Spec numbers reach numpy and scikit-learn, whose integers are signed 64-bit."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_PLAIN_TAGS = frozenset({"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"})
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

PathT = tuple[str | int, ...]


@dataclass(frozen=True)
class Mark:
    line: int
    col: int


@dataclass
class Document:
    """Plain data (dicts, lists, scalars) plus the marks of every key and value, by path."""

    data: Any
    text: str
    keys: dict[PathT, Mark] = field(default_factory=dict)
    values: dict[PathT, Mark] = field(default_factory=dict)


class YamlError(Exception):
    """A YAML-level problem at a position (1-based)."""

    def __init__(self, message: str, line: int = 1, col: int = 1, path: PathT = ()) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.path = path


def _mark(node: yaml.Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def parse(text: str) -> Document:
    """Parse one YAML document into a :class:`Document`; raise :class:`YamlError` on any problem."""
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise YamlError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; a spec should be a few KiB")
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise _syntax_error(exc, text) from None
    except yaml.YAMLError as exc:  # errors without a mark (e.g. reader errors)
        raise YamlError(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlError(f"nesting is too deep (more than {MAX_DEPTH} levels)") from None
    finally:
        loader.dispose()
    if root is None:
        raise YamlError("the file is empty; run `mlspec init` to start from a working example")
    doc = Document(data=None, text=text)
    builder = _Builder(loader, doc)
    doc.values[()] = _mark(root)
    doc.data = builder.build(root, ())
    return doc


def _syntax_error(exc: yaml.MarkedYAMLError, text: str) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "syntax error"
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        return YamlError("invalid YAML: tab character; indent with spaces, YAML does not allow tabs",
                         mark.line + 1, mark.column + 1)
    if "expected a single document" in (exc.context or "") + problem:
        message = "invalid YAML: the file holds more than one document; keep a single document (no `---`)"
    else:
        message = f"invalid YAML: {problem}"
        if exc.context and exc.context_mark and exc.context_mark is not mark:
            message += f" ({exc.context} at line {exc.context_mark.line + 1})"
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return YamlError(message, line, col)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.splitlines()
    return lines[line][column] if line < len(lines) and column < len(lines[line]) else ""


class _Builder:
    def __init__(self, loader: yaml.SafeLoader, doc: Document) -> None:
        self.loader = loader
        self.doc = doc
        self.count = 0

    def build(self, node: yaml.Node, path: PathT) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            # Inside an alias expansion the node's own mark points into the anchor, far from the cause; the
            # top-level key being built is where the user should look.
            top = self.doc.keys.get(path[:1]) if path else None
            line, col = (top.line, top.col) if top else _pos(node)
            raise YamlError(
                f"document expands to more than {MAX_NODES} values (too many aliases?); "
                "a spec should be far smaller",
                line,
                col,
                path=path[:1],
            )
        if len(path) > MAX_DEPTH:
            raise YamlError(f"nesting is too deep (more than {MAX_DEPTH} levels)", *_pos(node))
        if isinstance(node, yaml.CollectionNode) and node.tag not in _PLAIN_TAGS:
            # PyYAML would build the structure and ignore a tag such as !!python/object; refuse it instead.
            raise YamlError(f"unsupported YAML tag {node.tag!r}; remove it", *_pos(node), path=path)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.doc.values[(*path, i)] = _mark(child)
                items.append(self.build(child, (*path, i)))
            return items
        if node.tag in (_INT_TAG, _FLOAT_TAG):
            return _number(self.loader, node, path)
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            raise YamlError(f"invalid YAML value: {exc.problem}", *_pos(node), path=path) from None

    def _mapping(self, node: yaml.MappingNode, path: PathT) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_sources(value_node, path))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise YamlError("keys must be plain strings, not lists or mappings", *_pos(key_node), path=path)
            # The key's source text, not its YAML 1.1 type: `on:` or `yes:` stay strings.
            key = str(key_node.value)
            child_path = (*path, key)
            if key in result:
                first = self.doc.keys[child_path]
                raise YamlError(
                    f"duplicate key {key!r} (first defined at line {first.line}); "
                    "remove one of them, YAML would silently keep only the last",
                    *_pos(key_node),
                    path=child_path,
                )
            self.doc.keys[child_path] = _mark(key_node)
            self.doc.values[child_path] = _mark(value_node)
            result[key] = self.build(value_node, child_path)
        # Explicit keys win over `<<: *anchor` merges, as in the YAML merge-key spec.
        return {**merged, **result} if merged else result

    def _merge_sources(self, node: yaml.Node, path: PathT) -> dict[str, Any]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for src in reversed(sources):  # earlier sources take precedence
            if not isinstance(src, yaml.MappingNode):
                raise YamlError("`<<` merge needs a mapping or a list of mappings", *_pos(src), path=path)
            values = self._mapping(src, path)
            merged.update(values)
        return merged


def _number(loader: yaml.SafeLoader, node: yaml.Node, path: PathT) -> int | float:
    """An int or float scalar, refused (at its mark) when no 64-bit number holds it as written."""
    text = str(node.value)
    if len(text) > MAX_NUMBER_CHARS:
        raise YamlError(f"number of {len(text):,} characters; a spec number has at most {MAX_NUMBER_CHARS}",
                        *_pos(node), path=path)
    try:
        value = loader.construct_object(node)
    except (ValueError, OverflowError) as exc:  # `!!int abc`, a base-60 float beyond float range
        raise YamlError(f"invalid number {text!r}: {exc}", *_pos(node), path=path) from None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**INT_BITS:
        raise YamlError(f"integer out of range; a spec integer lies between -2**{INT_BITS} and 2**{INT_BITS}",
                        *_pos(node), path=path)
    spelled_infinite = text.lstrip("+-").lower() in (".inf", ".nan")
    if isinstance(value, float) and not math.isfinite(value) and not spelled_infinite:
        raise YamlError(f"number {text} is beyond the range of a 64-bit float and would read as infinity; "
                        "write .inf if infinity is meant", *_pos(node), path=path)
    return value  # type: ignore[no-any-return]


def _pos(node: yaml.Node) -> tuple[int, int]:
    m = _mark(node)
    return m.line, m.col
