"""The one way mlspec reads JSON it did not just create in memory: bounded in size and depth, errors located.

Every JSON file mlspec reads back (the lock, stage records, verdicts, registry history and versions, the stat
cache, reports, request bodies) may have been edited by hand, corrupted, merged badly or crafted. Python's
``json`` raises ``RecursionError`` on deep nesting and ``ValueError`` on integers of more than 4,300 digits;
code that walks a parsed document recursively can overflow on shallower input still. This reader turns all of
that into a :class:`JsonError` (a user error: exit 1, no traceback) that names the file, line and column.
"""

from __future__ import annotations

import functools
import json
import math
import os
from pathlib import Path
from typing import Any

from mlspec.errors import MlspecError

MAX_DEPTH = 64
"""Deeper than anything mlspec writes (the lock is 5 levels deep, a drift report 6)."""
MAX_BYTES = 256 * 1024 * 1024
INT64_DIGITS = 20
"""Digits of the longest 64-bit integer (2**64 - 1): a ``max_int_digits`` for files holding counts and sizes."""


class JsonError(MlspecError):
    """A JSON document is unreadable, malformed, too large or too deeply nested."""


def loads(
    text: str | bytes,
    what: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
    allow_constants: bool = True,
    max_int_digits: int | None = None,
) -> Any:
    """Parse ``text``; ``what`` names the document in errors (a path, or "request body").

    ``allow_constants=False`` refuses ``NaN`` and ``Infinity``, which are not JSON but which Python accepts,
    and number literals beyond float64 such as ``1e999``, which Python would silently read as infinity.
    ``max_int_digits`` refuses longer integers (Python's own limit, 4,300 digits, applies regardless): an
    integer no 64-bit number holds overflows later, where ``float()`` or numpy meets it.
    """
    if len(text) > max_bytes:
        raise JsonError(f"{what}: {len(text):,} bytes, over the limit of {max_bytes:,}")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"{what}: not UTF-8 text (byte {exc.start})") from None
    hooks: dict[str, Any] = {} if allow_constants else {"parse_constant": _refuse_constant,
                                                        "parse_float": _finite_float}
    if max_int_digits is not None:
        hooks["parse_int"] = functools.partial(_bounded_int, max_int_digits)
    try:
        data = json.loads(text, **hooks)
    except _Refused as exc:
        line, col = _locate(text, exc.literal)
        raise JsonError(f"{what}:{line}:{col}: {exc.reason}") from None
    except json.JSONDecodeError as exc:
        raise JsonError(f"{what}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except RecursionError:
        raise JsonError(f"{what}: nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # integers over sys.get_int_max_str_digits(), refused constants
        raise JsonError(f"{what}: {exc}") from None
    _check_depth(data, what, max_depth)
    return data


def read(path: str | os.PathLike[str], *, what: str | None = None, **limits: Any) -> Any:
    """Parse the JSON file at ``path``; a missing file raises ``FileNotFoundError`` (callers decide)."""
    name = what or str(path)
    return loads(read_bytes(path, what=name, max_bytes=int(limits.get("max_bytes", MAX_BYTES))), name, **limits)


def read_bytes(path: str | os.PathLike[str], *, what: str | None = None, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``path``, refused before reading when over ``max_bytes``; for callers that look at the
    text before parsing it (merge-conflict markers). A missing file raises ``FileNotFoundError``."""
    target = Path(path)
    name = what or str(target)
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JsonError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if size > max_bytes:
        raise JsonError(f"{name}: {size:,} bytes, over the limit of {max_bytes:,}")
    try:
        return target.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JsonError(f"{name}: cannot read ({exc.strerror or exc})") from None


def read_object(path: str | os.PathLike[str], *, what: str | None = None, **limits: Any) -> dict[str, Any]:
    """:func:`read`, and the document must be a JSON object."""
    data = read(path, what=what, **limits)
    if not isinstance(data, dict):
        raise JsonError(f"{what or path}: expected a JSON object, found {type(data).__name__}")
    return data


def dig(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` of a parsed document, or None where a level is missing or is not an object: a
    document from outside (an event payload, an API answer) may have any shape."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class _Refused(ValueError):
    """A number literal refused by a parse hook; the hook has no position, :func:`_locate` finds it."""

    def __init__(self, literal: str, reason: str) -> None:
        super().__init__(reason)
        self.literal = literal
        self.reason = reason


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _Refused(literal, f"number {_short(literal)} is beyond the range of a 64-bit float")
    return value


def _bounded_int(max_digits: int, literal: str) -> int:
    digits = len(literal.lstrip("-"))
    if digits > max_digits:
        raise _Refused(literal, f"integer of {digits:,} digits; at most {max_digits} are expected here")
    return int(literal)


def _short(literal: str) -> str:
    return literal if len(literal) <= 40 else f"{literal[:20]}...{literal[-10:]}"


def _locate(text: str, literal: str) -> tuple[int, int]:
    """Line and column of the first occurrence of ``literal`` as a whole token (not inside a string of digits
    or a hex digest); 1:1 if none is found, which only costs the position, never the error."""
    start = text.find(literal)
    while start >= 0:
        before = text[start - 1] if start else " "
        end = start + len(literal)
        after = text[end] if end < len(text) else " "
        if before in " \t\r\n[,:" and after in " \t\r\n]},":
            line = text.count("\n", 0, start) + 1
            return line, start - (text.rfind("\n", 0, start) + 1) + 1
        start = text.find(literal, start + 1)
    return 1, 1


def _check_depth(data: Any, what: str, max_depth: int) -> None:
    """Iterative, so the check itself cannot overflow; costs one pass over the containers."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > max_depth:
            raise JsonError(f"{what}: nested deeper than {max_depth} levels")
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
