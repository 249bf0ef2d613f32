"""JSON from clients, parsed strictly and within a nesting limit.

Python's json module recurses once per level of nesting, and so does code that walks what it
returns (schema cleaning, the SDK, log formatting): a body nested a thousand levels deep ends
in a RecursionError, a 500. Everything a client sends as JSON (the body, tool call arguments,
tool results) is parsed here and refused when it is nested deeper than a limit, so nothing
after it comes near Python's recursion limit.

Python also takes what JSON does not have or what is not text: NaN and Infinity (also as
1e999), and "\\ud800" escapes (or UTF-8-encoded surrogates) that leave a lone UTF-16 surrogate
in a string. They are refused
here: a lone surrogate cannot be encoded as UTF-8, so echoing it (a completion's `echo`) failed
while the response was written, and Gemini would refuse the others later, less clearly.
"""
from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

# A \uD800-\uDFFF escape: only text that has one is searched for a lone surrogate. (A pattern
# that starts with a literal is searched at C speed; one that also looked for surrogate
# characters was ten times slower than json.loads on large bodies.)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# orjson makes an integer beyond 64 bits a float: one this large may have been such an integer.
_INEXACT = float(2**63)


class JsonRefused(ValueError):
    """Text that is not JSON this gateway takes; the message is safe to show to the client."""


class LoneSurrogate(JsonRefused):
    def __init__(self, path: list):
        super().__init__("it has a lone UTF-16 surrogate (a \\uD800-\\uDFFF escape without its pair), "
                         "which is not text")
        self.path = path  # where, as keys and indexes


class JsonTooDeep(JsonRefused):
    def __init__(self, max_depth: int):
        super().__init__(f"it is nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def _constant(name: str):
    raise JsonRefused(f"it is not valid JSON ({name} is not a JSON value)")


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise JsonRefused(f"it is not valid JSON (the number {text[:40]} is out of range)")
    return value


_UNSURE = object()


def _quick(data: bytes, max_depth: int) -> Any:
    """orjson's parse (several times faster) of what it takes exactly as loads() would: UTF-8,
    strict JSON, no lone surrogate, no infinite number. _UNSURE for what it refuses and for a
    float it may have made of an integer beyond 64 bits: loads() parses those itself (and
    refuses the bad ones in its own words)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return _UNSURE
    problem = _past_limit(value, max_depth, huge_floats=True)
    if problem == "deep":
        raise JsonTooDeep(max_depth)
    return _UNSURE if problem else value


def loads(data: str | bytes, max_depth: int) -> Any:
    """Parse `data`, or raise JsonRefused: not strict JSON, a lone surrogate, or (JsonTooDeep)
    nested deeper than `max_depth` levels (a bare value is depth 0, `{}` and `[]` 1, `[[]]` 2)."""
    if isinstance(data, bytes):
        if (value := _quick(data, max_depth)) is not _UNSURE:
            return value
        # Decoded here, strictly: json.loads would let UTF-8-encoded surrogates through.
        try:
            data = data.decode(json.detect_encoding(data))
        except UnicodeDecodeError:
            raise JsonRefused("it is not valid JSON (not UTF-8 text)") from None
    elif not _is_text(data):
        raise LoneSurrogate([])
    try:
        value = json.loads(data, parse_constant=_constant, parse_float=_finite)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    except json.JSONDecodeError as exc:
        raise JsonRefused(f"it is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except JsonRefused:
        raise
    except ValueError:
        # An integer of more digits than Python converts.
        raise JsonRefused("it is not valid JSON") from None
    if nested_deeper_than(value, max_depth):
        raise JsonTooDeep(max_depth)
    if _SURROGATE_ESCAPE.search(data) and (path := lone_surrogate_at(value)) is not None:
        raise LoneSurrogate(path)
    return value


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether `value` has objects or arrays nested more than `limit` levels deep.

    Level by level, without recursion: every value is looked at once, and the walk stops at
    the first level past the limit. Its cost is measured in docs/fuzzing.md."""
    return _past_limit(value, limit, huge_floats=False) == "deep"


def _past_limit(value: Any, limit: int, huge_floats: bool) -> str | None:
    """"deep" when nested deeper than `limit`; with `huge_floats`, "huge" at a float of 2**63 or more."""
    if huge_floats and type(value) is float and abs(value) >= _INEXACT:
        return "huge"
    level = [value] if type(value) is dict or type(value) is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return "deep"
        below = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                kind = type(child)
                if kind is dict or kind is list:
                    below.append(child)
                elif huge_floats and kind is float and abs(child) >= _INEXACT:
                    return "huge"
        level = below
    return None


def lone_surrogate_at(value: Any) -> list | None:
    """The path (keys and indexes) to the first string holding a lone surrogate (json.loads
    joins a proper pair into one character, so any surrogate left is alone), or None. For a
    key, the path of the object that has it: the path never contains the surrogate itself."""
    stack: list[tuple[Any, list]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if type(node) is str:
            if not _is_text(node):
                return path
        elif type(node) is dict:
            if not all(_is_text(key) for key in node):
                return path
            stack.extend((child, [*path, key]) for key, child in reversed(node.items()))
        elif type(node) is list:
            stack.extend((child, [*path, index]) for index, child in reversed(list(enumerate(node))))
    return None


def _is_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
