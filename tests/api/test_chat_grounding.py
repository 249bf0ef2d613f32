"""web_search_options and service_tier on POST /v1/chat/completions, through the Flask test
client and the real SDK to the emulator (which grounds answers as Gemini documents)."""
import json

import pytest

from tests.support import assert_openai, sse_events

QUESTION = "Who won the world cup and where was it held?"


def ask(text=QUESTION, **fields):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], **fields}


def assert_citations_fit(content, message_or_delta):
    """Each annotation's span is a sentence Gemini grounded (its segment text)."""
    supported = {s["segment"]["text"] for s in message_or_delta["grounding_metadata"]["groundingSupports"]}
    pages = {c["web"]["uri"] for c in message_or_delta["grounding_metadata"]["groundingChunks"]}
    assert message_or_delta["annotations"]
    for annotation in message_or_delta["annotations"]:
        citation = annotation["url_citation"]
        assert content[citation["start_index"]:citation["end_index"]] in supported
        assert citation["url"] in pages


def test_web_search_options_ground_the_answer(client, emulator_requests):
    options = {"user_location": {"type": "approximate", "approximate": {"country": "GB", "city": "London"}},
               "search_context_size": "low"}
    response = client.post("/v1/chat/completions", json=ask(web_search_options=options))
    assert response.status_code == 200
    body = response.get_json()
    assert_openai("CreateChatCompletionResponse", body)
    assert emulator_requests()[0]["body"]["tools"] == [{"googleSearch": {}}]
    message = body["choices"][0]["message"]
    # The emulator opens each grounded sentence with a non-ASCII word: byte offsets would miss.
    assert not message["content"].isascii()
    assert_citations_fit(message["content"], message)
    assert body["usage"]["server_tool_use"]["web_search_requests"] == 2


def test_a_grounded_stream_annotates_its_content(client):
    response = client.post("/v1/chat/completions", json=ask(web_search_options={}, stream=True,
                                                             stream_options={"include_usage": True}))
    assert response.status_code == 200
    chunks = [json.loads(e) for e in sse_events(response.get_data())[:-1]]
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
    deltas = [c["choices"][0]["delta"] for c in chunks if c["choices"]]
    content = "".join(d.get("content") or "" for d in deltas)
    annotated = [d for d in deltas if "annotations" in d]
    assert len(annotated) == 1
    assert_citations_fit(content, annotated[0])
    assert chunks[-1]["usage"]["server_tool_use"]["web_search_requests"] == 2


def test_no_search_no_annotations(client):
    body = client.post("/v1/chat/completions", json=ask(f"{QUESTION} [emulator sources=0]",
                                                         web_search_options={})).get_json()
    assert "annotations" not in body["choices"][0]["message"]
    assert "server_tool_use" not in body["usage"]


@pytest.mark.parametrize(("fields", "param"), [
    ({"web_search_options": {}, "tools": [{"type": "function", "function": {"name": "f"}}]}, "web_search_options"),
    ({"web_search_options": {"search_context_size": "huge"}}, "web_search_options.search_context_size"),
    ({"web_search_options": {"user_location": {"type": "exact", "approximate": {}}}},
     "web_search_options.user_location.type"),
    ({"web_search_options": []}, "web_search_options"),
    ({"service_tier": "scale"}, "service_tier"),
    ({"service_tier": "cheap"}, "service_tier"),
])
def test_what_gemini_cannot_honour_is_a_400_naming_the_field(client, fields, param):
    response = client.post("/v1/chat/completions", json=ask(**fields))
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == param


@pytest.mark.parametrize(("asked", "sent", "echoed"), [
    ("auto", None, "default"), ("default", "standard", "default"), ("flex", "flex", "flex"),
    ("priority", "priority", "priority"), ("fast", "priority", "priority")])
def test_service_tier_reaches_gemini_and_is_echoed(client, emulator_requests, asked, sent, echoed):
    body = client.post("/v1/chat/completions", json=ask("Hi", service_tier=asked)).get_json()
    assert emulator_requests()[0]["body"].get("serviceTier") == sent
    assert body["service_tier"] == echoed
    streamed = client.post("/v1/chat/completions", json=ask("Hi", service_tier=asked, stream=True))
    chunks = [json.loads(e) for e in sse_events(streamed.get_data())[:-1]]
    assert {chunk["service_tier"] for chunk in chunks} == {echoed}


def test_no_service_tier_asked_none_echoed(client, emulator_requests):
    body = client.post("/v1/chat/completions", json=ask("Hi")).get_json()
    assert "serviceTier" not in emulator_requests()[0]["body"]
    assert "service_tier" not in body
