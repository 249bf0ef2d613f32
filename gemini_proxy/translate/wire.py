"""The google-genai SDK's snake_case dicts <-> Gemini's REST JSON (camelCase).

translate/ speaks the SDK's field names; the upstream boundary sends Gemini's REST JSON through
the SDK's HTTP client. These two walks replace the SDK's pydantic models on the hot path: on
every request they cost more than all of the gateway's own work (measured with cProfile).
User data (function arguments and results, JSON Schemas) is copied untouched: its keys are
the client's, not Gemini's.
"""
from __future__ import annotations

import base64
import functools
import re
from typing import Any

# Keys whose values are user data, in either spelling.
USER_DATA = frozenset({
    "args", "response", "parameters_json_schema", "parametersJsonSchema", "response_json_schema",
    "responseJsonSchema", "response_schema", "responseSchema", "parameters",
})
# GenerateContentConfig fields that are request fields, not generationConfig, on the wire.
TOP_LEVEL = frozenset({"system_instruction", "tools", "tool_config", "safety_settings", "cached_content",
                       "service_tier"})
_CAMEL = re.compile(r"_([a-z])")
_SNAKE = re.compile(r"(?<!^)(?=[A-Z])")
_NESTED = (dict, list)  # what JSON nests (json.loads and orjson make exactly these types)


@functools.lru_cache(maxsize=1024)
def _camel(key: str) -> str:
    return _CAMEL.sub(lambda m: m.group(1).upper(), key)


@functools.lru_cache(maxsize=1024)
def snake_case(key: str) -> str:
    """thinkingBudget -> thinking_budget (Gemini's REST name -> the SDK's). Cached: every chunk of every
    answer brings the same few dozen field names."""
    return _SNAKE.sub("_", key).lower()


def _to_rest(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel(k): v if k in USER_DATA else _to_rest(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_rest(item) for item in value]
    if isinstance(value, bytes):
        # URL-safe, as the SDK sends bytes (Gemini reads either alphabet); Google's stand-in
        # signature is written so that it reads as its own name in this alphabet.
        return base64.urlsafe_b64encode(value).decode()
    return value


def rest_request(contents: list[dict], config: dict) -> dict:
    """The generateContent body for SDK-shaped contents and GenerateContentConfig fields."""
    body = {"contents": _to_rest(contents)}
    generation = {}
    for key, value in config.items():
        if key in TOP_LEVEL:
            body[_camel(key)] = _to_rest(value)
        else:
            generation[_camel(key)] = value if key in USER_DATA else _to_rest(value)
    if generation:
        body["generationConfig"] = generation
    return body


def rest_names(value: Any) -> Any:
    """SDK-named dicts (an answer's groundingMetadata...) with Gemini's REST field names."""
    return _to_rest(value)


def sdk_names(value: Any) -> Any:
    """Gemini's REST JSON with the SDK's field names (what translate/ reads). Strings and numbers are
    taken as they are, without a call each: every chunk of every answer is walked."""
    if isinstance(value, dict):
        return {snake_case(k): sdk_names(v) if type(v) in _NESTED and k not in USER_DATA else v
                for k, v in value.items()}
    if isinstance(value, list):
        return [sdk_names(item) if type(item) in _NESTED else item for item in value]
    return value
