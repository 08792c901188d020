"""Read ``mlspec.yaml`` into a :class:`~mlspec.spec.Spec`, turning every mistake into a located message.

Phases: read the file → parse YAML with marks (:mod:`mlspec.yamlio`) → validate the structure (pydantic) →
check references across sections (:mod:`mlspec.checks`). Each phase reports *all* its problems as
``FILE:LINE:COL: path.to.field: what is wrong (and the fix)``; a later phase runs only if the earlier passed.
"""

from __future__ import annotations

import os
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from mlspec import overrides as O
from mlspec import spec as S
from mlspec.checks import Finding, check
from mlspec.errors import MlspecError, Problem, SpecError
from mlspec.schematypes import describe, fields, kind_tag, tagged_members, unwrap
from mlspec.suggest import did_you_mean
from mlspec.yamlio import Document, Mark, PathT, YamlError, parse

DEFAULT_SPEC = "mlspec.yaml"


@dataclass(frozen=True)
class Loaded:
    """A valid spec with the document it came from (for line numbers in later reports) and its warnings."""

    spec: S.Spec
    path: Path
    doc: Document = field(repr=False)
    warnings: tuple[Problem, ...] = ()
    overrides: tuple[str, ...] = ()
    """The ``--set KEY=VALUE`` arguments applied over the file, as given (recorded with the run)."""
    placed: Mapping[PathT, str] = field(default_factory=dict, repr=False)
    """Document path of each overridden value → its ``--set`` argument, where its problems are shown."""

    @property
    def root(self) -> Path:
        """The directory that relative paths in the spec are resolved against."""
        return self.path.parent

    def line_of(self, *path: str | int) -> Mark:
        """Where a key of the spec is written (falls back to the nearest enclosing key)."""
        p: PathT = tuple(path)
        while p and p not in self.doc.keys:
            p = p[:-1]
        return self.doc.keys.get(p, Mark(1, 1))


def load_spec(path: str | os.PathLike[str] = DEFAULT_SPEC, overrides: Sequence[str] = ()) -> S.Spec:
    """Load and fully validate a spec file; raise :class:`SpecError` listing every problem."""
    return load(path, overrides).spec


def load(path: str | os.PathLike[str] = DEFAULT_SPEC, overrides: Sequence[str] = ()) -> Loaded:
    """Like :func:`load_spec`, also returning the document and the warnings. ``overrides`` are ``--set``
    arguments (``KEY=VALUE``, ``+KEY=VALUE``, see :mod:`mlspec.overrides`), applied over the file before
    validation."""
    file = Path(path)
    parsed = [O.parse(text) for text in overrides]  # a malformed argument fails before the file is read
    text = read_text(file)
    return load_text(text, str(path), base=file, overrides=parsed)


def read_text(file: Path) -> str:
    if file.is_dir():
        raise MlspecError(f"{file}: is a directory; pass the spec file itself, e.g. -f {file / DEFAULT_SPEC}")
    try:
        size = file.stat().st_size
    except FileNotFoundError:
        raise MlspecError(
            f"{file}: file not found; run `mlspec init` to create a project, or pass the spec with -f PATH"
        ) from None
    except OSError as exc:
        raise MlspecError(f"{file}: cannot read: {exc.strerror}") from None
    from mlspec.yamlio import MAX_BYTES

    if size > MAX_BYTES:
        raise SpecError(
            [Problem(str(file), 1, 1, "", f"file is {size // 1024} KiB, larger than {MAX_BYTES // 1024} KiB; "
                     "a spec should be a few KiB")]
        )
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise MlspecError(f"{file}: cannot read: {exc.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecError([Problem(str(file), line, col, "", "file is not valid UTF-8; save it as UTF-8")]) from None


def load_text(text: str, filename: str = DEFAULT_SPEC, base: Path | None = None,
              overrides: Sequence[O.Override | str] = ()) -> Loaded:
    """Validate spec text; ``filename`` is only used in messages, ``base`` to resolve relative paths;
    ``overrides`` (``--set`` arguments, parsed or as given) are applied over the text's document."""
    try:
        doc = parse(text)
    except YamlError as exc:
        raise SpecError([Problem(filename, exc.line, exc.col, _display(exc.path), exc.message)], text) from None
    given = [o if isinstance(o, O.Override) else O.parse(o) for o in overrides]
    placed: dict[PathT, str] = {}
    if given and isinstance(doc.data, dict):
        doc, placed = O.apply(doc, given, S.Spec)
    if not isinstance(doc.data, dict):
        raise SpecError(
            [Problem(filename, 1, 1, "", f"the file must be a mapping of sections (version, project, data, ...), "
                     f"got {describe(doc.data)}")],
            text,
        )
    problems = _version_problem(doc, filename, placed)
    if problems:
        raise SpecError(problems, text)
    try:
        spec = S.Spec.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecError(_from_pydantic(exc, doc, filename, placed), text) from None

    findings = check(spec, base.parent if base is not None else Path.cwd())
    errors = [_locate_finding(f, doc, filename, placed) for f in findings if not f.warning]
    if errors:
        raise SpecError(errors, text)
    warnings = tuple(sorted(_locate_finding(f, doc, filename, placed) for f in findings if f.warning))
    return Loaded(spec=spec, path=base or Path(filename), doc=doc, warnings=warnings,
                  overrides=tuple(o.text for o in given), placed=placed)


def _version_problem(doc: Document, filename: str, placed: Mapping[PathT, str]) -> list[Problem]:
    """Check `version` first: against a future format, every other message would mislead."""
    version = doc.data.get("version")
    if "version" not in doc.data:
        return [Problem(filename, 1, 1, "", f"missing required key 'version'; add `version: {S.SPEC_VERSION}` "
                        "at the top")]
    if version != S.SPEC_VERSION or isinstance(version, bool):
        m = doc.values.get(("version",), Mark(1, 1))
        return [_problem(filename, placed, ("version",), m, "version", f"unsupported spec version {version!r}; "
                         f"this mlspec reads version {S.SPEC_VERSION} (upgrade mlspec for newer specs)")]
    return []


# --- locating -----------------------------------------------------------------------------------------------


def _resolve(data: Any, loc: tuple[Any, ...]) -> tuple[PathT, bool]:
    """Map a pydantic ``loc`` onto the document: the deepest existing path, and whether it names a key.

    pydantic adds entries that are not in the document (union tags such as ``registry``, ``[key]`` for dict
    keys, the name of a missing field); those are skipped.
    """
    path: list[str | int] = []
    for item in loc:
        if item == "[key]":
            return tuple(path), True
        in_dict = isinstance(data, dict) and isinstance(item, str) and item in data
        in_list = isinstance(data, list) and isinstance(item, int) and 0 <= item < len(data)
        if not (in_dict or in_list):
            continue
        data = data[item]
        path.append(item)
    return tuple(path), False


def _position(doc: Document, path: PathT, at_key: bool) -> Mark:
    if at_key and path in doc.keys:
        return doc.keys[path]
    return doc.values.get(path) or doc.keys.get(path) or Mark(1, 1)


_SIMPLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _display(path: PathT) -> str:
    out = ""
    for item in path:
        if isinstance(item, int):
            out += f"[{item}]"
        elif _SIMPLE_KEY.match(item):
            out += f".{item}" if out else item
        else:
            out += f"[{item!r}]"
    return out


def _problem(filename: str, placed: Mapping[PathT, str], path: PathT, mark: Mark, shown: str,
             message: str) -> Problem:
    """A problem at ``path`` of the document: at its line, or at the ``--set`` argument that put it there."""
    for at in range(len(path), -1, -1):
        where = placed.get(path[:at])
        if where is not None:
            return Problem(where, 0, 0, shown, message)
    return Problem(filename, mark.line, mark.col, shown, message)


def _locate_finding(f: Finding, doc: Document, filename: str, placed: Mapping[PathT, str]) -> Problem:
    path, _ = _resolve(doc.data, tuple(f.path))
    mark = _position(doc, path, f.at_key)
    # A finding about a key (e.g. a gate on an unknown metric) names the key in its message; show the parent.
    shown = path[:-1] if f.at_key else path
    return _problem(filename, placed, path, mark, _display(shown), f.message)


def locate(loaded: Loaded, findings: list[Finding]) -> list[Problem]:
    """Findings made after loading (``mlspec validate --data``), located in the loaded spec like its own."""
    return sorted(_locate_finding(f, loaded.doc, str(loaded.path), loaded.placed) for f in findings)


# --- pydantic errors ----------------------------------------------------------------------------------------


def _from_pydantic(exc: ValidationError, doc: Document, filename: str, placed: Mapping[PathT, str]) -> list[Problem]:
    problems: set[Problem] = set()
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        path, at_key = _resolve(doc.data, loc)
        kind = err["type"]
        shown = path
        if kind == "extra_forbidden":
            at_key, shown = True, path[:-1]
        elif kind in ("missing", "union_tag_not_found"):
            at_key = True
        elif kind == "union_tag_invalid" and isinstance(_get(doc.data, path), dict):
            path = shown = (*path, "kind")  # point at the bad tag itself
        message = _message(err, loc, path, at_key)
        mark = _position(doc, path, at_key or kind == "missing")
        problems.add(_problem(filename, placed, path, mark, _display(shown), message))
    return sorted(p for p in problems if not _explained(p, problems))


def _explained(problem: Problem, problems: set[Problem]) -> bool:
    """A missing key already named by a "did you mean" of a misspelt sibling needs no message of its own."""
    m = re.match(r"missing required key '([^']+)'", problem.message)
    return bool(m) and any(
        p.path == problem.path and p.message.endswith(f"did you mean {m.group(1)!r}?")  # type: ignore[union-attr]
        for p in problems
    )


def _get(data: Any, path: PathT) -> Any:
    for item in path:
        data = data[item]
    return data


_EXPECTED = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "literal_error": "",
}

_PATTERNS = {
    S.NAME_PATTERN: "is not a valid name; " + S.NAME_HELP,
    S.IMPORT_PATH_PATTERN: "is not an import path; write it like sklearn.ensemble.RandomForestClassifier",
    S.CRON_PATTERN: "is not a five-field cron expression; write it like '0 6 * * 1' (minute hour day month weekday)",
    S.PYTHON_PATTERN: 'is not a Python version; write it like "3.11"',
    S.PACKAGE_PATTERN: "is not a top-level package name; write it like xgboost",
}


def _message(err: Any, loc: tuple[Any, ...], path: PathT, at_key: bool) -> str:
    kind, value, ctx = err["type"], err.get("input"), err.get("ctx") or {}
    if kind == "missing":
        hint = f"; add `{loc[-1]}:`"
        return f"missing required key {loc[-1]!r}{hint}"
    if kind == "extra_forbidden":
        key = loc[-1]
        allowed = _allowed_keys(loc[:-1])
        return f"unknown key {key!r}" + did_you_mean(str(key), allowed)
    if kind == "union_tag_not_found":
        tags = _union_tags(loc)
        return f"missing required key 'kind'; add `kind:` with one of: {', '.join(tags)}"
    if kind == "union_tag_invalid":
        tags = _union_tags(loc)
        return f"unknown kind {ctx.get('tag')!r}" + did_you_mean(str(ctx.get("tag")), tags)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"{describe(value)} is not allowed" + did_you_mean(str(value), choices)
    if kind == "string_pattern_mismatch":
        what = _PATTERNS.get(str(ctx.get("pattern")), f"does not match the pattern {ctx.get('pattern')}")
        return f"{value!r} {what}"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty" if ctx.get("min_length", 1) <= 1 else f"needs at least {ctx['min_length']} items"
    if kind == "too_long":
        if isinstance(value, dict):
            return f"write one expectation per list item; this item has {len(value)} keys"
        return f"allows at most {ctx.get('max_length')} items"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(ctx.values()))
        return f"must be {op} {bound}, got {value}"
    if kind == "finite_number":
        return f"must be a finite number, got {S.yaml_float(value)}"
    if kind in ("value_error", "assertion_error"):
        return str(ctx.get("error", err["msg"]))
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {describe(value)}"
    return str(err["msg"])


def _type_at(loc: tuple[Any, ...]) -> Any:
    """The annotation that pydantic validated at ``loc`` (walking models, dicts, lists and unions)."""
    return unwrap(_annotation_at(loc))


def _annotation_at(loc: tuple[Any, ...]) -> Any:
    current: Any = S.Spec
    for item in loc:
        tagged = tagged_members(current)
        if tagged is not None:
            # A union with a callable discriminator (data sources) adds its tag to the loc, as `kind` does.
            current = tagged.get(str(item))
            continue
        current = unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fld = fields(current).get(str(item))
            if fld is None:
                return None
            current = fld.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin is dict:
            current = args[1]
        elif origin is list:
            current = args[0]
        elif origin in (typing.Union, types.UnionType):
            # A discriminated union adds its tag to the loc: pick the member whose `kind` is that tag.
            current = next((a for a in args if kind_tag(a) == item), None)
        else:
            return None
    return current


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    tp = _type_at(loc)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return list(fields(tp))
    return []


def _union_tags(loc: tuple[Any, ...]) -> list[str]:
    tagged = tagged_members(_annotation_at(loc))
    if tagged is not None:
        return list(tagged)
    tp = _type_at(loc)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [t for t in (kind_tag(a) for a in typing.get_args(tp)) if t]
    return []
