"""Gemini's OpenAPI-subset Schema as plain JSON Schema.

Two schema dialects arrive: plain JSON Schema (functionDeclarations[].parametersJsonSchema,
generationConfig.responseJsonSchema) and Gemini's OpenAPI subset (functionDeclarations[].
parameters, generationConfig.responseSchema): upper-case types (STRING, OBJECT, ...),
`nullable`, `format: enum`, `propertyOrdering`, `ref`/`defs`, and int64 counts (minItems, ...)
that proto3 JSON may write as strings. The conversion lower-cases types, turns nullable into a
"null" type (or anyOf branch, or enum value), drops `format: enum`, makes counts integers, and
keeps propertyOrdering (unknown to JSON Schema, so harmless) for the key order of generated
objects. The input has already been key-normalised (wire), so property names are untouched.
"""

from __future__ import annotations

from typing import Any

_COUNT_KEYS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties",
               "maxProperties")
_SCHEMA_MAPS = ("properties", "$defs", "defs", "definitions")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")


def openapi_to_json_schema(schema: Any) -> Any:
    """Gemini's OpenAPI-subset Schema as JSON Schema (lower-case types, nullable -> null)."""
    if isinstance(schema, list):
        return [openapi_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out["$defs" if key == "defs" else key] = {
                name: openapi_to_json_schema(item) for name, item in value.items()}
        elif key in _SCHEMA_LISTS or key in ("items", "additionalProperties"):
            out[key] = openapi_to_json_schema(value)
        elif key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key in ("ref", "$ref") and isinstance(value, str):
            out["$ref"] = value.replace("#/defs/", "#/$defs/")
        elif key in _COUNT_KEYS and isinstance(value, str) and value.isdigit():
            out[key] = int(value)  # proto3 JSON writes int64 as strings
        elif key != "nullable" and not (key == "format" and value == "enum"):
            out[key] = value  # propertyOrdering stays: the generator orders keys by it
    if schema.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif "anyOf" in out:
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
    return out
