"""Tools, structured output, reasoning, logprobs and media through the Flask app, with the
emulator behind the real SDK."""
import base64
import json

import jsonschema
import pytest
import requests

from gemini_proxy.app import create_app
from tests.support import assert_openai, gateway_settings, sse_events
from tests.support.image_server import serving_image

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.", "strict": True,
    "parameters": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
                   "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"timezone": {"type": "string", "enum": ["UTC", "CET"]}},
    "required": ["timezone"]}}}
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 60).decode()


def chat(client, text="hi", model="gemini-2.5-flash", **fields):
    body = {"model": model, "messages": [{"role": "user", "content": text}], **fields}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def streamed(response):
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
    return chunks


def test_a_named_tool_is_called(client):
    response = chat(client, "What's the weather in Paris? Use get_weather.", tools=[WEATHER])
    body = response.get_json()
    assert_openai("CreateChatCompletionResponse", body)
    choice = body["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] is None
    (call,) = choice["message"]["tool_calls"]
    assert call["id"].startswith("call_")
    assert call["type"] == "function"
    assert call["function"]["name"] == "get_weather"
    jsonschema.validate(json.loads(call["function"]["arguments"]), WEATHER["function"]["parameters"])
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris"}
    assert response.headers["X-Gemini-Proxy-Dropped-Schema-Keywords"] == "tools[0].function.parameters.$schema"


def test_two_named_tools_are_called_in_parallel_unless_refused(client):
    text = "Use get_weather for Rome and get_time too."
    calls = chat(client, text, tools=[WEATHER, TIME]).get_json()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert len({c["id"] for c in calls}) == 2
    one = chat(client, text, tools=[WEATHER, TIME], parallel_tool_calls=False).get_json()["choices"][0]["message"]
    assert [c["function"]["name"] for c in one["tool_calls"]] == ["get_weather"]


@pytest.mark.parametrize("choice, called", [
    ("required", ["get_weather"]), ({"type": "function", "function": {"name": "get_time"}}, ["get_time"]),
    ("none", None), ("auto", None),
])
def test_tool_choice(client, choice, called):
    answer = chat(client, "Tell me something.", tools=[WEATHER, TIME], tool_choice=choice).get_json()
    message = answer["choices"][0]["message"]
    assert ([c["function"]["name"] for c in message["tool_calls"]] if called else message.get("tool_calls")) == called


def test_streamed_tool_calls_have_index_and_finish_with_tool_calls(client):
    chunks = streamed(chat(client, "get_weather in Oslo and get_time please", tools=[WEATHER, TIME], stream=True))
    deltas = [d for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert [(d["index"], d["function"]["name"]) for d in deltas] == [(0, "get_weather"), (1, "get_time")]
    assert all(d["id"].startswith("call_") and d["type"] == "function" for d in deltas)
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]] == ["tool_calls"]


def test_gemini_3_stream_with_stop_in_a_later_chunk_still_finishes_as_tool_calls(client):
    chunks = streamed(chat(client, "get_weather in Oslo", model="gemini-3-pro-preview", tools=[WEATHER], stream=True))
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"][0]["finish_reason"]] == ["tool_calls"]


def _tool_turn(call, result):
    return [{"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}]


def test_tool_result_reaches_the_model(client):
    first = chat(client, "get_weather in Paris", tools=[WEATHER]).get_json()["choices"][0]["message"]["tool_calls"][0]
    messages = [{"role": "user", "content": "get_weather in Paris"},
                *_tool_turn(first, {"temperature_c": 21, "condition": "sunny"})]
    body = client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "tools": [WEATHER],
                                                     "messages": messages}).get_json()
    assert body["choices"][0]["finish_reason"] == "stop"
    assert "21" in body["choices"][0]["message"]["content"]


def _stats(emulator):
    return requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_thought_signature_round_trip_on_a_model_that_requires_it(client, emulator, stream):
    ask = {"model": "gemini-3-pro-preview", "tools": [WEATHER],
           "messages": [{"role": "user", "content": "get_weather in Lima"}]}
    response = client.post("/v1/chat/completions", json={**ask, "stream": stream})
    if stream:
        deltas = [d for c in streamed(response) for d in c["choices"][0]["delta"].get("tool_calls", [])]
        call = {"id": deltas[0]["id"], "type": "function", "function": deltas[0]["function"]}
    else:
        call = response.get_json()["choices"][0]["message"]["tool_calls"][0]
    assert "extra_content" not in call
    before = _stats(emulator)
    follow_up = {**ask, "messages": ask["messages"] + _tool_turn(call, {"temperature_c": 18})}
    answer = client.post("/v1/chat/completions", json=follow_up)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert _stats(emulator)["signatures_verified"] == before["signatures_verified"] + 1


def test_a_call_the_gateway_never_saw_gets_the_documented_stand_in(client, emulator):
    call = {"id": "call_from_elsewhere", "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city": "Lima"}'}}
    before = _stats(emulator)
    body = client.post("/v1/chat/completions", json={"model": "gemini-3-pro-preview", "tools": [WEATHER], "messages": [
        {"role": "user", "content": "get_weather in Lima"}, *_tool_turn(call, {"temperature_c": 18})]})
    assert body.status_code == 200, body.get_data(as_text=True)
    assert _stats(emulator)["signatures_dummy"] == before["signatures_dummy"] + 1


def test_json_object_and_json_schema_output(client):
    answer = chat(client, "Paris facts", response_format={"type": "json_object"}).get_json()
    content = answer["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["city", "population"], "additionalProperties": False}
    for stream in (False, True):
        response_format = {"type": "json_schema", "json_schema": {"name": "c", "strict": True, "schema": schema}}
        response = chat(client, "Paris facts", stream=stream, response_format=response_format)
        if stream:
            content = "".join(c["choices"][0]["delta"].get("content") or "" for c in streamed(response))
        else:
            content = response.get_json()["choices"][0]["message"]["content"]
        jsonschema.validate(json.loads(content), schema)


@pytest.mark.parametrize("model", ["gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite",
                                   "gemini-3-pro-preview"])
@pytest.mark.parametrize("effort", ["none", "minimal", "low", "medium", "high"])
def test_every_reasoning_effort_is_accepted_by_every_thinking_model(client, model, effort):
    body = chat(client, "Think about it.", model=model, reasoning_effort=effort).get_json()
    message = body["choices"][0]["message"]
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] >= 0
    assert ("reasoning_content" in message) == (effort != "none")


def test_reasoning_content_streams_before_the_answer(client):
    chunks = streamed(chat(client, "Think.", reasoning_effort="low", stream=True,
                           stream_options={"include_usage": True}))
    kinds = [next(iter(c["choices"][0]["delta"])) for c in chunks if c["choices"] and c["choices"][0]["delta"]]
    assert kinds.index("reasoning_content") < kinds.index("content", 1)
    assert chunks[-1]["usage"]["completion_tokens_details"]["reasoning_tokens"] > 0


def test_thinking_that_uses_the_whole_budget_is_length_with_empty_content(client):
    body = chat(client, "[emulator thoughts=30] Think hard.", max_completion_tokens=10).get_json()
    assert body["choices"]
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == ""
    assert body["usage"]["completion_tokens_details"]["reasoning_tokens"] == 10
    assert body["usage"]["completion_tokens"] == 10


def test_logprobs_map_back(client):
    body = chat(client, "[emulator thoughts=0 tokens=6]", logprobs=True, top_logprobs=3).get_json()
    assert_openai("CreateChatCompletionResponse", body)
    content = body["choices"][0]["logprobs"]["content"]
    assert len(content) == 6
    assert all(len(t["top_logprobs"]) == 3 and t["logprob"] <= 0 for t in content)
    assert "".join(t["token"] for t in content) == body["choices"][0]["message"]["content"]
    chunks = streamed(chat(client, "[emulator thoughts=0 tokens=6]", logprobs=True, stream=True))
    assert sum(len((c["choices"][0]["logprobs"] or {}).get("content") or []) for c in chunks) == 6


def test_images_audio_and_files_reach_the_model(client):
    parts = [{"type": "text", "text": "Describe these."},
             {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
             {"type": "input_audio",
              "input_audio": {"data": base64.b64encode(b"RIFF0000WAVE").decode(), "format": "wav"}},
             {"type": "file", "file": {"filename": "a.pdf", "file_data": "data:application/pdf;base64,"
                                                                         + base64.b64encode(b"%PDF-1.4").decode()}}]
    content = client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": parts}]}).get_json()["choices"][0]["message"]["content"]
    assert "image/png of 68 bytes" in content
    assert "audio/wav of 12 bytes" in content
    assert "application/pdf of 8 bytes" in content


@pytest.mark.parametrize("part, param", [
    ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "messages[0].content[0]"),
    ({"type": "image_url", "image_url": {"url": "data:nocomma"}}, "messages[0].content[0]"),
    ({"type": "input_audio", "input_audio": {"data": "AAAA", "format": "midi"}}, "messages[0].content[0]"),
    ({"type": "file", "file": {"filename": "x.unknownext", "file_data": "AAAA"}}, "messages[0].content[0]"),
    ({"type": "image_url", "image_url": {"url": "http://127.0.0.1:9/x.png"}}, "messages[0].content[0].image_url.url"),
])
def test_bad_media_is_a_400_naming_the_part(client, part, param):
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": [part]}]}
    response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param


@pytest.fixture(scope="module")
def image_server():
    with serving_image(base64.b64decode(PNG)) as server:
        yield f"http://127.0.0.1:{server.server_port}/cat.png"


def test_http_images_are_fetched_only_where_allowed(emulator, image_server):
    part = {"type": "image_url", "image_url": {"url": image_server}}
    body = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": [part]}]}
    allowed = create_app(gateway_settings(emulator, media_allow_private_urls=True)).test_client()
    answer = allowed.post("/v1/chat/completions", json=body).get_json()
    assert "image/png of 68 bytes" in answer["choices"][0]["message"]["content"]
    refused = create_app(gateway_settings(emulator)).test_client().post("/v1/chat/completions", json=body)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["param"] == "messages[0].content[0].image_url.url"


# The SDK warns about a category it does not know, then lets Gemini judge it.
@pytest.mark.filterwarnings("ignore:NOPE is not a valid HarmCategory")
def test_safety_settings_pass_through(client, emulator_requests):
    settings = [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
    chat(client, extra_body={"google": {"safety_settings": settings}})
    assert emulator_requests()[0]["body"]["safetySettings"] == settings
    unknown = [{"category": "NOPE", "threshold": "OFF"}]
    bad = client.post("/v1/chat/completions", json={
        "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "x"}],
        "extra_body": {"google": {"safety_settings": unknown}}})
    assert bad.status_code == 400
