"""The emulator's model features over real HTTP, driven by the real google-genai SDK: function
calling with thought signatures, JSON mode, thoughts, logprobs, media."""
from __future__ import annotations

import base64
import json

import pytest
import requests
from google.genai import errors, types
from jsonschema import Draft202012Validator

from gemini_emulator import count_tokens
from tests.support.emulator import stats

pytestmark = pytest.mark.e2e

GEMINI_3 = "gemini-3-pro-preview"
FLASH = "gemini-2.5-flash"
WEATHER = types.FunctionDeclaration(
    name="get_weather", description="Current weather of a city",
    parameters_json_schema={"type": "object", "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        "required": ["city"]})
TIME = types.FunctionDeclaration(
    name="get_time", description="Local time",
    parameters=types.Schema(type=types.Type.OBJECT, properties={
        "tz": types.Schema(type=types.Type.STRING)}, required=["tz"]))
TOOLS = types.GenerateContentConfig(
    tools=[types.Tool(function_declarations=[WEATHER, TIME])],
    automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
QUESTION = types.Content(role="user", parts=[types.Part(
    text="What is the weather in Paris? Use get_weather.")])
MISSING = (
    "Function call is missing a thought_signature in functionCall parts. This is required for "
    "tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:get_weather` , position 2. Please "
    "refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.")


def weather_result() -> types.Content:
    return types.Content(role="user", parts=[types.Part.from_function_response(
        name="get_weather", response={"temperature_c": 21, "condition": "sunny"})])


def test_two_turn_function_calling_on_gemini_3_needs_the_signature_back(client, server):
    before = stats(server)
    first = client.models.generate_content(model=GEMINI_3, contents=[QUESTION], config=TOOLS)
    (call,) = first.function_calls
    assert (call.name, call.args) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    assert call.id is None
    part = first.candidates[0].content.parts[0]
    assert part.thought_signature.startswith(b"emu-sig:")
    assert len(part.thought_signature) == 24
    assert first.candidates[0].finish_reason == types.FinishReason.STOP
    assert first.usage_metadata.candidates_token_count == count_tokens(
        'get_weather {"city": "Paris", "unit": "celsius"}')

    history = [QUESTION, first.candidates[0].content, weather_result()]
    second = client.models.generate_content(model=GEMINI_3, contents=history, config=TOOLS)
    assert second.text.startswith(
        'get_weather returned {"temperature_c": 21, "condition": "sunny"}. ')
    assert not second.function_calls

    unsigned = types.Content(role="model", parts=[types.Part(function_call=call)])
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=GEMINI_3, contents=[QUESTION, unsigned,
                                                                 weather_result()], config=TOOLS)
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert caught.value.message == MISSING

    forged = types.Content(role="model", parts=[types.Part(function_call=call,
                                                           thought_signature=b"not-ours")])
    with pytest.raises(errors.ClientError, match=r"Corrupted thought signature\."):
        client.models.generate_content(model=GEMINI_3, contents=[QUESTION, forged,
                                                                 weather_result()], config=TOOLS)

    dummy = types.Content(role="model", parts=[types.Part(
        function_call=call, thought_signature=b"skip_thought_signature_validator")])
    assert client.models.generate_content(model=GEMINI_3, contents=[
        QUESTION, dummy, weather_result()], config=TOOLS).text
    after = stats(server)
    assert {k: after[k] - before[k] for k in ("signatures_issued", "signatures_verified",
                                              "signatures_dummy")} == {
        "signatures_issued": 1, "signatures_verified": 1, "signatures_dummy": 1}


def test_gemini_3_streams_calls_then_a_separate_stop_chunk(client):
    chunks = list(client.models.generate_content_stream(model=GEMINI_3, contents=[types.Content(
        role="user", parts=[types.Part(text="get_weather and get_time for Tokyo")])], config=TOOLS))
    assert len(chunks) == 2
    assert [c.name for c in chunks[0].function_calls] == ["get_weather", "get_time"]
    assert chunks[0].candidates[0].finish_reason is None
    assert chunks[0].candidates[0].content.parts[0].thought_signature
    assert chunks[0].candidates[0].content.parts[1].thought_signature is None
    assert chunks[1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[1].function_calls is None
    assert chunks[1].text == ""


def test_gemini_2_5_streams_calls_with_stop_on_the_same_chunk(client):
    (chunk,) = client.models.generate_content_stream(model=FLASH, contents=[QUESTION], config=TOOLS)
    assert chunk.function_calls[0].args["city"] == "Paris"
    assert chunk.candidates[0].finish_reason == types.FinishReason.STOP


def test_json_mode_with_a_json_schema(client):
    schema = {"type": "object", "properties": {
        "title": {"type": "string"}, "year": {"type": "integer", "minimum": 1900, "maximum": 2030},
        "genres": {"type": "array", "items": {"type": "string"}, "minItems": 2}},
        "required": ["title", "year", "genres"]}
    config = types.GenerateContentConfig(response_mime_type="application/json",
                                         response_json_schema=schema)
    response = client.models.generate_content(model=FLASH, contents="A film, please", config=config)
    Draft202012Validator(schema).validate(json.loads(response.text))
    assert response.parsed == json.loads(response.text)
    chunks = list(client.models.generate_content_stream(model=FLASH, contents="A film, please",
                                                        config=config))
    assert len(chunks) > 1
    assert "".join(c.text for c in chunks) == response.text


def test_include_thoughts_gives_thought_parts_first(client):
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(
        include_thoughts=True, thinking_level=types.ThinkingLevel.HIGH))
    response = client.models.generate_content(model=GEMINI_3, contents="Think [emulator tokens=8]",
                                              config=config)
    thought, answer = response.candidates[0].content.parts
    assert thought.thought is True
    assert thought.text.startswith("**Thinking**")
    assert count_tokens(thought.text) <= response.usage_metadata.thoughts_token_count <= 40
    assert response.text == answer.text
    assert count_tokens(answer.text) == 8
    chunks = list(client.models.generate_content_stream(
        model=GEMINI_3, contents="Think [emulator tokens=8]", config=config))
    assert chunks[0].candidates[0].content.parts[0].thought is True
    assert chunks[0].text is None
    assert "".join(c.text for c in chunks[1:]) == answer.text
    with pytest.raises(errors.ClientError, match="Thinking level MEDIUM is not supported"):
        client.models.generate_content(model=GEMINI_3, contents="hi", config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(thinking_level=types.ThinkingLevel.MEDIUM)))


def test_logprobs(client):
    config = types.GenerateContentConfig(response_logprobs=True, logprobs=2)
    response = client.models.generate_content(model=FLASH, contents="[emulator tokens=6]",
                                              config=config)
    candidate = response.candidates[0]
    chosen = candidate.logprobs_result.chosen_candidates
    assert "".join(c.token for c in chosen) == response.text
    assert len(chosen) == 6
    assert all(len(top.candidates) == 2 and top.candidates[0].token == c.token
               for top, c in zip(candidate.logprobs_result.top_candidates, chosen, strict=True))
    assert candidate.avg_logprobs == pytest.approx(candidate.logprobs_result.log_probability_sum / 6)
    with pytest.raises(errors.ClientError, match="response_logprobs"):
        client.models.generate_content(model=FLASH, contents="hi",
                                       config=types.GenerateContentConfig(logprobs=2))


def test_an_image_part_is_described(client, server):
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/"
                           "PchI7wAAAABJRU5ErkJggg==")
    response = client.models.generate_content(model=FLASH, contents=[
        "What is in this image?", types.Part.from_bytes(data=png, mime_type="image/png")],
        config=types.GenerateContentConfig(safety_settings=[types.SafetySetting(
            category=types.HarmCategory.HARM_CATEGORY_HARASSMENT,
            threshold=types.HarmBlockThreshold.BLOCK_ONLY_HIGH)]))
    assert response.text.startswith(f"I received an image/png of {len(png)} bytes. ")
    (logged,) = requests.get(f"{server.url}/emulator/requests", timeout=5).json()[-1:]
    assert logged["body"]["safetySettings"] == [
        {"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]
