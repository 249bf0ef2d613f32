"""The emulator's model features, without sockets: function calling, thought signatures,
thinking, structured output, logprobs, media and safety settings."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from gemini_emulator import count_tokens
from gemini_emulator.catalog import find_model
from gemini_emulator.directives import extract
from gemini_emulator.errors import EmulatorError
from gemini_emulator.generation import plan_answer
from gemini_emulator.logprobs import split_tokens
from gemini_emulator.responses import full_response, stream_events
from gemini_emulator.signatures import DUMMY, check_signatures, classify, issue
from gemini_emulator.thinking import RULES, check_thinking
from gemini_emulator.validation import parse_generate
from gemini_emulator.wire import encode_base64, normalize_keys

CHUNK = 4
GEMINI_3 = "gemini-3-pro-preview"
WEATHER = {"name": "get_weather", "description": "Weather of a city", "parametersJsonSchema": {
    "type": "object", "properties": {"city": {"type": "string"},
                                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                                     "days": {"type": "integer", "minimum": 1, "maximum": 7}},
    "required": ["city"]}}
TIME = {"name": "get_time", "parameters": {"type": "OBJECT", "properties": {
    "tz": {"type": "STRING"}}, "required": ["tz"]}}
SEARCH = {"name": "search"}
TOOLS = [{"functionDeclarations": [WEATHER, TIME, SEARCH]}]


def user(text: str, *parts: dict) -> dict:
    return {"role": "user", "parts": [{"text": text}, *parts]}


def body_of(*contents: dict, model_config: dict | None = None, **fields) -> dict:
    return normalize_keys({"contents": list(contents), "generationConfig": model_config or {},
                           **fields})


def plan(body: dict, model: str = "gemini-2.5-flash"):
    """Everything the app does before rendering, on a key-normalised body."""
    request = parse_generate(body)
    directives, contents = extract(request.contents)
    check_thinking(find_model(model), request.thinking)
    check_signatures(model, contents)
    return plan_answer(find_model(model), request, directives, contents, "r" * 22, CHUNK)


def calls_of(answer, index: int = 0) -> list[tuple[str, dict]]:
    return [(call.name, call.args) for call in answer.candidates[index].calls]


def refused(body: dict, model: str = "gemini-2.5-flash") -> str:
    with pytest.raises(EmulatorError) as caught:
        plan(body, model)
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    return caught.value.message


# --- function calling: the rule ------------------------------------------------------------


@pytest.mark.parametrize(("text", "mode", "allowed", "called"), [
    ("What is the weather in Paris? Use get_weather.", None, None, ["get_weather"]),
    ("get_time first, then GET_WEATHER please", None, None, ["get_time", "get_weather"]),
    ("search, get_weather and search again", None, None, ["search", "get_weather"]),
    ("Hello there", None, None, []),
    ("Hello there", "AUTO", None, []),
    ("Hello there", "ANY", None, ["get_weather"]),
    ("Hello there", "VALIDATED", None, ["get_weather"]),
    ("Hello there", "ANY", ["get_time"], ["get_time"]),
    ("use get_weather", "NONE", None, []),
    ("use get_weather and get_time", "ANY", ["get_time"], ["get_time"]),
    ("use get_weather", "AUTO", ["get_time"], []),
    ("researching get_weathers and my_search", None, None, []),  # whole words only
])
def test_which_functions_are_called(text, mode, allowed, called):
    config = {} if mode is None else {"functionCallingConfig": {
        "mode": mode, **({"allowedFunctionNames": allowed} if allowed else {})}}
    answer = plan(body_of(user(text), tools=TOOLS, toolConfig=config))
    assert [name for name, _ in calls_of(answer)] == called
    candidate = answer.candidates[0]
    assert (candidate.text == "") == bool(called)
    assert (candidate.signature is not None) == bool(called)


def test_no_tools_means_text_even_in_mode_any():
    answer = plan(body_of(user("get_weather"), toolConfig={"functionCallingConfig": {"mode": "ANY"}}))
    assert answer.candidates[0].text
    assert not answer.candidates[0].calls


def test_arguments_are_valid_and_take_the_place_after_in():
    answer = plan(body_of(user("What's the weather in New York today? get_weather, get_time"),
                          tools=TOOLS))
    (_, weather_args), (_, time_args) = calls_of(answer)
    Draft202012Validator(WEATHER["parametersJsonSchema"]).validate(weather_args)
    assert weather_args["city"] == "New York"
    assert weather_args["unit"] == "celsius"
    assert isinstance(time_args["tz"], str)
    assert time_args["tz"]
    assert calls_of(plan(body_of(user("search"), tools=TOOLS))) == [("search", {})]


def test_calls_cost_their_tokens_and_render_without_ids_with_one_signature():
    answer = plan(body_of(user("get_weather and get_time in Oslo"), tools=TOOLS))
    body = full_response(answer)
    (candidate,) = body["candidates"]
    parts = candidate["content"]["parts"]
    assert [list(p) for p in parts] == [["functionCall", "thoughtSignature"], ["functionCall"]]
    assert all(set(p["functionCall"]) == {"name", "args"} for p in parts)
    assert candidate["finishReason"] == "STOP"
    expected = sum(count_tokens(f"{p['functionCall']['name']} {json.dumps(p['functionCall']['args'])}")
                   for p in parts)
    assert body["usageMetadata"]["candidatesTokenCount"] == expected


def test_a_function_response_is_quoted_then_text_follows():
    contents = [
        user("Weather in Paris? get_weather"),
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather",
                                                      "args": {"city": "Paris"}}}]},
        {"role": "user", "parts": [
            {"functionResponse": {"name": "get_weather",
                                  "response": {"temperature_c": 21, "condition": "sunny"}}},
            {"functionResponse": {"name": "get_time", "response": {"time": "12:00"}}}]},
    ]
    answer = plan(body_of(*contents, tools=TOOLS,
                          toolConfig={"functionCallingConfig": {"mode": "VALIDATED"}}))
    text = answer.candidates[0].text
    assert not answer.candidates[0].calls
    opening = ('get_weather returned {"temperature_c": 21, "condition": "sunny"}. '
               'get_time returned {"time": "12:00"}. ')
    assert text.startswith(opening)
    assert count_tokens(text[len(opening):]) >= 8


@pytest.mark.parametrize(("text", "called_before", "allowed", "called_now"), [
    ("Weather in Paris? get_weather", ["get_weather"], None, ["get_time"]),  # the first not called yet
    ("use get_weather and search", ["get_weather"], None, ["search"]),  # named, not called yet
    ("Weather in Paris? get_weather", ["get_weather"], ["get_weather"], ["get_weather"]),  # all called: the last
    ("Hello", ["get_weather", "get_time", "search"], None, ["search"]),
])
def test_mode_any_calls_a_function_after_a_function_response_too(text, called_before, allowed, called_now):
    contents = [
        user(text),
        {"role": "model", "parts": [{"functionCall": {"name": name, "args": {}}} for name in called_before]},
        {"role": "user", "parts": [{"functionResponse": {"name": name, "response": {"ok": True}}}
                                   for name in called_before]},
    ]
    config = {"mode": "ANY", **({"allowedFunctionNames": allowed} if allowed else {})}
    answer = plan(body_of(*contents, tools=TOOLS, toolConfig={"functionCallingConfig": config}))
    assert [name for name, _ in calls_of(answer)] == called_now
    assert answer.candidates[0].text == ""


def test_only_calls_since_the_last_user_text_count_for_mode_any():
    contents = [
        user("Weather? get_weather"),
        {"role": "model", "parts": [{"functionCall": {"name": "get_time", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_time", "response": {}}}]},
        {"role": "model", "parts": [{"text": "It is noon."}]},
        user("And now? get_weather"),
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}]},
    ]
    answer = plan(body_of(*contents, tools=TOOLS, toolConfig={"functionCallingConfig": {"mode": "ANY"}}))
    assert [name for name, _ in calls_of(answer)] == ["get_time"]


def test_every_candidate_calls_with_its_own_arguments_and_signature():
    answer = plan(body_of(user("get_time"), tools=TOOLS, model_config={"candidateCount": 3}))
    assert [name for c in answer.candidates for name, _ in calls_of(answer, c.index)] == (
        ["get_time"] * 3)
    assert len({json.dumps(calls_of(answer, i)) for i in range(3)}) == 3
    assert len({c.signature for c in answer.candidates}) == 3
    assert answer.signatures == 3


@pytest.mark.parametrize(("tools", "config", "message"), [
    ([{"functionDeclarations": [{"name": "9lives"}]}], {}, "Invalid function name"),
    ([{"functionDeclarations": [{"name": "f"}, {"name": "f"}]}], {}, "Duplicate function"),
    ([{"functionDeclarations": [{"name": "f", "parameters": {}, "parametersJsonSchema": {}}]}],
     {}, "cannot both be set"),
    (TOOLS, {"functionCallingConfig": {"mode": "SOMETIMES"}}, "Mode"),
    (TOOLS, {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["nope"]}},
     "function nope is not declared"),
])
def test_bad_tool_declarations_are_400(tools, config, message):
    assert message in refused(body_of(user("hi"), tools=tools, toolConfig=config))


def test_function_call_stream_on_2x_finishes_on_the_call_chunk():
    answer = plan(body_of(user("get_weather in Rome"), tools=TOOLS,
                          model_config={"candidateCount": 2}))
    events = [e.body for e in stream_events(answer, CHUNK)]
    assert len(events) == 2  # one chunk per candidate, each final
    for event in events:
        (candidate,) = event["candidates"]
        assert candidate["finishReason"] == "STOP"
        assert candidate["content"]["parts"][0]["functionCall"]["args"]["city"] == "Rome"
        assert "thoughtSignature" in candidate["content"]["parts"][0]


def test_function_call_stream_on_gemini_3_ends_with_a_separate_stop_chunk():
    answer = plan(body_of(user("get_weather and get_time"), tools=TOOLS), GEMINI_3)
    first, last = [e.body for e in stream_events(answer, CHUNK)]
    assert "finishReason" not in first["candidates"][0]
    assert [p["functionCall"]["name"] for p in first["candidates"][0]["content"]["parts"]] == [
        "get_weather", "get_time"]
    assert last["candidates"][0]["content"] == {"role": "model", "parts": [{"text": ""}]}
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"] == first["usageMetadata"] == full_response(answer)["usageMetadata"]


# --- thought signatures --------------------------------------------------------------------


def call_turn(signature=None, name="get_weather", args=None, extra_calls=0) -> list[dict]:
    args = {"city": "Paris"} if args is None else args
    part = {"functionCall": {"name": name, "args": args}}
    if signature is not None:
        part["thoughtSignature"] = signature
    parts = [part] + [{"functionCall": {"name": "get_time", "args": {}}}] * extra_calls
    return [user("Weather in Paris?"), {"role": "model", "parts": parts},
            {"role": "user", "parts": [{"functionResponse": {"name": name, "response": {}}}]}]


def test_signatures_verify_only_for_their_own_model_and_call():
    signature = issue(GEMINI_3, "get_weather", {"city": "Paris", "days": 2.0})
    assert classify(GEMINI_3, "get_weather", {"days": 2, "city": "Paris"}, signature) == "verified"
    url_safe = signature.replace("+", "-").replace("/", "_").rstrip("=")
    assert classify(GEMINI_3, "get_weather", {"city": "Paris", "days": 2}, url_safe) == "verified"
    assert classify(GEMINI_3, "get_weather", {"city": "Rome", "days": 2}, signature) == "invalid"
    assert classify("gemini-2.5-flash", "get_weather", {"city": "Paris", "days": 2},
                    signature) == "invalid"
    assert classify(GEMINI_3, "x", {}, DUMMY) == "dummy"
    assert classify(GEMINI_3, "x", {}, encode_base64(DUMMY.encode())) == "dummy"


def test_gemini_3_requires_a_signature_on_the_first_call_of_the_current_turn():
    message = refused(body_of(*call_turn()), GEMINI_3)
    assert message == (
        "Function call is missing a thought_signature in functionCall parts. This is required "
        "for tools to work correctly, and missing thought_signature may lead to degraded model "
        "performance. Additional data, function call `default_api:get_weather` , position 2. "
        "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more "
        "details.")
    assert refused(body_of(*call_turn("AAAA")), GEMINI_3) == "Corrupted thought signature."
    good = issue(GEMINI_3, "get_weather", {"city": "Paris"})
    assert check_signatures(GEMINI_3, normalize_keys(call_turn(good, extra_calls=2))).verified == 1
    assert check_signatures(GEMINI_3, call_turn(DUMMY)).dummy == 1


def test_only_the_current_turn_is_checked_and_other_models_are_lenient():
    earlier = call_turn()  # no signature, but a new user text turn follows
    assert check_signatures(GEMINI_3, earlier + [user("Thanks! And now?")]).verified == 0
    assert check_signatures("gemini-2.5-flash", call_turn()) == check_signatures(
        "gemini-2.5-flash", call_turn("AAAA"))
    good = issue("gemini-2.5-flash", "get_weather", {"city": "Paris"})
    assert check_signatures("gemini-2.5-flash", call_turn(good)).verified == 1


# --- thinking ------------------------------------------------------------------------------


def thinking(**config) -> dict:
    return {"thinkingConfig": config}


@pytest.mark.parametrize(("model", "config", "message"), [
    ("gemini-2.5-flash", thinking(thinking_budget=-1), None),
    ("gemini-2.5-flash", thinking(thinking_budget=0), None),
    ("gemini-2.5-flash", thinking(thinking_budget=24576), None),
    ("gemini-2.5-flash", thinking(thinking_budget=24577), "Budget 24577 is invalid. Please "
                                                          "choose a value between 0 and 24576."),
    ("gemini-2.5-flash", thinking(thinking_level="LOW"),
     "Thinking level is not supported for this model."),
    ("gemini-2.5-flash-lite", thinking(thinking_budget=0), None),
    ("gemini-2.5-flash-lite", thinking(thinking_budget=512), None),
    ("gemini-2.5-flash-lite", thinking(thinking_budget=100), "Budget 100 is invalid"),
    ("gemini-2.5-pro", thinking(thinking_budget=128), None),
    ("gemini-2.5-pro", thinking(thinking_budget=32769), "Budget 32769 is invalid"),
    ("gemini-2.5-pro", thinking(thinking_budget=0),
     "Budget 0 is invalid. This model only works in thinking mode."),
    ("gemini-2.0-flash", thinking(thinking_budget=0, include_thoughts=False), None),
    ("gemini-2.0-flash", thinking(include_thoughts=True), "Thinking is not supported for this model."),
    ("gemini-2.0-flash", thinking(thinking_budget=-1), "Thinking is not supported for this model."),
    ("gemini-2.0-flash", thinking(thinking_level="HIGH"), "Thinking level is not supported"),
    (GEMINI_3, thinking(thinking_level="LOW"), None),
    (GEMINI_3, thinking(thinking_level="HIGH", include_thoughts=True), None),
    (GEMINI_3, thinking(thinking_budget=-1), None),
    (GEMINI_3, thinking(thinking_level="MEDIUM"),
     "Thinking level MEDIUM is not supported for this model."),
    (GEMINI_3, thinking(thinking_level="MINIMAL"),
     "Thinking level MINIMAL is not supported for this model."),
    (GEMINI_3, thinking(thinking_level="LOW", thinking_budget=1024),
     "You can only set one of thinking budget and thinking level."),
    (GEMINI_3, thinking(thinking_budget=0), "Budget 0 is invalid"),
    (GEMINI_3, thinking(thinking_level="EXTREME"), "ThinkingLevel"),
])
def test_thinking_config_is_checked_per_model(model, config, message):
    body = body_of(user("hi"), model_config=config)
    if message is None:
        plan(body, model)
    else:
        assert message in refused(body, model)


def test_the_thinking_table_covers_the_catalog():
    chat = [m for m in map(find_model, RULES) if m is not None]
    assert len(chat) == len(RULES)
    assert all(m.thinking == (RULES[m.id] is not None) for m in chat)


@pytest.mark.parametrize(("level", "low", "high"), [("LOW", 8, 20), ("HIGH", 20, 40)])
def test_thinking_level_sets_the_range_of_thoughts(level, low, high):
    counts = {plan(body_of(user(f"q{i}"), model_config=thinking(thinking_level=level)),
                   GEMINI_3).thoughts_tokens for i in range(20)}
    assert low <= min(counts)
    assert max(counts) <= high
    assert len(counts) > 3


def test_thoughts_count_against_max_output_tokens():
    usage = full_response(plan(body_of(user("[emulator tokens=30 thoughts=6]"),
                                       model_config={"maxOutputTokens": 10})))["usageMetadata"]
    assert (usage["candidatesTokenCount"], usage["thoughtsTokenCount"]) == (4, 6)
    spent = plan(body_of(user("[emulator thoughts=10]"), model_config={
        "maxOutputTokens": 10, **thinking(include_thoughts=True)}))
    body = full_response(spent)
    assert body["candidates"][0] == {"content": {"role": "model"}, "finishReason": "MAX_TOKENS",
                                     "index": 0}
    assert "candidatesTokenCount" not in body["usageMetadata"]
    assert body["usageMetadata"]["totalTokenCount"] == body["usageMetadata"]["promptTokenCount"] + 10
    over = plan(body_of(user("[emulator thoughts=30]"), model_config={"maxOutputTokens": 12}))
    assert over.thoughts_tokens == 12  # thinking stops at the limit, as Gemini's does
    assert over.candidates[0].finish_reason == "MAX_TOKENS"
    assert over.candidates[0].text == ""
    assert over.candidate_tokens == 0


def test_thoughts_directive_is_exact_and_ignored_when_thinking_is_off():
    assert plan(body_of(user("[emulator thoughts=77]"))).thoughts_tokens == 77
    assert plan(body_of(user("[emulator thoughts=0]"))).thoughts_tokens is None
    assert plan(body_of(user("[emulator thoughts=5]")), "gemini-2.0-flash").thoughts_tokens is None
    off = body_of(user("[emulator thoughts=5]"), model_config=thinking(thinking_budget=0))
    assert plan(off).thoughts_tokens is None


def test_include_thoughts_puts_a_summary_first_that_fits_the_thoughts():
    answer = plan(body_of(user("[emulator thoughts=9 tokens=10]"),
                          model_config=thinking(include_thoughts=True)))
    parts = full_response(answer)["candidates"][0]["content"]["parts"]
    assert parts[0]["thought"] is True
    assert parts[0]["text"].startswith("**Thinking**")
    assert count_tokens(parts[0]["text"]) == 9
    assert "thought" not in parts[1]
    assert count_tokens(parts[1]["text"]) == 10
    events = [e.body["candidates"][0]["content"]["parts"] for e in stream_events(answer, CHUNK)]
    assert events[0] == [parts[0]]
    assert all("thought" not in p[0] for p in events[1:])
    assert "".join(p[0]["text"] for p in events[1:]) == parts[1]["text"]


# --- structured output ---------------------------------------------------------------------

PERSON = {"type": "object", "properties": {"name": {"type": "string"},
                                           "born": {"type": "string", "format": "date"},
                                           "pets": {"type": "array", "items": {"type": "string"}}},
          "required": ["name", "born"]}


@pytest.mark.parametrize("key", ["responseJsonSchema", "responseSchema"])
def test_json_mode_answers_bare_json_valid_under_the_schema(key):
    schema = PERSON if key == "responseJsonSchema" else {
        "type": "OBJECT", "properties": {"name": {"type": "STRING"}}, "required": ["name"]}
    answer = plan(body_of(user("Who?"), model_config={
        "responseMimeType": "application/json", key: schema, "candidateCount": 2}))
    values = [json.loads(c.text) for c in answer.candidates]
    for value in values:
        Draft202012Validator(PERSON if key == "responseJsonSchema" else {
            "type": "object", "required": ["name"]}).validate(value)
    assert values[0] != values[1]


def test_json_mode_without_schema_wraps_the_answer_and_streams_in_pieces():
    answer = plan(body_of(user("Hi [emulator tokens=12]"), model_config={
        "responseMimeType": "application/json"}))
    text = answer.candidates[0].text
    assert count_tokens(json.loads(text)["answer"]) == 12
    assert text.startswith('{"answer": "')
    pieces = [e.body["candidates"][0]["content"]["parts"][0]["text"]
              for e in stream_events(answer, CHUNK)]
    assert len(pieces) > 1
    assert "".join(pieces) == text


def test_enum_mode_answers_one_value_preferring_a_named_one():
    config = {"responseMimeType": "text/x.enum",
              "responseSchema": {"type": "STRING", "format": "enum",
                                 "enum": ["positive", "negative", "neutral"]}}
    assert plan(body_of(user("Is this negative?"), model_config=config)).candidates[0].text == (
        "negative")
    assert plan(body_of(user("Classify it"), model_config=config)).candidates[0].text in (
        "positive", "negative", "neutral")


@pytest.mark.parametrize(("config", "message"), [
    ({"responseSchema": {"type": "STRING"}}, "must be application/json or text/x.enum"),
    ({"responseMimeType": "text/plain", "responseJsonSchema": {}}, "must be application/json"),
    ({"responseMimeType": "application/json", "responseSchema": {"type": "STRING"},
      "responseJsonSchema": {"type": "string"}}, "cannot both be set"),
    ({"responseMimeType": "text/x.enum"}, "requires a STRING schema with enum values"),
    ({"responseMimeType": "text/html"}, "allowed mimetypes are"),
])
def test_bad_structured_output_configs_are_400(config, message):
    assert message in refused(body_of(user("hi"), model_config=config))


def test_json_mode_still_calls_functions_when_named():
    answer = plan(body_of(user("get_time"), tools=TOOLS, model_config={
        "responseMimeType": "application/json", "responseJsonSchema": PERSON}))
    assert calls_of(answer)[0][0] == "get_time"
    assert answer.candidates[0].text == ""


# --- logprobs ------------------------------------------------------------------------------


def test_logprobs_cover_every_token_with_top_candidates():
    answer = plan(body_of(user("[emulator tokens=9]"), model_config={
        "responseLogprobs": True, "logprobs": 3}))
    candidate = full_response(answer)["candidates"][0]
    text = candidate["content"]["parts"][0]["text"]
    result = candidate["logprobsResult"]
    chosen = result["chosenCandidates"]
    assert "".join(c["token"] for c in chosen) == text
    assert len(chosen) == count_tokens(text) == 9
    assert chosen[1]["token"].startswith(" ")
    assert all(c["logProbability"] < 0 for c in chosen)
    assert len(result["topCandidates"]) == 9
    for top, picked in zip(result["topCandidates"], chosen, strict=True):
        values = [c["logProbability"] for c in top["candidates"]]
        assert top["candidates"][0] == picked
        assert len(values) == 3
        assert values == sorted(values, reverse=True)
        assert len(set(values)) == 3
    assert result["logProbabilitySum"] == pytest.approx(sum(c["logProbability"] for c in chosen))
    assert candidate["avgLogprobs"] == pytest.approx(result["logProbabilitySum"] / 9)
    assert full_response(answer)["candidates"][0] == candidate  # deterministic


def test_streamed_logprobs_are_per_chunk_and_add_up_to_the_whole():
    answer = plan(body_of(user("[emulator tokens=10]"), model_config={"responseLogprobs": True}))
    whole = full_response(answer)["candidates"][0]["logprobsResult"]
    assert "topCandidates" not in whole  # logprobs unset: chosen tokens only
    chunks = [e.body["candidates"][0] for e in stream_events(answer, CHUNK)]
    assert [len(c["logprobsResult"]["chosenCandidates"]) for c in chunks] == [4, 4, 2]
    assert [t for c in chunks for t in c["logprobsResult"]["chosenCandidates"]] == (
        whole["chosenCandidates"])


@pytest.mark.parametrize(("config", "message"), [
    ({"logprobs": 3}, "logprobs can only be set when response_logprobs is true"),
    ({"responseLogprobs": True, "logprobs": 21}, "supported range is from 0 (inclusive) to 20"),
])
def test_bad_logprobs_configs_are_400(config, message):
    assert message in refused(body_of(user("hi"), model_config=config))


def test_split_tokens_keep_the_whitespace_they_follow():
    assert split_tokens("Hi, you  two.\n") == ["Hi", ",", " you", "  two", ".\n"]


# --- media and safety ----------------------------------------------------------------------


def test_media_parts_of_the_last_user_turn_are_described_in_order():
    png = {"inlineData": {"mime_type": "image/png", "data": encode_base64(b"x" * 68)}}
    pdf = {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/doc.pdf"}}
    one = {"inlineData": {"mimeType": "audio/wav", "data": "QQ"}}
    answer = plan(body_of(user("Look [emulator tokens=60]", png, pdf, one)))
    text = answer.candidates[0].text
    assert text.startswith("I received an image/png of 68 bytes. I received an application/pdf "
                           "file at gs://b/doc.pdf. I received an audio/wav of 1 byte. ")
    assert count_tokens(text) == 60
    later = plan(body_of(user("Look", png), {"role": "model", "parts": [{"text": "Nice."}]},
                         user("And now?")))
    assert "I received" not in later.candidates[0].text


@pytest.mark.parametrize(("part", "message"), [
    ({"inlineData": {"mimeType": "image/png", "data": "not base64!"}}, "Base64 decoding failed"),
    ({"inlineData": {"mimeType": "png", "data": "QQ=="}}, "Unsupported MIME type: png"),
    ({"fileData": {"mimeType": "application/pdf"}}, "file_uri is required"),
    ({"fileData": {"mimeType": "pdf file", "fileUri": "gs://x"}}, "Unsupported MIME type"),
])
def test_bad_media_parts_are_400(part, message):
    assert message in refused(body_of(user("see", part)))


def test_safety_settings_are_checked_against_the_enums():
    ok = [{"category": "HARM_CATEGORY_CIVIC_INTEGRITY", "threshold": "OFF"},
          {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_LOW_AND_ABOVE"}]
    assert plan(body_of(user("hi"), safetySettings=ok)).candidates[0].text
    for bad in ({"category": "HARM_CATEGORY_FUN", "threshold": "OFF"},
                {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_SOME"}):
        message = refused(body_of(user("hi"), safetySettings=[bad]))
        assert message.startswith("Invalid value at 'safety_settings[0].")
        assert json.dumps(bad["category"] if "FUN" in bad["category"] else bad["threshold"]) in (
            message)


@pytest.mark.parametrize(("text", "place"), [
    ("weather in Paris?", "Paris"),
    ("In San Francisco, use get_weather", "San Francisco"),
    ("is it warm in tokyo", None),
    ("Paris weather", None),
])
def test_the_place_is_the_capitalised_words_after_in(text, place):
    from gemini_emulator.tools import place_in
    assert place_in(text) == place
