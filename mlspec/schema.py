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
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


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
