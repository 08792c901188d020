"""The Jinja environments for generated files.

Templates only loop and print; every decision is made in the Python view-models of :mod:`mlspec.targets`
and :mod:`mlspec.report`. ``StrictUndefined`` turns a typo in a template into an error instead of an empty
string, and every value from the spec reaches a CI template through the ``q`` filter, which emits a quoted
YAML scalar. HTML reports use a second environment with autoescaping on, so no value (an expectation's
arguments, a data value GX quoted) can become markup; Markdown reports escape table cells with ``cell``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import jinja2

from mlspec.resources import resource_dir

# JSON leaves these raw, but YAML reads U+0085, U+2028 and U+2029 as line breaks (folded to a space inside a
# quoted scalar) and rejects the other C1 controls, DEL, BOM and noncharacters outright: escape them too.
_YAML_RAW = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]")


def quote(value: Any) -> str:
    """A YAML scalar that reads back as exactly ``value``: JSON strings, numbers and booleans are valid YAML."""
    if isinstance(value, str):
        return _YAML_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    raise TypeError(f"cannot quote {type(value).__name__} as a YAML scalar")


def flow(values: Any) -> str:
    """A flow-style YAML list of quoted scalars: ``["a", "b"]``."""
    return "[" + ", ".join(quote(v) for v in values) + "]"


def cell(value: Any) -> str:
    """Text for one Markdown table cell: one line, no column break, no markup that GitHub or GitLab would
    render as HTML (which could also hide the report's marker comment)."""
    text = " ".join(str(value).split())
    for char, escaped in (("\\", "\\\\"), ("|", "\\|"), ("`", "\\`"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    return text


@cache
def environment(html: bool = False) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=html,
    )
    env.filters["q"] = quote
    env.filters["flow"] = flow
    env.filters["cell"] = cell
    return env


def render(template: str, view: dict[str, Any]) -> str:
    return environment().get_template(template).render(**view)


def render_html(template: str, view: dict[str, Any]) -> str:
    """Like :func:`render`, with every printed value HTML-escaped."""
    return environment(html=True).get_template(template).render(**view)
