"""Shared test helpers: recorded traffic and OpenAI's official response schemas."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DATA = Path(__file__).parent / "data"
RECORDINGS = DATA / "recordings"
SPEC_URI = "urn:openai-openapi"


def recorded_gemini(name: str) -> list[dict]:
    """The Gemini responses of a recording: one for JSON, one per event for SSE."""
    text = (RECORDINGS / "gemini" / name).read_text()
    if text.lstrip().startswith("data:"):
        return [json.loads(line[len("data:"):]) for line in text.splitlines() if line.startswith("data:")]
    body = json.loads(text)
    return body if isinstance(body, list) else [body]


def sse_events(raw: bytes) -> list[str]:
    """The data of each SSE event, asserting OpenAI's framing (data: lines, blank-line ends)."""
    text = raw.decode()
    assert text.endswith("\n\n"), "stream does not end with a blank line"
    events = []
    for block in text[:-2].split("\n\n"):
        assert block.startswith("data: ") and "\n" not in block, f"bad SSE event: {block!r}"
        events.append(block[len("data: "):])
    return events


def _nullable_to_union(node):
    """OpenAI's 3.1 document still says `nullable: true` (3.0 style); JSON Schema ignores it."""
    if isinstance(node, list):
        return [_nullable_to_union(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_to_union(value) for key, value in node.items()}
    if isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        node["$ref"] = SPEC_URI + node["$ref"]
    if node.pop("nullable", False) is True:
        if "$ref" in node:
            node = {"anyOf": [{"$ref": node.pop("$ref")}, {"type": "null"}], **node}
        elif "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            node["type"] = [*types, "null"] if "null" not in types else types
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        elif "anyOf" in node or "oneOf" in node:
            key = "anyOf" if "anyOf" in node else "oneOf"
            node[key] = [*node[key], {"type": "null"}]
    return node


@functools.cache
def _registry() -> Registry:
    spec = json.loads((DATA / "openai-openapi.json").read_text())
    doc = {"components": _nullable_to_union(spec["components"])}
    return Registry().with_resource(SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))


@functools.cache
def openai_validator(component: str) -> Draft202012Validator:
    """A validator for one of OpenAI's component schemas, e.g. CreateChatCompletionResponse."""
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{component}"}, registry=_registry())


def assert_openai(component: str, body) -> None:
    errors = sorted(openai_validator(component).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{component}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
