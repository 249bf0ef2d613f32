"""No 500 from client input: each case here once was one (issue 11, section 2). Every refusal is
OpenAI's envelope with a 400 (or 405/413) naming the parameter where there is one."""
import gc
import json
import time

import pytest

from gemini_proxy.translate import json_limits
from tests.support import assert_openai

CHAT = "/v1/chat/completions"


def ask(text="hi", **fields):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], **fields}


def post(client, body, path=CHAT, **kwargs):
    """Sends `body` as JSON text (a str is sent as it is), like any client would."""
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **kwargs)


def refused(response, status=400, param=None, code=None):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_openai("ErrorResponse", body)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["param"] == param
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]["message"]


def nested(depth: int, leaf: str = "{}") -> str:
    """JSON text of `depth` arrays around `leaf` (written as text: json.dumps would recurse)."""
    return "[" * depth + leaf + "]" * depth


def schema_nested(levels: int) -> dict:
    schema = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


# --- JSON nesting --------------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [129, 960, 980, 100_000])
def test_a_body_nested_too_deep_is_400_not_a_recursion_error(client, depth):
    # 960 parses (just under Python's recursion limit) but would crash code walking it later;
    # 980 and beyond made json.loads itself raise RecursionError.
    body = '{"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}], "x": ' + nested(depth) + "}"
    message = refused(post(client, body), code="json_too_deep")
    assert "128" in message


def test_json_schemas_as_deep_as_the_limit_allows_are_served(client, emulator_requests):
    # The body nests 3 levels above the schema (body, response_format, json_schema) and each
    # array schema adds 1: 124 levels of schema reach depth 128 exactly.
    schema = schema_nested(124)
    body = ask(response_format={"type": "json_schema", "json_schema": {"name": "deep", "schema": schema}})
    assert post(client, body).status_code == 200
    assert emulator_requests()[0]["body"]["generationConfig"]["responseJsonSchema"] == schema
    body["response_format"]["json_schema"]["schema"] = {"type": "array", "items": schema}
    refused(post(client, body), code="json_too_deep")


def test_the_most_depth_a_setting_allows_never_reaches_the_recursion_limit(client_with):
    # MAX_JSON_DEPTH tops out at 512: schema cleaning, the SDK and the prompt log all recurse
    # over a schema that deep with room to spare, in tools and in response_format alike.
    client = client_with(max_json_depth=512, log_prompts=True)
    tool = {"type": "function", "function": {"name": "f", "parameters": schema_nested(500)}}
    body = ask(tools=[tool], response_format={"type": "json_schema", "json_schema": {
        "name": "deep", "schema": schema_nested(500)}})
    assert post(client, body).status_code == 200


def test_tool_call_arguments_nested_too_deep_are_400_naming_them(client):
    body = ask(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": ' + nested(5000) + "}"}}]}])
    message = refused(post(client, body), param="messages[1].tool_calls[0].function.arguments")
    assert "nested deeper than 128" in message


def test_a_tool_result_nested_too_deep_goes_to_gemini_as_text(client, emulator_requests):
    result = nested(5000, "1")
    body = ask(messages=[{"role": "user", "content": "x"},
                         {"role": "assistant", "tool_calls": [
                             {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                         {"role": "tool", "tool_call_id": "c1", "content": result}])
    assert post(client, body).status_code == 200
    parts = emulator_requests()[0]["body"]["contents"][-1]["parts"]
    assert parts[0]["functionResponse"]["response"] == {"result": result}


def test_a_deep_body_with_prompt_logging_on_is_400(client_with):
    client = client_with(log_prompts=True)
    refused(post(client, nested(5000)), code="json_too_deep")


# --- strict JSON ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ['{"temperature": NaN}', '{"temperature": Infinity}', '{"x": -Infinity}',
                                  '{"x": 1e999}', '{"x": 1%s}' % ("0" * 5000), '{"x": "\xff"}'.encode("latin-1"),
                                  "", "{", "[1,]"])
def test_what_is_not_strict_json_is_400(client, text):
    assert "could not parse the JSON body" in refused(post(client, text))


@pytest.mark.parametrize("body, param", [
    ('{"model": "x\\ud800", "messages": []}', "model"),
    ('{"messages": [{"role": "user", "content": "hi \\udfff there"}]}', "messages[0].content"),
    ('{"messages": [{"role": "user", "content": [{"type": "text", "text": "\\udc00\\ud800"}]}]}',
     "messages[0].content[0].text"),
    ('{"messages": [{"role": "user", "content": "hi", "\\ud800": 1}]}', "messages[0]"),
])
def test_a_lone_surrogate_is_400_naming_where_it_is(client, body, param):
    message = refused(post(client, body), param=param)
    assert "lone UTF-16 surrogate" in message


@pytest.mark.parametrize("path, body", [
    ("/v1/completions", '{"prompt": "\\ud800 hi", "echo": true}'),
    ("/v1/completions", '{"prompt": "\\ud800 hi", "echo": true, "stream": true}'),
    ("/v1/embeddings", '{"input": "\\ud800"}'),
])
def test_a_lone_surrogate_is_never_echoed_into_a_response(client, path, body):
    # With echo the prompt comes back: a lone surrogate cannot be written as UTF-8 (it was a 500).
    refused(post(client, body, path), param="prompt" if "prompt" in body else "input")


@pytest.mark.parametrize("raw", [b'{"prompt": "\xed\xa0\x80 hi", "echo": true}',
                                 '{"prompt": "\\ud800 hi", "echo": true}'.encode("utf-16")])
def test_surrogates_in_utf8_bytes_or_in_utf16_bodies_are_refused_too(client, raw):
    refused(post(client, raw, "/v1/completions"), param=None if raw.startswith(b"{") else "prompt")


def test_surrogate_pairs_are_text(client, emulator_requests):
    # Clients that escape non-ASCII (json.dumps' default) send emoji as a pair of escapes.
    assert post(client, ask("smile \U0001F600")).status_code == 200
    assert emulator_requests()[0]["body"]["contents"][0]["parts"][0]["text"] == "smile \U0001F600"


# --- tool calls' extra_content ---------------------------------------------------------------------

def with_tool_call(extra_content) -> dict:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"},
            "extra_content": extra_content}
    return ask(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": None, "tool_calls": [call]},
                         {"role": "tool", "tool_call_id": "c1", "content": "ok"}])


@pytest.mark.parametrize("extra_content, param", [
    ({"google": {"thought_signature": 5}}, "messages[1].tool_calls[0].extra_content.google.thought_signature"),
    ({"google": {"thought_signature": ["a"]}}, "messages[1].tool_calls[0].extra_content.google.thought_signature"),
    ({"google": "sig"}, "messages[1].tool_calls[0].extra_content.google"),
    ({"google": [1]}, "messages[1].tool_calls[0].extra_content.google"),
    ("x", "messages[1].tool_calls[0].extra_content"),
    ({"google": {"thought_signature": "%%% not base64"}},
     "messages[1].tool_calls[0].extra_content.google.thought_signature"),
])
def test_a_malformed_extra_content_is_400_naming_it(client, extra_content, param):
    refused(post(client, with_tool_call(extra_content)), param=param)


@pytest.mark.parametrize("extra_content", [None, {}, {"google": None}, {"google": {}}, {"other": 1},
                                           {"google": {"thought_signature": None, "other": 1}}])
def test_empty_or_foreign_extra_content_is_accepted(client, extra_content):
    assert post(client, with_tool_call(extra_content)).status_code == 200


# --- integers ------------------------------------------------------------------------------------

BIG = 10**30


@pytest.mark.parametrize("path, fields, param", [
    (CHAT, {"max_tokens": BIG}, "max_tokens"),
    (CHAT, {"max_completion_tokens": BIG}, "max_completion_tokens"),
    (CHAT, {"seed": BIG}, "seed"),
    (CHAT, {"seed": -BIG}, "seed"),
    (CHAT, {"seed": 2**31}, "seed"),
    (CHAT, {"top_k": BIG}, "top_k"),
    (CHAT, {"n": BIG}, "n"),
    (CHAT, {"logprobs": True, "top_logprobs": BIG}, "top_logprobs"),
    ("/v1/completions", {"prompt": "hi", "max_tokens": BIG}, "max_tokens"),
    ("/v1/completions", {"prompt": "hi", "logprobs": BIG}, "logprobs"),
    ("/v1/completions", {"prompt": "hi", "seed": BIG}, "seed"),
    ("/v1/embeddings", {"input": "hi", "dimensions": BIG}, "dimensions"),
    (CHAT, {"max_tokens": 1e30}, "max_tokens"),
    (CHAT, {"max_tokens": 2.5}, "max_tokens"),
])
def test_integers_out_of_gemini_int32_range_are_400_naming_them(client, emulator_requests, path, fields, param):
    before = emulator_requests()
    body = {**ask(), **fields} if path == CHAT else fields
    refused(post(client, body, path), param=param)
    assert emulator_requests() == before, "the request went upstream"


def test_whole_number_floats_are_integers(client, emulator_requests):
    # JSON does not tell 1 from 1.0, and JSON Schema (so the OpenAPI document) calls 1.0 an integer.
    response = post(client, ask(max_tokens=40.0, seed=7.0, top_k=3.0, n=1.0))
    assert response.status_code == 200, response.get_data(as_text=True)
    config = emulator_requests()[0]["body"]["generationConfig"]
    assert (config["maxOutputTokens"], config["seed"], config["topK"]) == (40, 7, 3)
    assert post(client, {"input": "hi", "dimensions": 8.0}, "/v1/embeddings").status_code == 200


def test_int32_edges_are_accepted(client, emulator_requests):
    assert post(client, ask(seed=-2**31)).status_code == 200
    assert emulator_requests()[0]["body"]["generationConfig"]["seed"] == -2**31
    assert post(client, ask(seed=2**31 - 1)).status_code == 200


# --- list limits are counted before items are validated ---------------------------------------------

def cpu_of(work) -> tuple[object, float]:
    # Without the cyclic collector: in a long test session its passes over the whole heap, set
    # off by 100,000 new objects, would be counted against whichever call made them.
    gc.disable()
    try:
        start = time.process_time()
        result = work()
        return result, time.process_time() - start
    finally:
        gc.enable()


@pytest.mark.parametrize("path, body, param", [
    (CHAT, {"messages": [{"role": "user", "content": "hi"}] * 100_000}, "messages"),
    (CHAT, ask(tools=[{"type": "function", "function": {"name": "f"}}] * 100_000), "tools"),
    (CHAT, ask(stop=["x"] * 100_000), "stop"),
    (CHAT, ask(messages=[{"role": "user", "content": [{"type": "text", "text": "a"}] * 100_000}]), "messages"),
    (CHAT, ask(messages=[{"role": "user", "content": "x"}, {"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}] * 100_000}]), "messages"),
    (CHAT, ask(extra_body={"google": {"safety_settings": [{"category": "c", "threshold": "t"}] * 100_000}}),
     "extra_body.google.safety_settings"),
    ("/v1/embeddings", {"input": ["x"] * 100_000}, "input"),
    ("/v1/completions", {"prompt": ["x"] * 100_000}, "prompt"),
])
def test_long_lists_are_refused_before_their_items_are_validated(client, path, body, param):
    text = json.dumps(body)
    response, cpu = cpu_of(lambda: post(client, text, path))
    assert "at most" in refused(response, param=param)
    # Parsing such a body is the least it can cost; validated item by item first, 100,000
    # messages took 1.6 s of CPU (content parts 2.3 s), ten times the parse.
    _, parse = cpu_of(lambda: json_limits.loads(text, 128))
    assert cpu < 3 * parse + 0.1, f"{cpu:.2f} s of CPU for a body that parses in {parse:.2f} s"


def test_list_limits_come_from_settings(client_with):
    client = client_with(max_tools=2, max_content_parts=3)
    tools = [{"type": "function", "function": {"name": f"f{i}"}} for i in range(3)]
    assert post(client, ask(tools=tools[:2])).status_code == 200
    assert "at most 2 tools" in refused(post(client, ask(tools=tools)), param="tools")
    three = [{"type": "text", "text": "a"}] * 3
    assert post(client, ask(messages=[{"role": "user", "content": three}])).status_code == 200
    assert "at most 3 content parts" in refused(post(client, ask(messages=[
        {"role": "user", "content": three}, {"role": "user", "content": [{"type": "text", "text": "b"}]}])),
        param="messages")
    document = client.get("/openapi.json").get_json()
    assert document["components"]["schemas"]["CreateChatCompletionRequest"]["properties"]["tools"]["maxItems"] == 2


# --- routing -------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, allowed", [
    ("GET", CHAT, "OPTIONS, POST"),
    ("DELETE", "/v1/models", "GET, HEAD, OPTIONS"),
    ("PUT", "/v1/embeddings", "OPTIONS, POST"),
    ("POST", "/healthz", "GET, HEAD, OPTIONS"),
])
def test_405_says_which_methods_are_allowed(client, method, path, allowed):
    response = client.open(path, method=method)
    refused(response, 405, code="method_not_allowed")
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize("path, expected", [
    ("/v1//models", "list"), ("/v1///models", "list"), ("/models//", None), ("/v1/models//gpt-4o-mini", "model")])
def test_repeated_slashes_are_served_as_one_in_json(client, path, expected):
    # (A leading "//" is gunicorn's to handle, and the test client's: see tests/e2e/test_input_e2e.py.)
    response = client.get(path)
    assert response.mimetype == "application/json"
    if expected is None:
        refused(response, 404, code="unknown_url")  # /models/ : a trailing slash is another path
    else:
        assert response.status_code == 200
        assert response.get_json()["object"] == expected


def test_a_merged_path_is_the_same_route_for_keys_and_methods(client_with):
    client = client_with(gateway_api_keys="sk-one team")
    refused(post(client, ask(), "/v1//chat/completions"), 401)
    assert post(client, ask(), "/v1//chat//completions", headers={"Authorization": "Bearer sk-one"}).status_code == 200
    assert client.get("/v1//chat/completions").headers["Allow"] == "OPTIONS, POST"


# --- valid but unusual ------------------------------------------------------------------------------

def test_a_json_schema_response_format_without_a_schema_asks_for_json(client, emulator_requests):
    # OpenAI's json_schema.schema is optional (it was a KeyError, a 500).
    response = post(client, ask("Give me JSON",
                                response_format={"type": "json_schema", "json_schema": {"name": "any"}}))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    config = emulator_requests()[0]["body"]["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert "responseJsonSchema" not in config


# --- client values in headers --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["a\r\nX-Injected: 1", "caf\u00e9 \u2713", "tab\there", "quote\"back\\slash"])
def test_schema_property_names_reach_the_dropped_keywords_header_escaped(client, name):
    body = ask(response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {
        "type": "object", "properties": {name: {"type": "string", "pattern": "^a"}}}}})
    response = post(client, body)
    assert response.status_code == 200
    header = response.headers["X-Gemini-Proxy-Dropped-Schema-Keywords"]
    assert header.isascii()
    assert header.isprintable()
    assert "X-Injected" not in response.headers
    assert json.loads(f'"{header}"') == f"response_format.json_schema.schema.properties.{name}.pattern"


# --- media fetching can be turned off ------------------------------------------------------------

def test_with_media_fetching_off_an_image_url_is_400_and_nothing_is_fetched(client_with):
    client = client_with(media_fetch_urls=False, media_fetch_timeout=60)
    body = ask(messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is it"},
        # A non-routable address: were it fetched, the request would wait out the 60 s timeout.
        {"type": "image_url", "image_url": {"url": "http://10.255.255.1/cat.png"}}]}])
    started = time.monotonic()
    message = refused(post(client, body), param="messages[0].content[1].image_url.url",
                      code="unsupported_parameter")
    assert time.monotonic() - started < 5
    assert "data: URL" in message
    data_url = ask(messages=[{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}])
    assert post(client, data_url).status_code == 200
