"""Google Search grounding in chat completions (translate/grounding.py, translate/chat.py,
translate/stream.py): web_search_options -> googleSearch, groundingMetadata -> url_citation
annotations with character offsets, in whole answers and streams; and service_tier.

Gemini's Segment indices are UTF-8 byte offsets; OpenAI's start_index/end_index count
characters (code points), so every non-ASCII character before a span moves it.
"""
import pytest

from gemini_proxy.errors import ApiError
from gemini_proxy.translate.chat import AnswerContext, completion_from_response, gemini_request, service_tier
from gemini_proxy.translate.grounding import chat_annotations, raw_grounding, search_count
from gemini_proxy.translate.stream import ChatStream
from tests.support import assert_openai, byte_span

TEXT = "Café Rue opened in 2019. 東京 has 14 million people. 🌍 Both are busy."
FIRST, SECOND, THIRD = "Café Rue opened in 2019.", "東京 has 14 million people.", "🌍 Both are busy."
PAGES = [{"web": {"uri": "https://example.com/a", "title": "cafe.fr"}},
         {"web": {"uri": "https://example.com/b", "title": "tokyo.jp"}},
         {"web": {"uri": "https://example.com/c", "title": "earth.org"}}]
HEAD = {"completion_id": "chatcmpl-test", "created": 1700000000, "model": "gemini-2.5-flash"}


GROUNDING = {
    "web_search_queries": ["cafe rue opening year", "tokyo population"],
    "grounding_chunks": PAGES,
    "grounding_supports": [
        {"segment": byte_span(TEXT, FIRST), "grounding_chunk_indices": [0]},
        # One support, two pages: two annotations over the same span.
        {"segment": byte_span(TEXT, SECOND), "grounding_chunk_indices": [1, 2]},
        {"segment": byte_span(TEXT, THIRD), "grounding_chunk_indices": [2]},
    ],
    "search_entry_point": {"rendered_content": "<div>chips</div>"},
}


def request(**fields):
    return {"messages": [{"role": "user", "content": [{"type": "text", "text": "Where?"}]}], **fields}


def gemini_answer(*parts, grounding=GROUNDING, finish="STOP", **extra):
    candidate = {"content": {"role": "model", "parts": list(parts)}, "index": 0, **extra}
    if finish:
        candidate["finish_reason"] = finish
    if grounding:
        candidate["grounding_metadata"] = grounding
    return {"candidates": [candidate], "usage_metadata": {"prompt_token_count": 5, "candidates_token_count": 20,
                                                          "tool_use_prompt_token_count": 100}}


def cited(text, annotations):
    return [(text[a["url_citation"]["start_index"]:a["url_citation"]["end_index"]], a["url_citation"]["title"])
            for a in annotations]


def test_byte_offsets_become_character_offsets_one_annotation_per_page():
    # The premise: the segments' byte offsets are not character offsets.
    assert byte_span(TEXT, THIRD)["start_index"] != TEXT.index(THIRD)
    annotations = chat_annotations(TEXT, GROUNDING)
    assert cited(TEXT, annotations) == [(FIRST, "cafe.fr"), (SECOND, "tokyo.jp"), (SECOND, "earth.org"),
                                        (THIRD, "earth.org")]
    assert annotations[0] == {"type": "url_citation", "url_citation": {
        "start_index": 0, "end_index": len(FIRST), "url": "https://example.com/a", "title": "cafe.fr"}}


def test_a_segment_of_another_part_is_found_by_its_text():
    # partIndex 1 after a thought summary: the offsets count from that part, the text is the message's.
    grounding = {**GROUNDING, "grounding_supports": [
        {"segment": byte_span(SECOND, "14 million", part_index=1), "grounding_chunk_indices": [1]}]}
    assert cited(TEXT, chat_annotations(TEXT, grounding)) == [("14 million", "tokyo.jp")]


def test_search_count_and_raw_metadata_in_geminis_names():
    assert search_count(GROUNDING) == 2
    assert search_count(None) == 0
    raw = raw_grounding(GROUNDING)
    assert raw["webSearchQueries"] == GROUNDING["web_search_queries"]
    assert raw["groundingSupports"][1]["groundingChunkIndices"] == [1, 2]
    assert raw["searchEntryPoint"] == {"renderedContent": "<div>chips</div>"}


def test_web_search_options_turn_on_google_search_and_refuse_functions():
    options = {"user_location": {"type": "approximate", "approximate": {"country": "FR"}},
               "search_context_size": "high"}
    config = gemini_request(request(web_search_options=options), "gemini-2.5-flash").config
    assert config["tools"] == [{"google_search": {}}]
    assert "tool_config" not in config
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with pytest.raises(ApiError) as refused:
        gemini_request(request(web_search_options={}, tools=tools), "gemini-2.5-flash")
    assert (refused.value.status, refused.value.param) == (400, "web_search_options")


def test_a_grounded_answer_has_annotations_usage_and_raw_metadata():
    completion = completion_from_response(gemini_answer({"text": "Thinking", "thought": True}, {"text": TEXT}),
                                          AnswerContext(**HEAD), {})
    assert_openai("CreateChatCompletionResponse", completion)
    message = completion["choices"][0]["message"]
    assert message["content"] == TEXT
    assert message["annotations"] == chat_annotations(TEXT, GROUNDING)
    assert message["grounding_metadata"]["webSearchQueries"] == GROUNDING["web_search_queries"]
    assert completion["usage"]["server_tool_use"] == {"web_search_requests": 2}
    assert completion["usage"]["prompt_tokens"] == 105  # the search results the model read
    plain = completion_from_response(gemini_answer({"text": TEXT}, grounding=None), AnswerContext(**HEAD), {})
    assert "annotations" not in plain["choices"][0]["message"]
    assert "server_tool_use" not in plain["usage"]


@pytest.mark.parametrize("where", ["first", "last", "split"])
def test_a_grounded_stream_sends_its_annotations_once_before_the_finish(where):
    pieces = [TEXT[:7], TEXT[7:30], TEXT[30:]]
    metadata = {"first": [GROUNDING, None, None, None], "last": [None, None, None, GROUNDING],
                "split": [{"web_search_queries": GROUNDING["web_search_queries"]}, None, None,
                          {**GROUNDING, "web_search_queries": []}]}[where]
    upstream = [gemini_answer({"text": piece}, grounding=metadata[n], finish=None) for n, piece in enumerate(pieces)]
    # Grounded Gemini streams end with a chunk that has the metadata and no content.
    upstream.append({"candidates": [{"index": 0, "finish_reason": "STOP",
                                     **({"grounding_metadata": metadata[3]} if metadata[3] else {})}],
                     "usage_metadata": {"prompt_token_count": 5, "candidates_token_count": 20}})
    stream = ChatStream(AnswerContext(**HEAD, grounded=True), include_usage=True)
    chunks = [chunk for answer in upstream for chunk in stream.chunks_from(answer)] + stream.close()
    for chunk in chunks:
        assert_openai("CreateChatCompletionStreamResponse", chunk)
    deltas = [chunk["choices"][0] for chunk in chunks if chunk["choices"]]
    content = "".join(d["delta"].get("content") or "" for d in deltas)
    assert content == TEXT
    annotated = [n for n, d in enumerate(deltas) if "annotations" in d["delta"]]
    assert len(annotated) == 1
    assert deltas[annotated[0] + 1]["finish_reason"] == "stop"
    delta = deltas[annotated[0]]["delta"]
    assert delta["annotations"] == chat_annotations(TEXT, GROUNDING)
    assert delta["grounding_metadata"]["webSearchQueries"] == GROUNDING["web_search_queries"]
    assert chunks[-1]["usage"]["server_tool_use"] == {"web_search_requests": 2}


def test_service_tier_goes_to_gemini_and_is_echoed():
    assert [service_tier(t) for t in (None, "auto", "default", "flex", "priority", "fast")] == [
        None, None, "standard", "flex", "priority", "priority"]
    with pytest.raises(ApiError) as refused:
        service_tier("scale")
    assert refused.value.param == "service_tier"
    assert gemini_request(request(service_tier="flex"), "gemini-2.5-flash").config["service_tier"] == "flex"
    answer = gemini_answer({"text": "Hi"}, grounding=None)
    echoed = completion_from_response(answer, AnswerContext(**HEAD, service_tier="auto"), {})
    assert echoed["service_tier"] == "default"
    fast = completion_from_response(answer, AnswerContext(**HEAD, service_tier="fast"), {})
    assert fast["service_tier"] == "priority"
    assert "service_tier" not in completion_from_response(answer, AnswerContext(**HEAD), {})
    stream = ChatStream(AnswerContext(**HEAD, service_tier="priority"))
    assert all(chunk["service_tier"] == "priority" for chunk in stream.chunks_from(answer))
