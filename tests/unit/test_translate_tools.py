"""Tools, tool history, thought signatures, structured output, reasoning and logprobs."""
import base64
import json

import pytest

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError
from gemini_proxy.relay import chat_model
from gemini_proxy.schemas import ChatCompletionSchema, load
from gemini_proxy.translate.chat import (
    AnswerContext,
    RequestDefaults,
    completion_from_response,
    gemini_request,
    logprobs_from,
)
from gemini_proxy.translate.families import family_of
from gemini_proxy.translate.messages import DUMMY_SIGNATURE
from gemini_proxy.translate.schema import sanitize
from gemini_proxy.translate.stream import ChatStream
from gemini_proxy.translate.tools import tool_config
from gemini_proxy.upstream.client import response_from_wire
from tests.support import RECORDINGS, assert_openai, recorded_gemini

SCHEMA = ChatCompletionSchema(max_messages=100)
SETTINGS = Settings()
DEFAULTS = RequestDefaults()
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city", "strict": True,
                                            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                           "required": ["city"], "additionalProperties": False}}}


def ids():
    counter = iter(range(1000))
    return lambda: f"call_{next(counter)}"


def translated(body, defaults=DEFAULTS, **looked_up):
    """The Gemini request for a loaded body, its model named as the views resolve it."""
    return gemini_request(body, chat_model(SETTINGS, body.get("model")), defaults, **looked_up)


def request(**fields):
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], **fields}
    return translated(load(SCHEMA, body))


def answer(**fields):
    return AnswerContext(completion_id="chatcmpl-t", created=1, model="m", new_call_id=ids(), **fields)


# --- JSON Schema for Gemini -------------------------------------------------------------

@pytest.mark.parametrize("schema, expected, report", [
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False},
     {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False}, []),
    ({"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"}, {"type": "string"}, ["$.$schema"]),
    ({"type": "string", "format": "email"}, {"type": "string"}, ["$.format"]),
    ({"type": "string", "format": "date-time"}, {"type": "string", "format": "date-time"}, []),
    ({"oneOf": [{"type": "string"}, {"type": "null"}]}, {"anyOf": [{"type": "string"}, {"type": "null"}]},
     ["$.oneOf (as anyOf)"]),
    ({"const": "x"}, {"enum": ["x"]}, ["$.const (as enum)"]),
    ({"type": ["string", "null"], "default": "a", "examples": ["b"]}, {"type": ["string", "null"]},
     ["$.default", "$.examples"]),
    ({"properties": {"p": {"$ref": "#/definitions/P"}},
      "definitions": {"P": {"type": "integer", "exclusiveMinimum": 0}}},
     {"properties": {"p": {"$ref": "#/$defs/P"}}, "$defs": {"P": {"type": "integer"}}},
     ["$.definitions (as $defs)", "$.$defs.P.exclusiveMinimum"]),
    ({"allOf": [{"$ref": "#/$defs/A"}], "description": "d"}, {"anyOf": [{"$ref": "#/$defs/A"}], "description": "d"},
     ["$.allOf (as anyOf)"]),
    ({"type": "array", "items": {"type": "object", "patternProperties": {"^x": {}}}, "uniqueItems": True},
     {"type": "array", "items": {"type": "object"}}, ["$.items.patternProperties", "$.uniqueItems"]),
])
def test_schemas_are_cleaned_for_gemini_and_changes_reported(schema, expected, report):
    found: list[str] = []
    original = json.dumps(schema)
    assert sanitize(schema, "$", found) == expected
    assert sorted(found) == sorted(report)
    assert json.dumps(schema) == original, "the client's schema must not be modified"


def test_property_names_are_never_mistaken_for_keywords():
    schema = {"type": "object", "properties": {"format": {"type": "string"}, "default": {"type": "integer"}}}
    found: list[str] = []
    assert sanitize(schema, "$", found) == schema
    assert found == []


# --- tools ---------------------------------------------------------------------------------

def test_tools_become_function_declarations_with_their_json_schema():
    gemini = request(tools=[WEATHER])
    (declaration,) = gemini.config["tools"][0]["function_declarations"]
    assert declaration == {"name": "get_weather", "description": "Weather for a city",
                           "parameters_json_schema": WEATHER["function"]["parameters"]}
    assert "tool_config" not in gemini.config
    assert gemini.dropped == ()


@pytest.mark.parametrize("choice, expected", [
    ("none", {"mode": "NONE"}), ("auto", {"mode": "AUTO"}), ("required", {"mode": "ANY"}),
    ({"type": "function", "function": {"name": "get_weather"}},
     {"mode": "ANY", "allowed_function_names": ["get_weather"]}),
])
def test_tool_choice_maps_to_function_calling_mode(choice, expected):
    assert tool_config(choice) == {"function_calling_config": expected}
    assert request(tools=[WEATHER], tool_choice=choice).config["tool_config"] == {"function_calling_config": expected}


def test_dropped_schema_keywords_are_reported_with_their_param_path():
    tool = {"type": "function", "function": {"name": "f", "parameters": {
        "$schema": "x", "type": "object", "properties": {"email": {"type": "string", "format": "email"}}}}}
    assert request(tools=[tool]).dropped == ("tools[0].function.parameters.$schema",
                                             "tools[0].function.parameters.properties.email.format")


CALL = {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
CALL_B = {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}


def history(*messages, model="gemini-2.5-flash", signatures=None):
    body = load(SCHEMA, {"model": model, "messages": [{"role": "user", "content": "weather and time?"}, *messages]})
    return translated(body, signatures=signatures or {})


def test_tool_history_becomes_function_call_and_grouped_response_turns():
    gemini = history({"role": "assistant", "content": None, "tool_calls": [CALL, CALL_B]},
                     {"role": "tool", "tool_call_id": "call_a", "content": '{"temperature_c": 21}'},
                     {"role": "tool", "tool_call_id": "call_b", "content": "noon"})
    assert gemini.contents[1:] == [
        {"role": "model", "parts": [{"function_call": {"name": "get_weather", "args": {"city": "Paris"}}},
                                    {"function_call": {"name": "get_time", "args": {}}}]},
        {"role": "user", "parts": [{"function_response": {"name": "get_weather", "response": {"temperature_c": 21}}},
                                   {"function_response": {"name": "get_time", "response": {"result": "noon"}}}]},
    ]


@pytest.mark.parametrize("messages, param", [
    ([{"role": "tool", "tool_call_id": "call_zzz", "content": "1"}], "messages[1].tool_call_id"),
    ([{"role": "assistant", "content": None,
       "tool_calls": [{**CALL, "function": {"name": "f", "arguments": "{not json"}}]}],
     "messages[1].tool_calls[0].function.arguments"),
    ([{"role": "assistant", "content": None,
       "tool_calls": [{**CALL, "function": {"name": "f", "arguments": "[1, 2]"}}]}],
     "messages[1].tool_calls[0].function.arguments"),
])
def test_invalid_tool_histories_are_refused_by_param(messages, param):
    with pytest.raises(ApiError) as caught:
        history(*messages)
    assert caught.value.status == 400
    assert caught.value.param == param


def _first_call_part(gemini):
    return next(p for c in gemini.contents for p in c["parts"] if "function_call" in p)


def test_thought_signatures_come_back_from_the_store_or_extra_content():
    signature = base64.b64encode(b"opaque-signature").decode()
    from_store = history({"role": "assistant", "content": None, "tool_calls": [CALL]}, signatures={"call_a": signature})
    assert _first_call_part(from_store)["thought_signature"] == b"opaque-signature"
    google_style = {**CALL, "extra_content": {"google": {"thought_signature": signature}}}
    from_client = history({"role": "assistant", "content": None, "tool_calls": [google_style]})
    assert _first_call_part(from_client)["thought_signature"] == b"opaque-signature"


def test_unknown_signature_is_the_documented_stand_in_only_where_required():
    call_turn = {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert "thought_signature" not in _first_call_part(history(call_turn))
    gemini3 = _first_call_part(history(call_turn, model="gemini-3-pro-preview"))
    assert base64.urlsafe_b64encode(gemini3["thought_signature"]) == b"skip_thought_signature_validator"
    assert gemini3["thought_signature"] == DUMMY_SIGNATURE


def test_recorded_two_turn_exchange_keeps_the_signature():
    """Gemini's recorded call (with its signature) goes out as an OpenAI tool call; the
    client's next turn, which knows nothing of signatures, goes back to Gemini with it."""
    (call_chunk,) = recorded_gemini("streaming_function_calling/response_0.json")
    stream = ChatStream(answer())
    chunks = stream.chunks_from(response_from_wire(call_chunk)) + stream.close()
    store = stream.take_signatures()
    (delta,) = [c["choices"][0]["delta"]["tool_calls"][0] for c in chunks if c["choices"][0]["delta"].get("tool_calls")]
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "tool_calls"
    recorded_turn = json.loads((RECORDINGS / "gemini/streaming_function_calling/request_1.json").read_text())
    result = recorded_turn["contents"][2]["parts"][0]["function_response"]["response"]
    follow_up = load(SCHEMA, {"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": recorded_turn["contents"][0]["parts"][0]["text"]},
        {"role": "assistant", "content": None, "tool_calls": [{k: delta[k] for k in ("id", "type", "function")}]},
        {"role": "tool", "tool_call_id": delta["id"], "content": json.dumps(result, ensure_ascii=False)},
    ]})
    gemini = translated(follow_up, signatures=store)
    signature = call_chunk["candidates"][0]["content"]["parts"][0]["thoughtSignature"]
    model_turn, result_turn = gemini.contents[1], gemini.contents[2]
    assert model_turn["parts"][0]["thought_signature"] == base64.b64decode(signature)
    recorded_call = call_chunk["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert model_turn["parts"][0]["function_call"] == recorded_call
    assert recorded_call["name"] == recorded_turn["contents"][1]["parts"][0]["function_call"]["name"]
    assert result_turn["parts"][0]["function_response"] == recorded_turn["contents"][2]["parts"][0]["function_response"]


# --- answers with tool calls ------------------------------------------------------------------

def test_function_call_answer_is_an_openai_tool_call():
    (response,) = recorded_gemini("function_calling/response.json")
    signatures = {}
    body = completion_from_response(response_from_wire(response), answer(), signatures)
    assert_openai("CreateChatCompletionResponse", body)
    message = body["choices"][0]["message"]
    assert message["content"] is None
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert message["tool_calls"] == [{"id": "call_0", "type": "function",
                                      "function": {"name": "search", "arguments": '{"query": "weather in Tokyo"}'}}]
    recorded = json.loads((RECORDINGS / "openai/function_calling/response.json").read_text())
    assert set(recorded["choices"][0]["message"]["tool_calls"][0]) == set(message["tool_calls"][0])


PARALLEL = {"candidates": [{"content": {"parts": [
    {"function_call": {"name": "a", "args": {"x": 1}}, "thought_signature": "c2ln"},
    {"function_call": {"name": "b", "args": {}}}]}, "index": 0}]}


def test_parallel_calls_keep_order_and_parallel_tool_calls_false_keeps_the_first():
    signatures = {}
    finished = {**PARALLEL, "candidates": [{**PARALLEL["candidates"][0], "finish_reason": "STOP"}]}
    both = completion_from_response(finished, answer(), signatures)
    assert [c["function"]["name"] for c in both["choices"][0]["message"]["tool_calls"]] == ["a", "b"]
    assert signatures == {"call_0": "c2ln"}
    one = completion_from_response(PARALLEL, answer(first_call_only=True), {})
    assert [c["function"]["name"] for c in one["choices"][0]["message"]["tool_calls"]] == ["a"]


def test_streamed_tool_calls_carry_index_and_finish_as_tool_calls_when_stop_comes_later():
    stream = ChatStream(answer())
    chunks = stream.chunks_from(PARALLEL)
    chunks += stream.chunks_from({"candidates": [{"content": {"parts": [{"text": ""}]}, "finish_reason": "STOP",
                                                  "index": 0}]})
    chunks += stream.close()
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert [(d["index"], d["id"], d["type"], d["function"]["name"]) for d in deltas] == [
        (0, "call_0", "function", "a"), (1, "call_1", "function", "b")]
    assert json.loads(deltas[0]["function"]["arguments"]) == {"x": 1}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]] == ["tool_calls"]
    assert stream.take_signatures() == {"call_0": "c2ln"}


# --- structured output, reasoning, logprobs ---------------------------------------------------

def test_response_formats():
    assert "response_mime_type" not in request(response_format={"type": "text"}).config
    assert request(response_format={"type": "json_object"}).config["response_mime_type"] == "application/json"
    schema = {"$schema": "x", "type": "object", "properties": {"city": {"type": "string"}}}
    gemini = request(response_format={"type": "json_schema",
                                      "json_schema": {"name": "c", "strict": True, "schema": schema}})
    assert gemini.config["response_json_schema"] == {"type": "object", "properties": {"city": {"type": "string"}}}
    assert gemini.dropped == ("response_format.json_schema.schema.$schema",)


@pytest.mark.parametrize("model, effort, expected", [
    ("gemini-2.5-flash", "none", {"thinking_budget": 0, "include_thoughts": False}),
    ("gemini-2.5-flash", "minimal", {"thinking_budget": 512, "include_thoughts": True}),
    ("gemini-2.5-flash", "low", {"thinking_budget": 1024, "include_thoughts": True}),
    ("gemini-2.5-flash", "medium", {"thinking_budget": 8192, "include_thoughts": True}),
    ("gemini-2.5-flash", "high", {"thinking_budget": 24576, "include_thoughts": True}),
    ("gemini-2.5-flash-lite", "minimal", {"thinking_budget": 512, "include_thoughts": True}),
    ("gemini-2.5-pro", "none", {"thinking_budget": 128, "include_thoughts": False}),
    ("gemini-2.5-pro", "high", {"thinking_budget": 32768, "include_thoughts": True}),
    ("gemini-3-pro-preview", "minimal", {"thinking_level": "LOW", "include_thoughts": True}),
    ("gemini-3-pro-preview", "medium", {"thinking_level": "HIGH", "include_thoughts": True}),
    ("gemini-3-flash-preview", "medium", {"thinking_level": "MEDIUM", "include_thoughts": True}),
    ("gemini-2.0-flash", "none", None),
])
def test_reasoning_effort_maps_per_model_family(model, effort, expected):
    assert request(model=model, reasoning_effort=effort).config.get("thinking_config") == expected


def test_reasoning_effort_on_a_model_without_thinking_is_refused():
    with pytest.raises(ApiError) as caught:
        request(model="gemini-2.0-flash", reasoning_effort="high")
    assert caught.value.param == "reasoning_effort"


def test_google_thinking_config_passes_through_and_excludes_reasoning_effort():
    google = {"google": {"thinking_config": {"thinkingBudget": 77, "include_thoughts": True}}}
    assert request(extra_body=google).config["thinking_config"] == {"thinking_budget": 77, "include_thoughts": True}
    assert request(**google).config["thinking_config"] == {"thinking_budget": 77, "include_thoughts": True}
    with pytest.raises(ApiError):
        request(extra_body=google, reasoning_effort="low")


def test_safety_settings_from_settings_or_request():
    defaults = RequestDefaults(safety_settings=({"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"},))
    body = load(SCHEMA, {"messages": [{"role": "user", "content": "x"}]})
    assert translated(body, defaults).config["safety_settings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    own = [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "OFF"}]
    assert request(extra_body={"google": {"safety_settings": own}}).config["safety_settings"] == own


def test_families_table():
    assert family_of("gemini-3-pro-preview").needs_signatures
    assert not family_of("gemini-2.5-flash").needs_signatures
    assert not family_of("gemma-3-27b-it").thinks


def test_logprobs_request_and_answer():
    config = request(logprobs=True, top_logprobs=2).config
    assert (config["response_logprobs"], config["logprobs"]) == (True, 2)
    with pytest.raises(ApiError) as caught:
        request(top_logprobs=2)
    assert caught.value.param == "top_logprobs"
    mapped = logprobs_from({"chosen_candidates": [{"token": "Hi", "log_probability": -0.1}],
                            "top_candidates": [{"candidates": [{"token": "Hi", "log_probability": -0.1},
                                                               {"token": "Yo", "log_probability": -2.5}]}]})
    assert mapped == {"refusal": None, "content": [{
        "token": "Hi", "logprob": -0.1, "bytes": [72, 105],
        "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]},
                         {"token": "Yo", "logprob": -2.5, "bytes": [89, 111]}]}]}


def test_thought_summaries_are_reasoning_content():
    response = {"candidates": [{"content": {"parts": [{"text": "Let me think.", "thought": True}, {"text": "42"}]},
                                "finish_reason": "STOP", "index": 0}]}
    message = completion_from_response(response, answer(), {})["choices"][0]["message"]
    assert (message["content"], message["reasoning_content"]) == ("42", "Let me think.")
    stream = ChatStream(answer())
    deltas = [c["choices"][0]["delta"] for c in stream.chunks_from(response)]
    assert {"reasoning_content": "Let me think."} in deltas
    assert {"content": "42"} in deltas
