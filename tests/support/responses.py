"""Helpers of the Responses API tests: Responses and stream events checked strictly against
OpenAI's spec and the openai SDK's types (no field either does not know: strict clients and the
conformance checker reject those), the rules a stream keeps across its events, and builders of
Gemini answers and response contexts for the pure translation tests."""
from __future__ import annotations

import functools
import itertools
import json

import openai.types.responses as sdk
import pydantic
from jsonschema import Draft202012Validator

from gemini_proxy.translate.families import family_of
from gemini_proxy.translate.responses.context import response_context
from gemini_proxy.translate.responses.events import ResponseStream
from tests.support import DATA, SPEC_URI, assert_openai, openai_registry

KEY = b"test carrier key"
CREATED, DONE = 1700000000, 1700000003
SIGNATURE = "c2lnbmF0dXJlIG9mIHRoZSBjYWxs"
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
PATCH = {"type": "custom", "name": "apply_patch", "description": "Patch files.",
         "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"}}
TERMINAL = ("response.completed", "response.incomplete", "response.failed")
# Spec-required (ResponseFunctionCallArgumentsDoneEvent.name) but not in SDK 3.57's type: the
# spec wins (the reference note, section 4.2), so the SDK check lets it through.
SDK_GAPS = {("response.function_call_arguments.done", "name")}


@functools.cache
def event_schema_names() -> dict[str, str]:
    """Stream event `type` -> its ResponseStreamEvent variant in OpenAI's spec."""
    schemas = json.loads((DATA / "openai-openapi.json").read_text())["components"]["schemas"]
    names = {}
    for member in schemas["ResponseStreamEvent"].get("anyOf") or schemas["ResponseStreamEvent"]["oneOf"]:
        name = member["$ref"].rsplit("/", 1)[-1]
        kind = schemas[name]["properties"]["type"]
        for value in kind.get("enum") or [kind.get("const")]:
            names[value] = name
    return names


@functools.cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json), registry=openai_registry())


def _flatten(schema: dict, value) -> list[dict]:
    """The schemas that apply to `value`: refs followed, allOf taken, the first matching
    anyOf/oneOf member chosen (as the conformance checker does)."""
    found = [schema]
    if "$ref" in schema:
        ref = schema["$ref"] if schema["$ref"].startswith(SPEC_URI) else SPEC_URI + schema["$ref"]
        found += _flatten(openai_registry().resolver().lookup(ref).contents, value)
    for member in schema.get("allOf", ()):
        found += _flatten(member, value)
    for key in ("anyOf", "oneOf"):
        match = next((m for m in schema.get(key, ()) if _validator(json.dumps(m, sort_keys=True)).is_valid(value)),
                     None)
        if match is not None:
            found += _flatten(match, value)
    return found


def spec_unknown_fields(schema: dict, value, path: str = "$") -> list[str]:
    """The fields of `value` that `schema` (OpenAI's spec) does not name, as JSON paths."""
    parts = _flatten(schema, value)
    unknown = []
    if isinstance(value, dict):
        properties = {}
        for part in parts:
            for name, sub in (part.get("properties") or {}).items():
                properties.setdefault(name, sub)
        open_ = not properties or any(part.get("additionalProperties") not in (None, False) for part in parts)
        for name, sub in value.items():
            if name in properties:
                unknown += spec_unknown_fields(properties[name], sub, f"{path}.{name}")
            elif not open_:
                unknown.append(f"{path}.{name}")
    elif isinstance(value, list):
        items = next((part["items"] for part in parts if isinstance(part.get("items"), dict)), None)
        if items is not None:
            for position, sub in enumerate(value):
                unknown += spec_unknown_fields(items, sub, f"{path}[{position}]")
    return unknown


def sdk_unknown_fields(model, path: str = "$") -> list[str]:
    """Fields the SDK's pydantic types kept as extras (fields it does not know)."""
    unknown = []
    if isinstance(model, pydantic.BaseModel):
        unknown += [f"{path}.{name}" for name in (model.model_extra or {})]
        for name in type(model).model_fields:
            unknown += sdk_unknown_fields(getattr(model, name), f"{path}.{name}")
    elif isinstance(model, (list, tuple)):
        for position, sub in enumerate(model):
            unknown += sdk_unknown_fields(sub, f"{path}[{position}]")
    return unknown


def assert_strict(component: str, sdk_type, value, gaps: frozenset = frozenset()) -> None:
    """`value` is valid against OpenAI's `component` and neither the spec nor the SDK finds a
    field in it that it does not know (but the `gaps`)."""
    assert_openai(component, value)
    assert spec_unknown_fields({"$ref": f"#/components/schemas/{component}"}, value) == []
    parsed = pydantic.TypeAdapter(sdk_type).validate_python(value)
    assert [f for f in sdk_unknown_fields(parsed) if f not in gaps] == []


def assert_response(response: dict) -> None:
    """A valid Response that no strict client would reject."""
    assert_strict("Response", sdk.Response, response)
    for never in ("store", "output_text", "user"):
        if never != "user" or response.get("user") is None:
            assert never not in response


def assert_event(event: dict) -> None:
    """A valid stream event of its ResponseStreamEvent variant that no strict client would reject."""
    gaps = frozenset(f"$.{name}" for kind, name in SDK_GAPS if kind == event["type"])
    assert_strict(event_schema_names()[event["type"]], sdk.ResponseStreamEvent, event, gaps)


def assert_events(events: list[dict]) -> None:
    for event in events:
        assert_event(event)


def assert_stream(events: list[dict], terminal: str = "response.completed") -> dict:
    """The rules OpenAI's stream keeps across its events (the conformance checker's and the SDK
    stream helper's): numbering, lifecycle, one item open at a time, deltas adding up to what each
    item ends with. Returns the final Response."""
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    kinds = [event["type"] for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == terminal
    assert sum(kind in TERMINAL for kind in kinds) == 1
    lifecycle = [event["response"] for event in events if "response" in event]
    assert {response["id"] for response in lifecycle} == {lifecycle[0]["id"]}
    assert lifecycle[0]["status"] == "in_progress"
    assert lifecycle[0]["output"] == []
    done, open_ = [], None
    for event in events[2:-1]:
        kind, index = event["type"], event.get("output_index")
        if kind == "response.output_item.added":
            assert open_ is None, "an item was opened before the previous one was done"
            assert index == len(done)
            open_ = {"item": event["item"], "text": "", "args": "", "parts": 0, "summary_parts": 0}
            assert event["item"].get("status") in (None, "in_progress")
            continue
        assert open_ is not None, f"{kind} outside an open item"
        assert index == len(done), f"{kind} for another item than the open one"
        if kind != "response.output_item.done":
            assert event["item_id"] == open_["item"]["id"]
        if kind == "response.content_part.added":
            open_["parts"] += 1
        elif kind in ("response.output_text.delta", "response.reasoning_summary_text.delta"):
            assert open_["parts"] or open_["summary_parts"], "a delta before its part was added"
            open_["text"] += event["delta"]
        elif kind in ("response.output_text.done", "response.reasoning_summary_text.done"):
            assert event["text"] == open_["text"]
        elif kind in ("response.content_part.done", "response.reasoning_summary_part.done"):
            assert event["part"]["text"] == open_["text"]
        elif kind == "response.reasoning_summary_part.added":
            open_["summary_parts"] += 1
        elif kind in ("response.function_call_arguments.delta", "response.custom_tool_call_input.delta"):
            open_["args"] += event["delta"]
        elif kind == "response.function_call_arguments.done":
            assert (event["arguments"], event["name"]) == (open_["args"], open_["item"]["name"])
        elif kind == "response.custom_tool_call_input.done":
            assert event["input"] == open_["args"]
        elif kind == "response.output_item.done":
            _assert_item_done(event["item"], open_)
            done.append(event["item"])
            open_ = None
    final = events[-1]["response"]
    if terminal != "response.failed":
        assert open_ is None
        assert final["output"] == done  # the final Response holds exactly the items streamed
        assert isinstance(final["usage"]["total_tokens"], int)
    return final


def assert_served_stream(events: list[dict], terminal: str = "response.completed") -> dict:
    """A stream as a client got it: each event strictly valid and the stream's rules kept (the
    per-event check is slow: the pure tests of many streams check the rules alone). Returns the
    final Response."""
    assert_events(events)
    return assert_stream(events, terminal)


def _assert_item_done(item: dict, opened: dict) -> None:
    """An item ends as it was opened, holding what its deltas streamed."""
    assert (item["type"], item["id"], item.get("call_id")) == (
        opened["item"]["type"], opened["item"]["id"], opened["item"].get("call_id"))
    if item["type"] == "message":
        assert [part["text"] for part in item["content"]] == [opened["text"]]
    elif item["type"] == "reasoning" and opened["summary_parts"]:
        assert item["summary"] == [{"type": "summary_text", "text": opened["text"]}]
    elif item["type"] == "function_call":
        assert (item["arguments"], item["status"]) == (opened["args"], "completed")
    elif item["type"] == "custom_tool_call":
        assert item["input"] == opened["args"]


def named_events(raw: bytes) -> list[dict]:
    """The events of a Responses stream, asserting its framing: `event: <type>` then one
    `data:` line, a blank line after each, no [DONE]."""
    text = raw.decode()
    assert text.endswith("\n\n")
    events = []
    for block in text[:-2].split("\n\n"):
        name, data = block.split("\n")
        assert name.startswith("event: "), block
        assert data.startswith("data: "), block
        event = json.loads(data[len("data: "):])
        assert event["type"] == name[len("event: "):]
        events.append(event)
    return events


def ids():
    """A new_id that numbers ids in the order they are asked for (so two runs compare)."""
    counter = itertools.count()
    return lambda prefix: f"{prefix}_{next(counter):024d}"


def context(body=None, model="gemini-2.5-flash", **fields):
    """The ResponseContext of a request `body` (a small default one), with `fields` replaced."""
    body = {"model": "gpt-4o-mini", "input": "hi", **(body or {})}
    built = response_context(body, response_id="resp_" + "a" * 32, created_at=CREATED, family=family_of(model),
                             carrier_key=KEY, new_id=ids(), clock=lambda: DONE + 0.7)
    return built.__class__(**{**built.__dict__, **fields})


def answer(*parts, finish="STOP", usage=None, **candidate):
    """A Gemini answer (SDK field names) of one candidate with these parts."""
    usage = usage or {"prompt_token_count": 10, "candidates_token_count": 5, "total_token_count": 15}
    return {"candidates": [{"content": {"role": "model", "parts": list(parts)}, "finish_reason": finish, "index": 0,
                            **candidate}], "usage_metadata": usage}


def call(name, args, signature=None, gemini_id=None):
    """A Gemini function_call part, with its thought signature if given."""
    part = {"function_call": {"name": name, "args": args, **({"id": gemini_id} if gemini_id else {})}}
    return {**part, "thought_signature": signature} if signature else part


def run_stream(chunks, body=None, model="gemini-2.5-flash"):
    """(events, stream) of a whole stream: start, each chunk, close."""
    stream = ResponseStream(context(body, model))
    events = stream.start()
    for chunk in chunks:
        events += stream.events_from(chunk)
    return events + stream.close(), stream


def unstreamed(chunks) -> dict:
    """The unstreamed answer of a stream: its parts joined (adjacent text of one kind merged, as
    Gemini's own answer has it), the last finish reason, usage and grounding."""
    parts, finish, usage, grounding = [], None, None, None
    for chunk in chunks:
        usage = chunk.get("usage_metadata") or usage
        for candidate in chunk.get("candidates") or ():
            finish = candidate.get("finish_reason") or finish
            grounding = candidate.get("grounding_metadata") or grounding
            for part in (candidate.get("content") or {}).get("parts") or ():
                last = parts[-1] if parts else {}
                if "text" in part and "text" in last and bool(part.get("thought")) == bool(last.get("thought")):
                    parts[-1] = {**last, **part, "text": last["text"] + part["text"]}
                else:
                    parts.append(dict(part))
    candidate = {"content": {"role": "model", "parts": parts}, "finish_reason": finish, "index": 0}
    if grounding:
        candidate["grounding_metadata"] = grounding
    return {"candidates": [candidate], "usage_metadata": usage}
