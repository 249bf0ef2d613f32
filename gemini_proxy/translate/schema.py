"""OpenAI JSON Schema -> the JSON Schema subset Gemini accepts (parametersJsonSchema,
responseJsonSchema).

Gemini rejects a request over one keyword it does not know, so unknown keywords are removed;
a few are rewritten to an equivalent it knows. Every removal and rewrite is reported by path,
so the gateway can tell the client (nothing is lost silently).
"""
from __future__ import annotations

from typing import Any

# Keywords Gemini's JSON Schema fields accept, kept as they are.
KEPT = frozenset({
    "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items",
    "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "properties",
    "additionalProperties", "required", "propertyOrdering",
})
# String formats Gemini understands; others are dropped (the value is still a string).
FORMATS = frozenset({"date-time", "date", "time"})
# Keywords holding one sub-schema, a list of sub-schemas, or a name -> sub-schema map.
_ONE = ("items", "additionalProperties")
_LIST = ("prefixItems", "anyOf")
_MAP = ("properties", "$defs")


def _rewritten(schema: dict, path: str, report: list[str]) -> dict:
    """Keywords with a Gemini equivalent, rewritten before filtering."""
    schema = dict(schema)
    if "oneOf" in schema and "anyOf" not in schema:
        # For generation "exactly one of" and "any of" ask the same of the model.
        schema["anyOf"] = schema.pop("oneOf")
        report.append(f"{path}.oneOf (as anyOf)")
    if "const" in schema and "enum" not in schema:
        schema["enum"] = [schema.pop("const")]
        report.append(f"{path}.const (as enum)")
    if "definitions" in schema and "$defs" not in schema:
        schema["$defs"] = schema.pop("definitions")
        report.append(f"{path}.definitions (as $defs)")
    if isinstance(schema.get("$ref"), str) and schema["$ref"].startswith("#/definitions/"):
        schema["$ref"] = "#/$defs/" + schema["$ref"].removeprefix("#/definitions/")
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and "anyOf" not in schema:
        # pydantic wraps a described $ref in a one-item allOf.
        schema["anyOf"] = schema.pop("allOf")
        report.append(f"{path}.allOf (as anyOf)")
    return schema


def sanitize(schema: Any, path: str, report: list[str]) -> Any:
    """A copy of `schema` that Gemini accepts; what changed is appended to `report`."""
    if not isinstance(schema, dict):
        return schema
    clean: dict[str, Any] = {}
    for key, value in _rewritten(schema, path, report).items():
        here = f"{path}.{key}"
        if key not in KEPT or (key == "format" and value not in FORMATS):
            report.append(here)
        elif key in _ONE and isinstance(value, dict):
            clean[key] = sanitize(value, here, report)
        elif key in _LIST and isinstance(value, list):
            clean[key] = [sanitize(item, f"{here}[{i}]", report) for i, item in enumerate(value)]
        elif key in _MAP and isinstance(value, dict):
            clean[key] = {name: sanitize(sub, f"{here}.{name}", report) for name, sub in value.items()}
        else:
            clean[key] = value
    return clean
