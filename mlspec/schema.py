"""The published JSON Schema of mlspec.yaml, generated from the pydantic models.

``schemas/mlspec.schema.json`` is this function's output, checked in so editors and check-jsonschema can use
it; a test fails (naming ``make schema``) when it drifts from the models.
"""

from __future__ import annotations

import json
from typing import Any


def json_schema() -> dict[str, Any]:
    from mlspec.spec import Spec

    schema = _close_pattern_maps(Spec.model_json_schema())
    _describe_fields(schema)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _attribute_docs() -> dict[str, dict[str, str]]:
    """``{class name: {field: docstring}}`` from the string literal under each field in mlspec/spec.py."""
    import ast
    import inspect

    from mlspec import spec

    docs: dict[str, dict[str, str]] = {}
    for node in ast.parse(inspect.getsource(spec)).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = docs.setdefault(node.name, {})
        for stmt, nxt in zip(node.body, node.body[1:], strict=False):
            if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
                    and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                    and isinstance(nxt.value.value, str)):
                fields[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return docs


def _describe_fields(schema: dict[str, Any]) -> None:
    from mlspec import spec

    docs = _attribute_docs()
    models = [("Spec", schema), *schema.get("$defs", {}).items()]
    for name, node in models:
        cls = getattr(spec, name, None)
        if cls is None:
            continue
        for field, prop in node.get("properties", {}).items():
            if "description" in prop:
                continue
            for base in cls.__mro__:  # inherited fields (e.g. of _Target) keep their base's docs
                doc = docs.get(base.__name__, {}).get(field)
                if doc:
                    prop["description"] = doc
                    break


def _close_pattern_maps(node: Any) -> Any:
    """Named maps (``dict[Name, X]``) come out as ``patternProperties`` alone, which lets any other key through;
    close them so a schema-only checker rejects an invalid name just as mlspec does."""
    if isinstance(node, dict):
        out = {k: _close_pattern_maps(v) for k, v in node.items()}
        if "patternProperties" in out and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_close_pattern_maps(v) for v in node]
    return node


def render() -> str:
    """The schema as deterministic JSON text (2-space indent, trailing newline)."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
