"""Shared test helpers: recorded traffic and OpenAI's official response schemas."""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator
from marshmallow import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gemini_proxy.config import Settings
from gemini_proxy.schemas.fields import INT32_MAX, INT32_MIN, StrictInteger

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
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
        assert block.startswith("data: "), f"bad SSE event: {block!r}"
        assert "\n" not in block, f"bad SSE event: {block!r}"
        events.append(block[len("data: "):])
    return events


def collect(items, into: list) -> None:
    """Appends each item as it comes, so that what came before a failure stays in `into` (read a
    stream that must fail part-way inside `pytest.raises(...)`, then check what came first)."""
    for item in items:
        into.append(item)


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
def openai_registry() -> Registry:
    """OpenAI's component schemas (nullable made JSON Schema), under SPEC_URI."""
    spec = json.loads((DATA / "openai-openapi.json").read_text())
    doc = {"components": _nullable_to_union(spec["components"])}
    return Registry().with_resource(SPEC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))


@functools.cache
def openai_validator(component: str) -> Draft202012Validator:
    """A validator for one of OpenAI's component schemas, e.g. CreateChatCompletionResponse."""
    return Draft202012Validator({"$ref": f"{SPEC_URI}#/components/schemas/{component}"}, registry=openai_registry())


def assert_openai(component: str, body) -> None:
    errors = sorted(openai_validator(component).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{component}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])


def _integer_fields(schema, where=""):
    for name, field in schema.fields.items():
        inner = getattr(field, "inner", None) or field
        nested = getattr(inner, "schema", None)
        if isinstance(inner, StrictInteger):
            yield f"{where}{name}", inner
        elif nested is not None and hasattr(nested, "fields"):
            yield from _integer_fields(nested, f"{where}{name}.")


def assert_int32_bounds(schema) -> set[str]:
    """Every integer field of a request schema (nested ones too) has a Range within int32, as
    Gemini's int32 fields need; returns their names ("action.timeout_ms")."""
    found = list(_integer_fields(schema))
    for name, field in found:
        ranges = [v for v in field.validators if isinstance(v, validate.Range)]
        assert ranges, f"{name} has no Range"
        assert all(r.min is not None and r.max is not None and INT32_MIN <= r.min <= r.max <= INT32_MAX
                   for r in ranges), f"{name}: {ranges}"
    return {name for name, _ in found}


FAULTS_DOC = ROOT / "docs" / "faults.md"


@dataclass(frozen=True)
class FaultCase:
    """One cell of docs/faults.md's fault matrix: a directive, streamed or not, and what the
    client must get."""
    directive: str
    stream: bool
    status: int  # 200 for an answer and for a stream that started then failed
    error_event: bool  # a stream that started, then an error event and [DONE]
    type: str | None
    code: str | None
    calls: int  # requests that reached Gemini
    also: str

    @property
    def id(self) -> str:
        return f"{self.directive.removeprefix('[emulator ').removesuffix(']')}-{'stream' if self.stream else 'plain'}"

    @property
    def retry_after(self) -> str | None:
        found = re.search(r"Retry-After: (\d+)", self.also)
        return found.group(1) if found else None

    @property
    def finish_reason(self) -> str | None:
        found = re.search(r"finish_reason: (\w+)", self.also)
        return found.group(1) if found else None


def _cell(text: str) -> str | None:
    return None if text == "—" else text.strip("`")


def fault_matrix() -> list[FaultCase]:
    """The fault matrix of docs/faults.md, one case per row and mode (the docs are the table)."""
    text = FAULTS_DOC.read_text()
    table = text.split("<!-- fault-matrix", 1)[1].split("<!-- /fault-matrix -->", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")][2:]
    cases = []
    for row in rows:
        directive, modes, gets, type_, code, calls, also = [cell.strip() for cell in row.strip().strip("|").split("|")]
        event = gets == "200 + error event"
        assert event or gets.isdigit(), f"docs/faults.md: bad 'Client gets' {gets!r}"
        assert modes in ("both", "plain", "stream"), f"docs/faults.md: bad 'Request' {modes!r}"
        for stream in (False, True):
            if modes == "both" or modes == ("stream" if stream else "plain"):
                cases.append(FaultCase(directive.strip("`"), stream, 200 if event else int(gets), event,
                                       _cell(type_), _cell(code), int(calls), also))
    return cases


def assert_fault_outcome(case: FaultCase, status: int, headers, raw: bytes) -> None:
    """What the client got (status, headers, whole body) is what the case says."""
    assert status == case.status, raw[:500]
    if case.error_event:
        events = sse_events(raw)
        assert events[-1] == "[DONE]"
        error = json.loads(events[-2])
        assert_openai("ErrorResponse", error)
        assert (error["error"]["type"], error["error"]["code"]) == (case.type, case.code)
        assert all("error" not in json.loads(event) for event in events[:-2])
        assert events[:-2], "an error event without any chunk before it should have been a status"
    elif status == 200:
        if case.stream:
            events = sse_events(raw)
            assert events[-1] == "[DONE]"
            chunks = [json.loads(event) for event in events[:-1]]
            assert not any("error" in chunk for chunk in chunks)
            finishes = [choice["finish_reason"] for chunk in chunks for choice in chunk["choices"]
                        if choice["finish_reason"]]
        else:
            body = json.loads(raw)
            assert_openai("CreateChatCompletionResponse", body)
            finishes = [choice["finish_reason"] for choice in body["choices"]]
        assert len(finishes) == 1
        assert finishes[0] == (case.finish_reason or "stop")
    else:
        body = json.loads(raw)
        assert_openai("ErrorResponse", body)
        assert (body["error"]["type"], body["error"]["code"]) == (case.type, case.code)
        assert headers.get("Retry-After") == case.retry_after


def gateway_settings(emulator, **overrides) -> Settings:
    """Settings of a test app in front of `emulator`: no retries, no signature or response file."""
    return Settings(**{"gemini_base_url": emulator.url, "upstream_retries": 0, "signature_db": "", "responses_db": "",
                       **overrides})


def byte_span(text: str, piece: str, **extra) -> dict:
    """Gemini's grounding segment for `piece` of `text`: offsets in UTF-8 bytes, 0 left out as proto3 does."""
    start = text.encode().index(piece.encode())
    segment = {"end_index": start + len(piece.encode()), "text": piece, **extra}
    if start:
        segment["start_index"] = start
    return segment
