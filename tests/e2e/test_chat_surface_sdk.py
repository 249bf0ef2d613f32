"""Each chat feature through the official openai SDK against gunicorn and the emulator."""
import base64
import json

import jsonschema
import openai
import pytest

pytestmark = pytest.mark.e2e

MODEL = "gemini-2.5-flash"
CITY = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"}},
        "required": ["city", "population"], "additionalProperties": False}


def user(content):
    return [{"role": "user", "content": content}]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_json_schema_output(sdk, stream):
    response_format = {"type": "json_schema", "json_schema": {"name": "city", "strict": True, "schema": CITY}}
    if stream:
        with sdk.chat.completions.stream(model=MODEL, messages=user("Paris?"),
                                         response_format=response_format) as events:
            content = events.get_final_completion().choices[0].message.content
    else:
        content = sdk.chat.completions.create(model=MODEL, messages=user("Paris?"),
                                              response_format=response_format).choices[0].message.content
    jsonschema.validate(json.loads(content), CITY)


def test_json_object_output(sdk):
    content = sdk.chat.completions.create(model=MODEL, messages=user("Paris as JSON"),
                                          response_format={"type": "json_object"}).choices[0].message.content
    assert isinstance(json.loads(content), dict)


def test_image_audio_and_file_parts(sdk):
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 24).decode()
    content = sdk.chat.completions.create(model=MODEL, messages=user([
        {"type": "text", "text": "What are these?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{png}", "detail": "high"}},
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"ID3 mp3").decode(), "format": "mp3"}},
        {"type": "file", "file": {"filename": "notes.txt", "file_data": base64.b64encode(b"hello").decode()}},
    ])).choices[0].message.content
    assert "image/png of 32 bytes" in content
    assert "audio/mp3 of 7 bytes" in content
    assert "text/plain of 5 bytes" in content


def test_bad_image_is_a_bad_request(sdk):
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model=MODEL, messages=user([
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,!!"}}]))
    assert caught.value.body["param"] == "messages[0].content[0]"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_reasoning_content_and_tokens(sdk, stream):
    if stream:
        chunks = list(sdk.chat.completions.create(model=MODEL, messages=user("Think."), reasoning_effort="low",
                                                  stream=True, stream_options={"include_usage": True}))
        reasoning = "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content", "")
                            for c in chunks if c.choices)
        usage = chunks[-1].usage
    else:
        completion = sdk.chat.completions.create(model=MODEL, messages=user("Think."), reasoning_effort="low")
        reasoning, usage = completion.choices[0].message.model_extra["reasoning_content"], completion.usage
    assert reasoning
    assert usage.completion_tokens_details.reasoning_tokens > 0


def test_thinking_through_google_extra_body(sdk):
    completion = sdk.chat.completions.create(model=MODEL, messages=user("Think."), extra_body={
        "extra_body": {"google": {"thinking_config": {"thinking_budget": 64, "include_thoughts": True}}}})
    assert completion.choices[0].message.model_extra.get("reasoning_content")


def test_thinking_that_eats_the_budget_is_length(sdk):
    choice = sdk.chat.completions.create(model=MODEL, messages=user("[emulator thoughts=20] Think hard."),
                                         max_completion_tokens=8).choices[0]
    assert choice.finish_reason == "length"
    assert choice.message.content == ""


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_logprobs(sdk, stream):
    kwargs = {"model": MODEL, "messages": user("[emulator thoughts=0 tokens=5]"), "logprobs": True, "top_logprobs": 2}
    if stream:
        tokens = [t for c in sdk.chat.completions.create(**kwargs, stream=True) if c.choices and c.choices[0].logprobs
                  for t in c.choices[0].logprobs.content]
    else:
        tokens = sdk.chat.completions.create(**kwargs).choices[0].logprobs.content
    assert len(tokens) == 5
    assert all(len(t.top_logprobs) == 2 for t in tokens)


def test_n_choices_streamed(sdk):
    finished = {c.choices[0].index: c.choices[0].finish_reason
                for c in sdk.chat.completions.create(model=MODEL, messages=user("hi"), n=3, stream=True)
                if c.choices and c.choices[0].finish_reason}
    assert finished == {0: "stop", 1: "stop", 2: "stop"}


def test_safety_stop_and_blocked_prompt(sdk):
    answer = sdk.chat.completions.create(model=MODEL, messages=user("[emulator finish=SAFETY after=1 tokens=30]"))
    stopped = answer.choices[0]
    assert stopped.finish_reason == "content_filter"
    assert stopped.message.content
    blocked = sdk.chat.completions.create(model=MODEL, messages=user("[emulator fault=block]")).choices
    assert [c.finish_reason for c in blocked] == ["content_filter"]


def test_tool_choice_named_and_dropped_schema_keywords_header(sdk):
    tool = {"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"email": {"type": "string", "format": "email"}}, "required": ["email"]}}}
    raw = sdk.chat.completions.with_raw_response.create(
        model=MODEL, messages=user("find it"), tools=[tool],
        tool_choice={"type": "function", "function": {"name": "lookup"}})
    dropped = raw.headers["x-gemini-proxy-dropped-schema-keywords"]
    assert dropped == "tools[0].function.parameters.properties.email.format"
    (call,) = raw.parse().choices[0].message.tool_calls
    assert call.function.name == "lookup"
    assert "email" in json.loads(call.function.arguments)
