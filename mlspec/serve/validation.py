"""Checking a prediction request against the model's recorded input schema, before the model sees it.

The schema is ``metadata.json``'s ``input.features``: each column's name, kind (numeric / categorical) and
the dtype it had in training. A request is ``{"rows": [{column: value, ...}, ...]}``; every row must carry
exactly the model's columns, each value of the JSON type its dtype implies:

======================  =============================================================
training dtype          accepted JSON values
======================  =============================================================
numeric column          a finite number (the pipeline computes in floating point)
categorical, integer    an integer (``2`` or ``2.0``)
categorical, float      a finite number
categorical, text       a string
boolean                 ``true`` / ``false``
======================  =============================================================

``null`` stands for a missing value and is accepted only where the pipeline imputes that kind of column.
Every problem is a :class:`RequestError` with its HTTP status (400 unreadable JSON, 422 a request the model
cannot take) and, per offending row and column, what was wrong; a bad request never reaches the model, so it
never becomes a 500.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from mlspec import jsonio
from mlspec.runtime.seen import KINDS, Issue, Seen, find

if TYPE_CHECKING:
    import pandas as pd

Accepts = Literal["number", "integer", "string", "boolean"]
MAX_DETAILS = 50
MAX_MAGNITUDE = 1e150
"""The largest absolute value a numeric request value may have. A finite float64 is not enough: a pipeline
squares, sums and multiplies its inputs (scaling, polynomial features, dot products, distances), and a value
near 1e308 overflows to infinity or NaN inside the model, which then fails or answers garbage. 1e150 squared
is still finite, and no real measurement comes near it."""
_INT64 = (-(2**63), 2**63 - 1)
_WHAT = {"number": "a number", "integer": "an integer", "string": "a string", "boolean": "true or false"}


class RequestError(Exception):
    def __init__(self, status: int, message: str, details: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = list(details)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "message": self.message}
        if self.details:
            error["details"] = self.details[:MAX_DETAILS]
            if len(self.details) > MAX_DETAILS:
                error["details_truncated"] = len(self.details) - MAX_DETAILS
        return {"error": error}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    dtype: str
    accepts: Accepts
    nullable: bool

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "dtype": self.dtype, "type": self.accepts,
                "nullable": self.nullable}


@dataclass(frozen=True)
class InputSchema:
    columns: tuple[Column, ...]
    seen: Seen | None = None
    """What training saw per feature; None for a bundle from before it was recorded (nothing is counted)."""
    names: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", frozenset(c.name for c in self.columns))

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> InputSchema:
        prep = metadata.get("preprocessing") or {}
        imputes = {kind: (prep.get(kind) or {}).get("impute", "none") != "none" for kind in ("numeric", "categorical")}
        imputes["datetime"] = imputes["numeric"]  # a missing date's parts go through the numeric imputer
        columns = []
        for feature in metadata["input"]["features"]:
            kind, dtype = str(feature["kind"]), str(feature["dtype"])
            columns.append(Column(str(feature["name"]), kind, dtype, _accepts(kind, dtype), imputes.get(kind, False)))
        return cls(tuple(columns), Seen.from_input(metadata["input"]))


def _accepts(kind: str, dtype: str) -> Accepts:
    low = dtype.lower()
    if low in ("bool", "boolean"):
        return "boolean"
    if kind == "numeric":
        return "number"
    if low.startswith(("int", "uint")):
        return "integer"
    if low.startswith("float"):
        return "number"
    return "string"


def input_issues(schema: InputSchema, columns: Mapping[str, Sequence[Any]],
                 reject: Collection[str] = ()) -> list[Issue]:
    """The request's values unlike the training data (what a prediction log keeps per request); a
    :class:`RequestError` (422) instead when any is of a kind in ``reject`` (``unseen_categories``,
    ``out_of_range``: the spec's ``serving`` section)."""
    if schema.seen is None:
        return []
    issues = find(schema.seen, columns)
    refused = [i for i in issues if i.kind in reject]
    if refused:
        seen = schema.seen
        parts = [f"{kind.replace('_', ' ')} in {', '.join(sorted({i.column for i in refused if i.kind == kind}))}"
                 for kind in KINDS if any(i.kind == kind for i in refused)]
        first = refused[0]
        raise RequestError(422, f"inputs unlike the training data ({'; '.join(parts)}): {first.column} "
                                f"{first.explain(seen)}", [i.detail(seen) for i in refused])
    return issues


def parse_json(raw: bytes) -> Any:
    """The request body as JSON; 400 if it is not UTF-8 JSON, is nested too deeply or holds a number beyond
    float64 (NaN and Infinity are not JSON). Parsed by :mod:`mlspec.jsonio`, which bounds the depth."""
    if not raw.strip():
        raise RequestError(400, 'empty request body; send JSON such as {"rows": [{"column": value, ...}]}')
    try:
        return jsonio.loads(raw, "request body", allow_constants=False)
    except jsonio.JsonError as exc:
        raise RequestError(400, str(exc)) from None


def rows_of(document: Any, max_rows: int) -> list[Mapping[str, Any]]:
    if not isinstance(document, dict) or "rows" not in document:
        raise RequestError(422, 'expected a JSON object with "rows": a list of objects, one per row '
                                '({"rows": [{"column": value, ...}]})')
    extra = sorted(set(document) - {"rows"})
    if extra:
        raise RequestError(422, f"unexpected keys in the request: {', '.join(extra)}; only \"rows\" is read")
    rows = document["rows"]
    if not isinstance(rows, list) or not rows:
        raise RequestError(422, '"rows" must be a non-empty list of objects')
    if len(rows) > max_rows:
        raise RequestError(422, f"{len(rows)} rows is more than this service takes in one request ({max_rows}); "
                                "split the batch")
    bad = [{"row": i, "error": f"expected an object, got {_json_type(r)}"} for i, r in enumerate(rows)
           if not isinstance(r, dict)]
    if bad:
        raise RequestError(422, "every row must be a JSON object of column: value", bad)
    return rows


def check(schema: InputSchema, rows: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """The rows' values column by column, in the schema's order, or :class:`RequestError` (422)."""
    details: list[dict[str, Any]] = []
    missing: set[str] = set()
    extra: set[str] = set()
    for i, row in enumerate(rows):
        keys = row.keys()
        if len(keys) != len(schema.names) or not schema.names.issuperset(keys):
            lacks, has = sorted(schema.names - keys), sorted(keys - schema.names)
            missing.update(lacks)
            extra.update(has)
            details.append({"row": i, **({"missing": lacks} if lacks else {}), **({"unexpected": has} if has else {})})
    if details:
        parts = ([f"missing columns: {', '.join(sorted(missing))}"] if missing else []) + (
            [f"unexpected columns: {', '.join(sorted(extra))}"] if extra else [])
        raise RequestError(422, "; ".join(parts), details)
    columns: dict[str, list[Any]] = {}
    for column in schema.columns:
        values = [row[column.name] for row in rows]
        for i, value in enumerate(values):
            problem = _problem(column, value)
            if problem:
                details.append({"row": i, "column": column.name, "error": problem})
        columns[column.name] = values
    if details:
        names = sorted({d["column"] for d in details})
        raise RequestError(422, f"values of the wrong type in {', '.join(names)}", details)
    return columns


def _problem(column: Column, value: Any) -> str | None:
    if value is None:
        return None if column.nullable else "null is not allowed: this model does not impute missing values here"
    accepts = column.accepts
    if accepts == "string":
        return None if isinstance(value, str) else f"expected a string, got {_json_type(value)}"
    if accepts == "boolean":
        return None if isinstance(value, bool) else f"expected true or false, got {_json_type(value)}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected {_WHAT[accepts]}, got {_json_type(value)}"
    if accepts == "integer":
        if isinstance(value, float) and not value.is_integer():
            return f"expected an integer, got {value!r}"
        return None if _INT64[0] <= value <= _INT64[1] else "integer out of the 64-bit range"
    try:
        number = float(value)
    except OverflowError:  # an integer literal beyond float64
        number = math.inf
    if math.isnan(number):
        return "expected a finite number"
    if abs(number) > MAX_MAGNITUDE:
        return f"magnitude over {MAX_MAGNITUDE:g}: too large for the model to compute with"
    return None


def to_frame(schema: InputSchema, columns: Mapping[str, list[Any]]) -> pd.DataFrame:
    """The checked columns as the DataFrame the model's pipeline expects (missing values as NaN)."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for column in schema.columns:
        values = columns[column.name]
        has_null = any(v is None for v in values)
        if column.accepts in ("number", "integer") and not (column.accepts == "integer" and not has_null):
            data[column.name] = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        elif column.accepts == "integer":
            data[column.name] = np.array([int(v) for v in values], dtype=np.int64)
        elif column.accepts == "boolean" and not has_null:
            data[column.name] = np.array(values, dtype=bool)
        else:
            data[column.name] = np.array([np.nan if v is None else v for v in values], dtype=object)
    return pd.DataFrame(data, columns=[c.name for c in schema.columns])


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
