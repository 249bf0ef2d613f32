"""JSON as bytes, for what the gateway sends: answers, stream events, stored records; and as
text, for its log lines.

orjson is several times faster than the standard library, and these encodings are on every
answer's path (every chunk of a stream). Its output is what the standard library gives with
`ensure_ascii=False, separators=(",", ":")` (floats may be spelled differently, 1e-7 for 1e-07);
what orjson refuses (integers beyond 64 bits, say in a tool's JSON schema; keys that are not
strings) goes to the standard library.
"""
from __future__ import annotations

import json
from typing import Any

import orjson


def json_bytes(value: Any) -> bytes:
    try:
        return orjson.dumps(value)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def json_text(value: Any) -> str:
    """A log line's JSON: what JSON has no type for (an exception, a path) written as its str()."""
    try:
        return orjson.dumps(value, default=str).decode()
    except (orjson.JSONEncodeError, TypeError):
        return json.dumps(value, ensure_ascii=False, default=str)
