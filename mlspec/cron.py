"""Five-field cron expressions, as both CI platforms run them: each field's values within its range.

A schedule like ``99 99 99 99 99`` has five fields, yet GitHub silently never runs it. This module accepts
the portable subset: per field ``*``, a value, a range ``a-b``, a list ``a,b``, and a step ``*/n`` or
``a-b/n``; months and weekdays also by name (``JAN``-``DEC``, ``SUN``-``SAT``). Extensions that GitHub does not
support (``@daily``, ``L``, ``W``, ``#``, ``?``, a sixth field for seconds) are refused.

:data:`CRON_SCHEMA_PATTERN` is the same grammar as a regular expression, for the JSON Schema; only range
order and step sizes are left to :func:`cron_problem`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
EXAMPLE = "write it like '0 6 * * 1' (minute hour day month weekday)"


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...]
    first_name: int  # the value of names[0]
    value_regex: str

    def value(self, text: str) -> int | None:
        if text in self.names:
            return self.names.index(text) + self.first_name
        return int(text) if re.fullmatch(r"[0-9]{1,2}", text) else None

    def allowed(self) -> str:
        spelt = f"{self.low}-{self.high}"
        return f"{spelt} or {self.names[0]}-{self.names[-1]}" if self.names else spelt


_FIELDS = (
    _Field("minute", 0, 59, (), 0, "[0-5]?[0-9]"),
    _Field("hour", 0, 23, (), 0, "[01]?[0-9]|2[0-3]"),
    _Field("day of month", 1, 31, (), 1, "0?[1-9]|[12][0-9]|3[01]"),
    _Field("month", 1, 12, _MONTHS, 1, "0?[1-9]|1[0-2]|" + "|".join(_MONTHS)),
    _Field("day of week", 0, 7, _DAYS, 0, "0?[0-7]|" + "|".join(_DAYS)),
)


def _schema_pattern() -> str:
    fields = []
    for f in _FIELDS:
        value, step = f"(?:{f.value_regex})", "(?:/[1-9][0-9]?)"
        item = rf"(?:\*{step}?|{value}(?:-{value}{step}?)?)"
        fields.append(f"{item}(?:,{item})*")
    return r"^\s*" + r"\s+".join(fields) + r"\s*$"


CRON_SCHEMA_PATTERN = _schema_pattern()


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a schedule both platforms run, or None. (Five fields are already checked.)"""
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        return f"{expression!r} is not a five-field cron expression; {EXAMPLE}"
    for text, field in zip(parts, _FIELDS, strict=True):
        for item in text.split(","):
            problem = _item_problem(item, field)
            if problem:
                return f"{expression!r}: {problem}; {EXAMPLE}"
    return None


def _item_problem(item: str, field: _Field) -> str | None:
    body, slash, step = item.partition("/")
    if slash:
        n = int(step) if re.fullmatch(r"[0-9]{1,2}", step) else None
        if n is None or not 1 <= n <= field.high:
            return f"{field.name} step {step!r} must be a number from 1 to {field.high}"
    if body == "*":
        return None
    low_text, dash, high_text = body.partition("-")
    if slash and not dash:
        return f"{field.name} {item!r}: a step needs `*` or a range before it, such as */15 or 0-30/5"
    bounds = []
    for text in (low_text, high_text) if dash else (low_text,):
        value = field.value(text)
        if value is None:
            return f"{field.name} {text!r} is not a number" + (f" or a name ({', '.join(field.names)})"
                                                              if field.names else "")
        if not field.low <= value <= field.high:
            return f"{field.name} {value} is out of range {field.allowed()}"
        bounds.append(value)
    if dash and bounds[0] > bounds[1]:
        return f"{field.name} range {body!r} runs backwards: the lower value comes first"
    return None
