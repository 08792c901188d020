"""A Great Expectations 1.x suite JSON file, read and checked without importing GX.

``mlspec validate`` checks a suite file that exists (a missing one is a warning: CI may fetch it), and the
validate stage reads and checks it again before anything reaches GX, because it may have changed in between.
Both use :func:`read` and :func:`problems`, so the two agree on every message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlspec import confine, expectations, jsonio
from mlspec.errors import MlspecError
from mlspec.suggest import did_you_mean

MAX_BYTES = 16 * 1024 * 1024
KEYS = frozenset({"type", "kwargs", "meta", "notes", "description", "severity", "id", "rendered_content"})
# Suite-level fields of a saved expectation are constructor arguments of its class; ids and rendered content
# are not (GX refuses to add an expectation that already has an id).
ARG_KEYS = ("meta", "notes", "description", "severity")
EMPTY = "a suite with no expectations checks nothing; add at least one, such as"


class SuiteFileError(MlspecError):
    """The file is not a readable GX suite; the message names the file."""


@dataclass(frozen=True)
class Entry:
    index: int
    type: str
    kwargs: dict[str, Any]
    """Its ``kwargs`` plus its suite-level constructor arguments (meta, notes, ...)."""

    @property
    def at(self) -> str:
        return f"expectations[{self.index}] ({self.type})"


def read(root: Path, rel: str) -> list[Entry]:
    """The expectations of the suite file ``rel`` (relative to the project ``root``) in file order.

    The file is opened through :func:`mlspec.confine.open_confined`: inside the project, a regular file, and
    the very file that was checked, so a symlink swapped in after `mlspec validate` cannot point elsewhere.
    """
    def error(message: str) -> SuiteFileError:
        return SuiteFileError(f"suite file {rel!r}: {message}")

    try:
        with confine.open_confined(root, rel, opt_in=False) as handle:
            raw = handle.read(MAX_BYTES + 1)
    except confine.Refused as exc:
        raise SuiteFileError(f"suite file {exc.message}") from None
    except FileNotFoundError:
        raise error("not found") from None
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}") from None
    try:
        data = jsonio.loads(raw, f"suite file {rel}", max_bytes=MAX_BYTES, allow_constants=False)
    except jsonio.JsonError as exc:
        raise SuiteFileError(str(exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list):
        raise error('is not a Great Expectations suite: expected an object with an "expectations" list')
    if not data["expectations"]:
        raise error(f'"expectations" is empty: {EMPTY} '
                    '{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}')
    entries = []
    for i, entry in enumerate(data["expectations"]):
        problem = _shape(i, entry)
        if problem:
            raise error(problem)
        extra = {k: entry[k] for k in ARG_KEYS if entry.get(k) is not None}
        entries.append(Entry(i, entry["type"], {**(entry.get("kwargs") or {}), **extra}))
    return entries


def _shape(i: int, entry: Any) -> str | None:
    at = f"expectations[{i}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
        return f'{at} is not an object with a "type"'
    unknown = sorted(set(entry) - KEYS)
    if unknown:
        return f"{at}: unknown key {unknown[0]!r}" + did_you_mean(unknown[0], KEYS)
    if not isinstance(entry.get("kwargs") or {}, dict):
        return f'{at}: "kwargs" must be an object'
    return None


def problems(entries: list[Entry], shown: str) -> list[str]:
    """Every argument problem of ``entries``: ``suite file 'x.json': expectations[i] (type): arg: message``."""
    out = []
    for entry in entries:
        for p in expectations.check(entry.type, entry.kwargs):
            where = "".join(f"[{x}]" if isinstance(x, int) else f".{x}" for x in p.path).lstrip(".")
            detail = f"{where}: {p.message}" if where and not p.at_key else p.message
            out.append(f"suite file {shown!r}: {entry.at}: {detail}")
    return out
