"""Deterministic values that are valid under a schema: function-call arguments, JSON answers.

Schemas are JSON Schema here: Gemini's OpenAPI subset (`parameters`, `responseSchema`) is
converted first (openapi_schema), so the generator and the tests, which check every value with
jsonschema, see one dialect. Upper-case type names are still tolerated.

The generator (instance) walks the schema once, never searches, and is deterministic per seed:
    $ref / ref       resolved against the root (#/$defs/..., #/definitions/..., any pointer);
                     one that does not resolve is a 400 when the function is called
    const, enum      the const; the first non-null enum value (the n-th for n-th array items)
    anyOf / oneOf    the first branch that is not plain null, merged with its siblings
    allOf            the branches merged (properties joined, required united)
    type list        the first non-null type; no type: inferred from the keywords present
    object           every property (only required ones beyond depth 4), in propertyOrdering
                     order, then required names without a property; minProperties is met with
                     additionalProperties keys ("key1", ...), maxProperties by dropping optionals
    array            prefixItems, then `items` up to max(minItems, 1) (minItems beyond depth 4),
                     never more than maxItems
    string           format date-time/date/time/email/uri/uuid/hostname/ipv4/ipv6/duration give
                     well-formed values; a property named like a place (city, location, ...)
                     takes Hints.place; otherwise two words from the seed; minLength/maxLength
                     are met (pattern is not attempted)
    integer, number  inside minimum/maximum/exclusive bounds (and multipleOf for integers)
    boolean, null    a seeded boolean; None
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.text import seed_for, words

_OPTIONAL_DEPTH = 4  # deeper than this, only what the schema requires is generated
_HARD_DEPTH = 32  # a schema that requires itself forever gets None here
_PLACE_NAMES = ("city", "location", "place", "town", "destination", "address", "region")


@dataclass(frozen=True)
class Hints:
    """What the generator may borrow from the conversation."""

    seed: int
    place: str | None = None  # a capitalised word after "in " in the user's text


def instance(schema: Any, hints: Hints) -> Any:
    """A deterministic value valid under schema (see the module docstring for the rules)."""
    return _Walk(schema, hints).value(schema, "$", None, 0, 0)


def _is_null(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    kind = schema.get("type")
    return (kind in ("null", "NULL", ["null"]) or ("const" in schema and schema["const"] is None)
            or schema.get("enum") == [None])


def _first_type(kind: Any) -> str | None:
    kinds = kind if isinstance(kind, list) else [kind]
    lowered = [str(k).lower() for k in kinds if k is not None]
    return next((k for k in lowered if k != "null"), "null" if lowered else None)


def _inferred_type(schema: dict[str, Any]) -> str:
    if any(k in schema for k in ("properties", "required", "additionalProperties",
                                 "minProperties")):
        return "object"
    if any(k in schema for k in ("items", "prefixItems", "minItems", "maxItems")):
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
        return "number"
    return "string"


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {**base, **extra}
    if isinstance(base.get("properties"), dict) and isinstance(extra.get("properties"), dict):
        merged["properties"] = {**base["properties"], **extra["properties"]}
    if base.get("required") or extra.get("required"):
        merged["required"] = list(dict.fromkeys([*base.get("required", []),
                                                 *extra.get("required", [])]))
    return merged


def _resolve(root: Any, ref: str) -> Any:
    """The schema a local reference (a JSON pointer into the root) points at."""
    node = root
    try:
        if not ref.startswith("#"):
            raise KeyError(ref)
        for escaped in filter(None, ref[1:].split("/")):
            token = escaped.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
    except (KeyError, IndexError, ValueError, TypeError):
        raise invalid_argument(f"Invalid JSON schema: cannot resolve $ref {ref!r} (only local "
                               "references into the schema are supported)") from None
    return node


def _moment(seed: int) -> tuple[int, int, int, int]:
    return 1 + seed % 12, 1 + seed % 28, seed % 24, seed % 60


def _url(seed: int, text: str) -> str:
    return f"https://example.com/{text.replace(' ', '-')}"


# format -> value from (seed, two seeded words); all well-formed for jsonschema's checkers.
_FORMATS: dict[str, Callable[[int, str], str]] = {
    "date-time": lambda s, w: "2025-{:02d}-{:02d}T{:02d}:{:02d}:00Z".format(*_moment(s)),
    "date": lambda s, w: "2025-{:02d}-{:02d}".format(*_moment(s)[:2]),
    "time": lambda s, w: "{:02d}:{:02d}:00Z".format(*_moment(s)[2:]),
    "email": lambda s, w: f"{w.replace(' ', '.')}@example.com",
    "uri": _url, "url": _url, "uri-reference": _url, "iri": _url,
    "uuid": lambda s, w: str(uuid.UUID(int=(s << 64) | (s * 0x9E3779B97F4A7C15) % (1 << 64),
                                       version=4)),
    "hostname": lambda s, w: f"{w.replace(' ', '-')}.example.com",
    "ipv4": lambda s, w: f"192.0.2.{1 + s % 254}",
    "ipv6": lambda s, w: f"2001:db8::{1 + s % 65535:x}",
    "duration": lambda s, w: f"PT{1 + s % 59}M",
}


class _Walk:
    """One generation: the root (for $ref) and the hints travel with it."""

    def __init__(self, root: Any, hints: Hints) -> None:
        self.root, self.hints = root, hints

    def seed(self, path: str) -> int:
        return seed_for(self.hints.seed, path)

    def value(self, schema: Any, path: str, name: str | None, depth: int, ordinal: int) -> Any:
        if depth > _HARD_DEPTH or schema is False:
            return None
        if not isinstance(schema, dict):  # True or a missing schema: anything goes
            return words(self.seed(path))
        ref = schema.get("$ref", schema.get("ref"))
        if isinstance(ref, str):
            rest = {k: v for k, v in schema.items() if k not in ("$ref", "ref")}
            return self.value(_merge(_resolve(self.root, ref), rest), path, name, depth + 1,
                              ordinal)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            values = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return values[ordinal % len(values)]
        for key in ("anyOf", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                branches = [b for b in schema[key] if not _is_null(b)] or schema[key]
                rest = {k: v for k, v in schema.items() if k != key}
                branch = branches[0] if isinstance(branches[0], dict) else {}
                return self.value(_merge(rest, branch), path, name, depth, ordinal)
        if isinstance(schema.get("allOf"), list):
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for branch in schema["allOf"]:
                if isinstance(branch, dict):
                    ref = branch.get("$ref", branch.get("ref"))
                    merged = _merge(merged, _resolve(self.root, ref) if isinstance(ref, str)
                                    else branch)
            return self.value(merged, path, name, depth, ordinal)
        kind = _first_type(schema.get("type")) or _inferred_type(schema)
        makers = {"null": self._null, "boolean": self._boolean, "integer": self._integer,
                  "number": self._number, "array": self._array, "object": self._object}
        return makers.get(kind, self._string)(schema, path, name, depth, ordinal)

    def _null(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int) -> None:
        return None

    def _boolean(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
                 ) -> bool:
        return (self.seed(path) + ordinal) % 2 == 0

    def _string(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
                ) -> str:
        seed = self.seed(path)
        text = words(seed)
        if schema.get("format") in _FORMATS:
            return _FORMATS[schema["format"]](seed, text)
        place = self.hints.place
        if place and name and any(key in name.lower() for key in _PLACE_NAMES):
            text = place
        low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
        while len(text) < low:
            text += " " + words(seed + len(text), 1)
        if high is not None:
            text = text[: int(high)]
        return text + "x" * (low - len(text))

    def _integer(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
                 ) -> int:
        low, high = _bounds(schema)
        low, high = _whole(low, lower=True), _whole(high, lower=False)
        low, high = _span(low, high, 1, 100)
        step = schema.get("multipleOf")
        seed = self.seed(path) + ordinal
        if isinstance(step, int) and step > 0:
            first = math.ceil(low / step) * step
            count = max(1, (high - first) // step + 1)
            return first + step * (seed % count)
        return low + seed % (high - low + 1)

    def _number(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
                ) -> float | int:
        if isinstance(schema.get("multipleOf"), int):
            return self._integer(schema, path, name, depth, ordinal)
        low, high = _bounds(schema)
        lo, hi = _span(None if low is None else low[0], None if high is None else high[0],
                       0.0, 100.0)
        fraction = 0.1 + (self.seed(path) + ordinal) % 81 / 100  # 0.1 .. 0.9: never a bound
        value = lo + (hi - lo) * fraction
        rounded = round(value, 2)
        return rounded if lo < rounded < hi or (lo == hi == rounded) else value

    def _array(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
               ) -> list:
        prefix = schema.get("prefixItems") or []
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        least = int(schema.get("minItems", 0))
        count = max(least, len(prefix), 1) if depth < _OPTIONAL_DEPTH else least
        if schema.get("maxItems") is not None:
            count = min(count, int(schema["maxItems"]))
        if items is False:
            count = min(count, len(prefix))
        return [self.value(prefix[i] if i < len(prefix) else items, f"{path}[{i}]", name,
                           depth + 1, i) for i in range(count)]

    def _object(self, schema: dict, path: str, name: str | None, depth: int, ordinal: int
                ) -> dict:
        properties = schema.get("properties") or {}
        required = [n for n in schema.get("required") or [] if isinstance(n, str)]
        order = [n for n in schema.get("propertyOrdering") or [] if n in properties]
        names = list(dict.fromkeys([*order, *properties, *required]))
        if depth >= _OPTIONAL_DEPTH:
            names = [n for n in names if n in required]
        most = schema.get("maxProperties")
        if most is not None:
            optional = [n for n in names if n not in required]
            drop = set(optional[max(0, int(most) - (len(names) - len(optional))):])
            names = [n for n in names if n not in drop]
        out = {n: self.value(properties.get(n, True), f"{path}.{n}", n, depth + 1, 0)
               for n in names}
        extra = schema.get("additionalProperties", True)
        while len(out) < int(schema.get("minProperties", 0)) and extra is not False:
            key = f"key{len(out) + 1}"
            out[key] = self.value(extra, f"{path}.{key}", key, depth + 1, 0)
        return out


def _bounds(schema: dict) -> tuple[tuple[float, bool] | None, tuple[float, bool] | None]:
    """(value, exclusive?) of the lower and upper bound, in either draft's spelling."""
    def bound(inclusive: str, exclusive: str) -> tuple[float, bool] | None:
        found = []
        if isinstance(schema.get(inclusive), (int, float)):
            found.append((schema[inclusive], schema.get(exclusive) is True))  # draft 4
        if isinstance(schema.get(exclusive), (int, float)) and not isinstance(
                schema.get(exclusive), bool):
            found.append((schema[exclusive], True))
        if not found:
            return None
        # The tighter bound wins; at a tie the exclusive one.
        if inclusive == "minimum":
            return max(found, key=lambda b: (b[0], b[1]))
        return min(found, key=lambda b: (b[0], not b[1]))
    return bound("minimum", "exclusiveMinimum"), bound("maximum", "exclusiveMaximum")


def _whole(bound: tuple[float, bool] | None, lower: bool) -> int | None:
    """The nearest integer that a (value, exclusive?) bound allows."""
    if bound is None:
        return None
    value, exclusive = bound
    whole = math.ceil(value) if lower else math.floor(value)
    if exclusive and whole == value:
        whole += 1 if lower else -1
    return whole


def _span(low: Any, high: Any, default_low: Any, default_high: Any) -> tuple[Any, Any]:
    """A finite range from optional bounds: 100 wide around whichever bound is given."""
    if low is None and high is None:
        return default_low, default_high
    if low is None:
        return high - (default_high - default_low), high
    if high is None:
        return low, low + (default_high - default_low)
    return low, max(low, high)
