"""What a model saw in training, per feature, and which values of a request it never saw.

The train stage records, in the bundle's input schema (``metadata.json`` ``input.seen``), the categories of
each categorical feature and the minimum and maximum of each numeric one. A model takes any of them
anyway: the encoder maps an unseen category to "unknown" and a tree extends its last leaf, so its answer
for an island "Atlantis" or an age of 400 looks as sure as any other. :func:`find` names those values per
request, :func:`counts` sums them per feature (the response's ``input_issues``, and what a prediction log
keeps), and the service may refuse them (``serving:`` in the spec). Bundles from before this record have no
``seen``: nothing is counted for them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

IssueKind = Literal["unseen_categories", "out_of_range"]
KINDS: tuple[IssueKind, ...] = ("unseen_categories", "out_of_range")
MAX_CATEGORIES = 1000
"""A categorical feature with more distinct values is not recorded (an id or free text, not a category set):
listing them would bloat the bundle, and an unseen one says nothing there."""
SHOWN = 20
"""How many of the seen categories a message lists."""


def record(frame: pd.DataFrame, numeric: Sequence[str], categorical: Sequence[str]) -> dict[str, Any]:
    """``{"categories": {feature: [values]}, "ranges": {feature: [min, max]}}`` of the training ``frame``."""
    import pandas as pd

    from mlspec.runtime.bundle import jsonable

    categories: dict[str, list[Any]] = {}
    for name in categorical:
        values = frame[name].dropna().unique().tolist()
        if len(values) <= MAX_CATEGORIES:
            categories[name] = sorted(jsonable(values), key=_order)
    ranges: dict[str, list[float]] = {}
    for name in numeric:
        column = pd.to_numeric(frame[name], errors="coerce").astype("float64")
        finite = column[column.map(math.isfinite)]
        if len(finite):
            ranges[name] = [float(finite.min()), float(finite.max())]
    return {"categories": categories, "ranges": ranges}


def _order(value: Any) -> tuple[str, Any]:
    # One column may mix types (text and numbers in an object column): each type sorts on its own.
    return (type(value).__name__, value)


@dataclass(frozen=True)
class Seen:
    categories: Mapping[str, frozenset[Any]]
    ranges: Mapping[str, tuple[float, float]]
    listed: Mapping[str, Sequence[Any]]
    """The categories in their recorded order, for messages."""

    @classmethod
    def from_input(cls, schema: Mapping[str, Any]) -> Seen | None:
        """From a bundle's ``input`` schema; None for a bundle trained before ``seen`` was recorded."""
        seen = schema.get("seen")
        if not isinstance(seen, Mapping):
            return None
        listed = {str(k): list(v) for k, v in (seen.get("categories") or {}).items()}
        ranges = {str(k): (float(v[0]), float(v[1])) for k, v in (seen.get("ranges") or {}).items()}
        return cls({k: frozenset(v) for k, v in listed.items()}, ranges, listed)


@dataclass(frozen=True)
class Issue:
    """One value of a request unlike the training data."""

    kind: IssueKind
    row: int
    column: str
    value: Any

    def explain(self, seen: Seen) -> str:
        if self.kind == "out_of_range":
            low, high = seen.ranges[self.column]
            return f"{self.value!r} is outside the training range {low:g} to {high:g}"
        listed = seen.listed[self.column]
        shown = ", ".join(repr(v) for v in listed[:SHOWN])
        more = f" and {len(listed) - SHOWN} more" if len(listed) > SHOWN else ""
        return f"{self.value!r} was never seen in training (seen: {shown}{more})"

    def detail(self, seen: Seen) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "error": self.explain(seen)}


def find(seen: Seen, columns: Mapping[str, Sequence[Any]]) -> list[Issue]:
    """Every unseen category and out-of-range number in a request's checked ``columns`` (missing values are the
    imputer's, not an issue)."""
    out: list[Issue] = []
    for name, values in columns.items():
        known = seen.categories.get(name)
        bounds = seen.ranges.get(name)
        for row, value in enumerate(values):
            if value is None:
                continue
            if known is not None and not _member(value, known):
                out.append(Issue("unseen_categories", row, name, value))
            elif bounds is not None and isinstance(value, int | float) and not isinstance(value, bool) \
                    and not bounds[0] <= value <= bounds[1]:
                out.append(Issue("out_of_range", row, name, value))
    return out


def _member(value: Any, known: frozenset[Any]) -> bool:
    # JSON `true` equals 1 in Python: a boolean is seen only as a boolean, a number only as a number.
    return value in known and any(type(k) is bool for k in known) == isinstance(value, bool)


def counts(issues: Sequence[Issue]) -> dict[str, dict[str, int]]:
    """``{"unseen_categories": {feature: n}, "out_of_range": {feature: n}}``: a response's ``input_issues``."""
    out: dict[str, dict[str, int]] = {kind: {} for kind in KINDS}
    for issue in issues:
        bucket = out[issue.kind]
        bucket[issue.column] = bucket.get(issue.column, 0) + 1
    return {kind: dict(sorted(found.items())) for kind, found in out.items()}
