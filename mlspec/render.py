"""The Jinja environments for generated files.

Templates only loop and print; every decision is made in the Python view-models of :mod:`mlspec.targets`
and :mod:`mlspec.report`. ``StrictUndefined`` turns a typo in a template into an error instead of an empty
string, and every value from the spec reaches a CI template through the ``q`` filter, which emits a quoted
YAML scalar. HTML reports use a second environment with autoescaping on, so no value (an expectation's
arguments, a data value GX quoted) can become markup; Markdown reports escape table cells with ``cell``.
The drift report's HTML spells quotes as :func:`html.escape` does (``&#x27;``, ``&quot;``) where Jinja writes
``&#39;`` and ``&#34;``: it is a content-addressed stage output, so its bytes are kept.
"""

from __future__ import annotations

import html as _html
import json
import re
from functools import cache
from typing import Any

import jinja2
import markupsafe

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


def _stdlib_escape(value: Any) -> markupsafe.Markup:
    """A printed value escaped as :func:`html.escape` escapes it; markup built by the template passes as is."""
    if isinstance(value, markupsafe.Markup):
        return value
    return markupsafe.Markup(_html.escape(str(value)))


@cache
def environment(html: bool = False, stdlib_entities: bool = False) -> jinja2.Environment:
    """The environment for CI files and Markdown, or with ``html`` for HTML (autoescaped); ``stdlib_entities``
    (with ``html``) escapes as :func:`html.escape` does."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=html,
        finalize=_stdlib_escape if html and stdlib_entities else None,
    )
    env.filters["q"] = quote
    env.filters["flow"] = flow
    env.filters["cell"] = cell
    return env


def render(template: str, view: dict[str, Any]) -> str:
    return environment().get_template(template).render(**view)


def render_html(template: str, view: dict[str, Any], stdlib_entities: bool = False) -> str:
    """Like :func:`render`, with every printed value HTML-escaped."""
    return environment(html=True, stdlib_entities=stdlib_entities).get_template(template).render(**view)
