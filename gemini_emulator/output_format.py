"""Structured output: generationConfig.responseMimeType with responseSchema/responseJsonSchema.

    application/json  the answer text is bare JSON (no code fences): with responseJsonSchema
                      (JSON Schema) or responseSchema (OpenAPI subset, converted) a value valid
                      under it (schema_values, seeded by the candidate), else
                      {"answer": "<the text the answer would have had>"}
    text/x.enum       one value of the schema's enum: the first one the user's text names, else
                      a seeded pick
    others            text/plain, application/xml, application/yaml: plain text
The text then streams in chunks and is cut by stopSequences / maxOutputTokens like any text
(a cut JSON answer ends with MAX_TOKENS, as with a real model). `say=` directives bypass this.

Refused with 400 INVALID_ARGUMENT: an unknown mime type; both schema fields; a schema with a
mime type other than application/json or text/x.enum; text/x.enum without an enum schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.openapi_schema import openapi_to_json_schema
from gemini_emulator.schema_values import Hints, instance

JSON, ENUM = "application/json", "text/x.enum"
MIME_TYPES = ("text/plain", JSON, "application/xml", "application/yaml", ENUM)
_FIELD = "* GenerateContentRequest.generation_config"


@dataclass(frozen=True)
class ResponseFormat:
    mime_type: str = "text/plain"
    schema: Any = None  # JSON Schema (responseSchema already converted); None: no schema

    @property
    def enum(self) -> list[str]:
        values = self.schema.get("enum") if isinstance(self.schema, dict) else None
        return [str(value) for value in values or [] if value is not None]


def parse_response_format(config: dict[str, Any]) -> ResponseFormat:
    """The structured-output settings of a generationConfig, validated."""
    mime = config.get("responseMimeType") or "text/plain"
    if mime not in MIME_TYPES:
        raise invalid_argument(f"{_FIELD}.response_mime_type: allowed mimetypes are "
                               + ", ".join(f"`{m}`" for m in MIME_TYPES[:-1])
                               + f" and `{MIME_TYPES[-1]}`.")
    openapi, plain = config.get("responseSchema"), config.get("responseJsonSchema")
    if openapi is not None and plain is not None:
        raise invalid_argument(f"{_FIELD}: response_schema and response_json_schema cannot "
                               "both be set")
    schema = plain if plain is not None else (
        None if openapi is None else openapi_to_json_schema(openapi))
    if schema is not None and not isinstance(schema, (dict, bool)):
        raise invalid_argument(f"{_FIELD}.response_schema: a schema object is required")
    if schema is not None and mime not in (JSON, ENUM):
        raise invalid_argument(
            f"{_FIELD}.response_mime_type: response_mime_type must be application/json or "
            f"text/x.enum when a response schema is set, got {mime}")
    response_format = ResponseFormat(mime, schema)
    if mime == ENUM and not response_format.enum:
        raise invalid_argument(f"{_FIELD}.response_schema: text/x.enum requires a STRING "
                               "schema with enum values")
    return response_format


def render(response_format: ResponseFormat, text: str, seed: int, user_text: str,
           place: str | None) -> str:
    """The answer text in the requested format (text: what a plain answer would say)."""
    if response_format.mime_type == ENUM:
        values = response_format.enum
        lowered = user_text.lower()
        named = sorted((lowered.find(v.lower()), i) for i, v in enumerate(values)
                       if v and v.lower() in lowered)
        return values[named[0][1]] if named else values[seed % len(values)]
    if response_format.mime_type != JSON:
        return text
    if response_format.schema is None:
        return json.dumps({"answer": text}, ensure_ascii=False)
    return json.dumps(instance(response_format.schema, Hints(seed, place)), ensure_ascii=False)
