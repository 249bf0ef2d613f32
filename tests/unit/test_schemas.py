"""Request validation: what loads, and the param a bad request is blamed on."""
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.schemas import ChatCompletionSchema, load, param_name

SCHEMA = ChatCompletionSchema(max_messages=4)
USER = {"role": "user", "content": "hi"}


def chat(**fields):
    return {"model": "gemini-2.5-flash", "messages": [USER], **fields}


def test_a_full_request_loads_and_unknown_fields_are_tolerated():
    body = load(SCHEMA, chat(temperature=0, top_p=1, max_tokens=5, max_completion_tokens=7, stop="END", n=2,
                             seed=3, presence_penalty=-2, frequency_penalty=2, stream=True,
                             stream_options={"include_usage": True}, user="u1", metadata={"a": "b"},
                             store=False, service_tier="auto"))
    assert body["stop"] == ["END"]
    assert body["temperature"] == 0
    assert body["stream_options"] == {"include_usage": True}
    assert "metadata" not in body
    assert body["service_tier"] == "auto"  # modelled: passed to Gemini (translate/chat.py)


def test_content_parts_load_as_parts():
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    body = load(SCHEMA, chat(messages=[{"role": "user", "content": parts}]))
    assert body["messages"][0]["content"] == [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]


@pytest.mark.parametrize("body, param", [
    ({"model": "m"}, "messages"),
    (chat(messages=[]), "messages"),
    (chat(messages="hi"), "messages"),
    (chat(messages=[USER] * 5), "messages"),
    (chat(messages=[USER, {"role": "robot", "content": "x"}]), "messages[1].role"),
    (chat(messages=[USER, USER, {"role": "user", "content": 5}]), "messages[2].content"),
    (chat(messages=[{"role": "user"}]), "messages[0].content"),
    (chat(messages=[{"role": "user", "content": None}]), "messages[0].content"),
    (chat(messages=[{"role": "user", "content": [{"type": "text"}]}]), "messages[0].content[0].text"),
    (chat(messages=[{"role": "user", "content": [{"type": "image_url"}]}]), "messages[0].content[0].image_url"),
    (chat(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x", "detail": "max"}}]}]),
     "messages[0].content[0].image_url.detail"),
    (chat(messages=[{"role": "user", "content": [{"type": "file", "file": {"file_id": "file-1"}}]}]),
     "messages[0].content[0].file.file_id"),
    (chat(messages=[{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
     "messages[0].content"),
    (chat(messages=[{"role": "user", "content": [{"type": "video"}]}]), "messages[0].content[0].type"),
    (chat(messages=[{"role": "user", "content": ["hi"]}]), "messages[0].content[0]"),
    (chat(messages=[{"role": "tool", "content": "42"}]), "messages[0].tool_call_id"),
    (chat(messages=[{"role": "function", "content": "42", "name": "f"}]), "messages[0].role"),
    (chat(messages=[{"role": "assistant", "content": None, "tool_calls": [{"id": "c"}]}]),
     "messages[0].tool_calls[0].function"),
    (chat(messages=[{"role": "assistant", "content": None, "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}]}]),
     "messages[0].tool_calls[0].function.arguments"),
    (chat(messages=[{"role": "assistant", "content": None}]), "messages[0].content"),
    (chat(messages=[{"role": "user", "content": "x", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]), "messages[0].tool_calls"),
    (chat(temperature="hot"), "temperature"),
    (chat(temperature=True), "temperature"),
    (chat(temperature=2.5), "temperature"),
    (chat(top_p=1.5), "top_p"),
    (chat(max_tokens=0), "max_tokens"),
    (chat(max_completion_tokens=1.5), "max_completion_tokens"),
    (chat(stop=["a", 1]), "stop"),
    (chat(stop=["a"] * 6), "stop"),
    (chat(n=9), "n"),
    (chat(presence_penalty=3), "presence_penalty"),
    (chat(frequency_penalty="x"), "frequency_penalty"),
    (chat(stream="yes"), "stream"),
    (chat(stream_options={"include_usage": "yes"}), "stream_options.include_usage"),
    (chat(model=7), "model"),
    (chat(tools=[{"type": "function"}]), "tools[0].function"),
    (chat(tools=[{"type": "web_search", "function": {"name": "f"}}]), "tools[0].type"),
    (chat(tools=[{"type": "function", "function": {"name": "9lives"}}]), "tools[0].function.name"),
    (chat(tools=[{"type": "function", "function": {"name": "f", "parameters": "x"}}]), "tools[0].function.parameters"),
    (chat(tool_choice="required"), "tool_choice"),
    (chat(tool_choice="always"), "tool_choice"),
    (chat(tools=[{"type": "function", "function": {"name": "f"}}],
          tool_choice={"type": "function", "function": {"name": "g"}}), "tool_choice"),
    (chat(parallel_tool_calls="no"), "parallel_tool_calls"),
    (chat(response_format={"type": "xml"}), "response_format.type"),
    (chat(response_format={"type": "json_schema"}), "response_format.json_schema"),
    (chat(response_format={"type": "json_schema", "json_schema": {"schema": {}}}), "response_format.json_schema.name"),
    (chat(reasoning_effort="extreme"), "reasoning_effort"),
    (chat(logprobs="yes"), "logprobs"),
    (chat(top_logprobs=21), "top_logprobs"),
    (chat(extra_body={"google": {"safety_settings": [{"category": "X"}]}}),
     "extra_body.google.safety_settings[0].threshold"),
    (chat(functions=[{"name": "f"}]), "functions"),
    (chat(modalities=["text", "audio"]), "modalities"),
    (chat(logit_bias={"50256": -100}), "logit_bias"),
])
def test_bad_requests_name_the_param(body, param):
    with pytest.raises(ApiError) as caught:
        load(SCHEMA, body)
    error = caught.value
    assert (error.status, error.type, error.param) == (400, "invalid_request_error", param)
    assert param in error.message


@pytest.mark.parametrize("harmless", [
    {"functions": []}, {"function_call": "none"}, {"logit_bias": {}}, {"modalities": ["text"]}, {"audio": None},
])
def test_unsupported_params_in_their_off_position_are_accepted(harmless):
    assert load(SCHEMA, chat(**harmless))["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


def test_a_body_that_is_not_an_object_is_refused():
    with pytest.raises(ApiError) as caught:
        load(SCHEMA, ["not", "an", "object"])
    assert caught.value.status == 400
    assert caught.value.param is None


def test_missing_required_parameter_has_openai_code():
    with pytest.raises(ApiError) as caught:
        load(SCHEMA, {"model": "m"})
    assert caught.value.code == "missing_required_parameter"


@pytest.mark.parametrize("path, name", [
    (["messages", 2, "content"], "messages[2].content"),
    (["messages", 0, "content", 1, "text"], "messages[0].content[1].text"),
    (["temperature"], "temperature"),
    ([], ""),
])
def test_param_names_follow_openai(path, name):
    assert param_name(path) == name
