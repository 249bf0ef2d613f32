"""Grounding with Google Search in the emulator: the groundingMetadata of Gemini's documented shape,
over real HTTP (raw JSON and SSE for the exact keys, the real google-genai SDK for the types), with
UTF-8 byte offsets into a text that holds multi-byte characters."""
from __future__ import annotations

import json

import pytest
import requests
from google.genai import errors, types

from gemini_emulator import count_tokens
from gemini_emulator.grounding import LEADS, localize

pytestmark = pytest.mark.e2e

FLASH = "gemini-2.5-flash"
GEMINI_3 = "gemini-3-pro-preview"
QUESTION = "Who won the Euro 2024 final?"
SEARCH = [{"googleSearch": {}}]
WEATHER = {"name": "get_weather", "parametersJsonSchema": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
REDIRECT = "https://vertexaisearch.cloud.google.com/grounding-api-redirect/"


def generate(server, body: dict, model: str = FLASH) -> requests.Response:
    return requests.post(f"{server.url}/v1beta/models/{model}:generateContent", json=body,
                         headers={"x-goog-api-key": "k"}, timeout=10)


def stream(server, body: dict, model: str = FLASH) -> list[dict]:
    answer = requests.post(f"{server.url}/v1beta/models/{model}:streamGenerateContent?alt=sse", json=body,
                           headers={"x-goog-api-key": "k"}, timeout=10)
    assert answer.status_code == 200, answer.text
    return [json.loads(line.removeprefix("data: ")) for line in answer.text.splitlines()
            if line.startswith("data: ")]


def ask(text: str = QUESTION, tools: list | None = None, **fields) -> dict:
    return {"contents": [{"role": "user", "parts": [{"text": text}]}],
            "tools": SEARCH if tools is None else tools, **fields}


def grounded(server, body: dict, model: str = FLASH) -> tuple[str, dict, dict]:
    """(answer text, groundingMetadata, usageMetadata) of a non-streamed answer."""
    answer = generate(server, body, model)
    assert answer.status_code == 200, answer.text
    (candidate,) = answer.json()["candidates"]
    text = "".join(part["text"] for part in candidate["content"]["parts"] if not part.get("thought"))
    return text, candidate.get("groundingMetadata"), answer.json()["usageMetadata"]


def sliced(text: str, segment: dict) -> str:
    """What a segment's byte offsets select (a missing startIndex is proto3's 0)."""
    return text.encode("utf-8")[segment.get("startIndex", 0):segment["endIndex"]].decode("utf-8")


def test_the_answer_has_the_documented_grounding_metadata(server):
    text, metadata, usage = grounded(server, ask())
    assert list(metadata) == ["webSearchQueries", "searchEntryPoint", "groundingChunks", "groundingSupports"]
    assert metadata["webSearchQueries"] == ["who won the euro 2024 final"]
    rendered = metadata["searchEntryPoint"]["renderedContent"]
    assert rendered.startswith("<style>")
    assert "https://www.google.com/search?q=who+won+the+euro+2024+final" in rendered
    chunks = metadata["groundingChunks"]
    assert 2 <= len(chunks) <= 4
    for chunk in chunks:
        assert list(chunk) == ["web"]
        assert sorted(chunk["web"]) == ["title", "uri"]
        assert chunk["web"]["uri"].startswith(REDIRECT)
        assert "." in chunk["web"]["title"]
    supports = metadata["groundingSupports"]
    assert len(supports) >= 2
    for support in supports:
        assert sorted(support) == ["confidenceScores", "groundingChunkIndices", "segment"]
        assert set(support["segment"]) <= {"startIndex", "endIndex", "text"}
        assert sliced(text, support["segment"]) == support["segment"]["text"]
        assert all(0 <= index < len(chunks) for index in support["groundingChunkIndices"])
        assert len(support["confidenceScores"]) == len(support["groundingChunkIndices"])
        assert all(0 < score <= 1 for score in support["confidenceScores"])
    assert "startIndex" not in supports[0]["segment"]  # proto3 JSON drops the zero
    assert supports[-1]["segment"]["endIndex"] == len(text.encode("utf-8"))
    assert usage["toolUsePromptTokenCount"] > 0
    assert usage["toolUsePromptTokensDetails"] == [{"modality": "TEXT", "tokenCount": usage["toolUsePromptTokenCount"]}]
    assert usage["totalTokenCount"] == (usage["promptTokenCount"] + usage["candidatesTokenCount"]
                                        + usage["toolUsePromptTokenCount"] + usage.get("thoughtsTokenCount", 0))


def test_offsets_are_bytes_and_differ_from_characters_and_utf16_units(server):
    text, metadata, _ = grounded(server, ask())
    assert any(lead in text for lead in LEADS)
    later = metadata["groundingSupports"][-1]["segment"]
    start = later["startIndex"]
    assert text.encode("utf-8")[start:later["endIndex"]].decode("utf-8") == later["text"]
    assert text[start:later["endIndex"]] != later["text"]  # character offsets would cite the wrong text
    assert text.index(later["text"]) < start


def test_localize_keeps_token_counts_and_uses_every_width():
    body = "The plan works. A river moves quickly. Yes. The server sends a message. One idea waits."
    assert count_tokens(localize(body, 0)) == count_tokens(body)
    assert {len(character.encode("utf-8")) for lead in LEADS for character in lead} >= {2, 3, 4}
    assert any(len(lead.encode("utf-16-le")) // 2 != len(lead) for lead in LEADS)


def test_a_stream_ends_with_a_content_less_event_carrying_the_metadata(server):
    text, metadata, usage = grounded(server, ask())
    events = stream(server, ask())
    *deltas, last = events
    assert all("finishReason" not in event["candidates"][0] for event in deltas)
    assert "".join(part["text"] for event in deltas for part in event["candidates"][0]["content"]["parts"]) == text
    assert last["candidates"] == [{"finishReason": "STOP", "groundingMetadata": metadata, "index": 0}]
    assert last["usageMetadata"] == usage
    assert all(event["usageMetadata"]["toolUsePromptTokenCount"] == usage["toolUsePromptTokenCount"]
               for event in events)


def test_the_sdk_reads_it(client):
    config = types.GenerateContentConfig(tools=[types.Tool(google_search=types.GoogleSearch())])
    answer = client.models.generate_content(model=FLASH, contents=QUESTION, config=config)
    metadata = answer.candidates[0].grounding_metadata
    assert metadata.web_search_queries == ["who won the euro 2024 final"]
    assert metadata.grounding_chunks[0].web.uri.startswith(REDIRECT)
    first, *others = metadata.grounding_supports
    assert first.segment.start_index is None
    assert all(support.segment.start_index > 0 for support in others)
    assert answer.usage_metadata.tool_use_prompt_token_count > 0
    streamed = list(client.models.generate_content_stream(model=FLASH, contents=QUESTION, config=config))
    assert streamed[-1].candidates[0].content is None
    assert streamed[-1].candidates[0].grounding_metadata == metadata
    assert "".join(chunk.text or "" for chunk in streamed[:-1]) == answer.text


def test_the_older_search_retrieval_tool_is_grounded_too(server):
    tool = [{"google_search_retrieval": {"dynamic_retrieval_config": {"mode": "MODE_DYNAMIC"}}}]
    _, metadata, _ = grounded(server, ask(tools=tool))
    assert metadata["webSearchQueries"] == ["who won the euro 2024 final"]


@pytest.mark.parametrize("sources", [1, 3, 10])
def test_sources_sets_how_many_pages_were_found(server, sources):
    _, metadata, _ = grounded(server, ask(f"{QUESTION} [emulator sources={sources}]"))
    assert len(metadata["groundingChunks"]) == sources
    used = {index for support in metadata["groundingSupports"] for index in support["groundingChunkIndices"]}
    assert used <= set(range(sources))


def test_no_search_no_metadata(server):
    _, metadata, usage = grounded(server, ask(f"{QUESTION} [emulator sources=0]"))
    assert metadata is None
    assert "toolUsePromptTokenCount" not in usage
    _, plain, plain_usage = grounded(server, ask(tools=[]))
    assert plain is None
    assert "toolUsePromptTokenCount" not in plain_usage


def test_say_text_is_grounded_sentence_by_sentence(server):
    say = "Zürich liegt am See. 東京 is large! Emoji 🌍 here. Done"
    text, metadata, _ = grounded(server, ask(f'{QUESTION} [emulator say="{say}" sources=2]'))
    assert text == say
    segments = [support["segment"] for support in metadata["groundingSupports"]]
    assert [segment["text"] for segment in segments] == [
        "Zürich liegt am See.", "東京 is large!", "Emoji 🌍 here.", "Done"]
    assert [(segment.get("startIndex", 0), segment["endIndex"]) for segment in segments] == [
        (0, 21), (22, 38), (39, 55), (56, 60)]
    characters = text.index("Done")
    assert (characters, len(text[:characters].encode("utf-16-le")) // 2) == (48, 49)  # neither is 56


def test_a_thought_summary_moves_the_text_to_part_one(server):
    config = {"thinkingConfig": {"includeThoughts": True}}
    text, metadata, _ = grounded(server, ask(generationConfig=config))
    assert all(support["segment"]["partIndex"] == 1 for support in metadata["groundingSupports"])
    assert all(sliced(text, support["segment"]) == support["segment"]["text"]
               for support in metadata["groundingSupports"])


def test_cut_answers_cite_only_what_is_left(server):
    text, metadata, _ = grounded(server, ask(f"{QUESTION} [emulator tokens=40]", generationConfig={
        "maxOutputTokens": 12, "thinkingConfig": {"thinkingBudget": 0}}))
    assert count_tokens(text) == 12
    assert metadata["groundingSupports"][-1]["segment"]["endIndex"] == len(text.encode("utf-8"))
    assert all(sliced(text, support["segment"]) == support["segment"]["text"]
               for support in metadata["groundingSupports"])


def test_exact_lengths_hold_with_the_non_ascii_leads(server):
    config = {"thinkingConfig": {"thinkingBudget": 0}}
    text, _, usage = grounded(server, ask(f"{QUESTION} [emulator tokens=33]", generationConfig=config))
    assert count_tokens(text) == 33
    assert usage["candidatesTokenCount"] == 33


def test_json_answers_are_not_grounded(server):
    config = {"responseMimeType": "application/json"}
    text, metadata, _ = grounded(server, ask(generationConfig=config))
    assert json.loads(text)
    assert metadata is None


@pytest.mark.parametrize(("model", "message"), [
    (FLASH, "Tool use with function calling is unsupported by the model."),
    ("gemini-2.0-flash", "Tool use with function calling is unsupported by the model."),
    (GEMINI_3, "Please enable tool_config.include_server_side_tool_invocations to use Built-in tools "
                     "with Function calling."),
])
def test_search_next_to_functions_is_refused_as_gemini_does(server, model, message):
    tools = [{"functionDeclarations": [WEATHER]}, {"googleSearch": {}}]
    answer = generate(server, ask(tools=tools), model)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert (error["code"], error["status"], error["message"]) == (400, "INVALID_ARGUMENT", message)


def test_a_calling_config_without_functions_is_refused_next_to_search(server):
    answer = generate(server, ask(toolConfig={"functionCallingConfig": {"mode": "AUTO"}}))
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Function calling config is set without function_declarations."


def test_gemini_3_mixes_them_with_server_side_tool_invocations(client):
    config = types.GenerateContentConfig(
        tools=[types.Tool(google_search=types.GoogleSearch(), function_declarations=[types.FunctionDeclaration(
            name="get_weather", parameters_json_schema=WEATHER["parametersJsonSchema"])])],
        tool_config=types.ToolConfig(include_server_side_tool_invocations=True),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    called = client.models.generate_content(model=GEMINI_3, contents="get_weather in Paris", config=config)
    assert [call.name for call in called.function_calls] == ["get_weather"]
    assert called.candidates[0].grounding_metadata is None
    answered = client.models.generate_content(model=GEMINI_3, contents=QUESTION, config=config)
    assert answered.candidates[0].grounding_metadata.web_search_queries == ["who won the euro 2024 final"]
    with pytest.raises(errors.ClientError, match="include_server_side_tool_invocations"):
        client.models.generate_content(model=GEMINI_3, contents=QUESTION, config=config.model_copy(
            update={"tool_config": None}))
