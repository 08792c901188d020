"""The one way mlspec reads JSON it did not just create in memory: bounded in size and depth, errors located.

Every JSON file mlspec reads back (the lock, stage records, verdicts, registry history and versions, the stat
cache, reports, request bodies) may have been edited by hand, corrupted, merged badly or crafted. Python's
``json`` raises ``RecursionError`` on deep nesting and ``ValueError`` on integers of more than 4,300 digits;
code that walks a parsed document recursively can overflow on shallower input still. This reader turns all of
that into a :class:`JsonError` (a user error: exit 1, no traceback) that names the file, line and column.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from mlspec.errors import MlspecError

MAX_DEPTH = 64
"""Deeper than anything mlspec writes (the lock is 5 levels deep, a drift report 6)."""
MAX_BYTES = 256 * 1024 * 1024


class JsonError(MlspecError):
    """A JSON document is unreadable, malformed, too large or too deeply nested."""


def loads(
    text: str | bytes,
    what: str,
    *,
    max_depth: int = MAX_DEPTH,
    max_bytes: int = MAX_BYTES,
    allow_constants: bool = True,
) -> Any:
    """Parse ``text``; ``what`` names the document in errors (a path, or "request body").

    ``allow_constants=False`` refuses ``NaN`` and ``Infinity``, which are not JSON but which Python accepts.
    """
    if len(text) > max_bytes:
        raise JsonError(f"{what}: {len(text):,} bytes, over the limit of {max_bytes:,}")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"{what}: not UTF-8 text (byte {exc.start})") from None
    hooks: dict[str, Any] = {} if allow_constants else {"parse_constant": _refuse_constant}
    try:
        data = json.loads(text, **hooks)
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
    target = Path(path)
    name = what or str(target)
    max_bytes = int(limits.get("max_bytes", MAX_BYTES))
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JsonError(f"{name}: cannot read ({exc.strerror or exc})") from None
    if size > max_bytes:
        raise JsonError(f"{name}: {size:,} bytes, over the limit of {max_bytes:,}")
    try:
        raw = target.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise JsonError(f"{name}: cannot read ({exc.strerror or exc})") from None
    return loads(raw, name, **limits)


def read_object(path: str | os.PathLike[str], *, what: str | None = None, **limits: Any) -> dict[str, Any]:
    """:func:`read`, and the document must be a JSON object."""
    data = read(path, what=what, **limits)
    if not isinstance(data, dict):
        raise JsonError(f"{what or path}: expected a JSON object, found {type(data).__name__}")
    return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


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
