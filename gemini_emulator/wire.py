"""Wire-level helpers: request key normalisation, lenient base64, JSON and SSE framing.

The google-genai SDK sends a mix of camelCase and snake_case keys (nested pydantic objects are
dumped with Python field names: thinkingConfig.thinking_budget, inlineData.mime_type,
functionDeclarations[].parameters_json_schema). The real API accepts both spellings (proto3
JSON), so the emulator camel-cases protocol keys. Maps that hold user data keep their keys:
function-call arguments, function responses, raw JSON schemas, labels, and the property names
of an OpenAPI-subset schema.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_SNAKE_KEY = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")

# Values under these (camel-cased) keys are user data and are passed through untouched.
_OPAQUE_KEYS = frozenset(
    {
        "args",  # functionCall.args
        "parametersJsonSchema",  # raw JSON Schema
        "responseJsonSchema",  # raw JSON Schema (functionDeclarations and generationConfig)
        "labels",
        "default",  # schema default/example values can be any JSON
        "example",
    }
)

# Values under these keys map user-chosen names to protocol objects (schemas).
_NAMED_SCHEMA_MAPS = frozenset({"properties", "defs"})

# functionResponse.response is user data; functionDeclarations[].response is a schema.
_OPAQUE_UNDER = {"functionResponse": frozenset({"response"})}


def camel_case(key: str) -> str:
    """snake_case -> camelCase; any other key (camel, $ref, @type) is returned unchanged."""
    if not _SNAKE_KEY.match(key):
        return key
    head, *rest = key.split("_")
    return head + "".join(word[:1].upper() + word[1:] for word in rest)


def normalize_keys(value: Any, parent: str = "") -> Any:
    """A copy of a request body with every protocol key camel-cased (see module docstring)."""
    if isinstance(value, list):
        return [normalize_keys(item, parent) for item in value]
    if not isinstance(value, dict):
        return value
    opaque_here = _OPAQUE_UNDER.get(parent, frozenset())
    result: dict[str, Any] = {}
    for raw_key, item in value.items():
        key = camel_case(raw_key)
        if key in _OPAQUE_KEYS or key in opaque_here:
            result[key] = item
        elif key in _NAMED_SCHEMA_MAPS and isinstance(item, dict):
            result[key] = {name: normalize_keys(schema, key) for name, schema in item.items()}
        else:
            result[key] = normalize_keys(item, key)
    return result


def decode_base64(data: str) -> bytes:
    """Decode standard or URL-safe base64, with or without padding.

    The SDK sends URL-safe base64 while the real API and most clients use the standard
    alphabet, so both are accepted. Raises ValueError on anything else.
    """
    if not isinstance(data, str):
        raise ValueError("base64 data must be a string")
    compact = "".join(data.split()).rstrip("=")
    if len(compact) % 4 == 1:
        raise ValueError("invalid base64 length")
    standard = compact.replace("-", "+").replace("_", "/")
    padded = standard + "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"invalid base64: {exc}") from None


def encode_base64(data: bytes) -> str:
    """Standard base64, as the real API emits it."""
    return base64.b64encode(data).decode("ascii")


def to_json(body: Any) -> bytes:
    """Compact single-line JSON.

    ensure_ascii keeps U+2028/U+2029 escaped: a line splitter that honours them would otherwise
    break an SSE event in two.
    """
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def sse_event(body: Any) -> bytes:
    """One SSE event exactly as the SDK's strict parser wants it: `data: <json>` + blank line."""
    return b"data: " + to_json(body) + b"\r\n\r\n"


def struct_value(value: Any) -> Any:
    """A value as Gemini writes it from a protobuf Struct: every number is a double, and proto3
    JSON prints an integral double without a fraction (51, never 51.0; clients such as Codex
    parse such arguments as integers)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: struct_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [struct_value(item) for item in value]
    return value
