"""Google Search grounding -> url_citation annotations and web_search_call items
(translate/responses/grounding.py), alone and through the Response and its stream.

Gemini's Segment indices are UTF-8 byte offsets into the Part's text (start inclusive, end
exclusive: Google's API reference for Segment); OpenAI's annotation indices count characters.
"""
import pytest

from gemini_proxy.translate.responses.grounding import citations_from, web_search_item
from gemini_proxy.translate.responses.output import response_from_gemini
from tests.support import byte_span
from tests.support.responses import (
    answer,
    assert_events,
    assert_response,
    assert_stream,
    context,
    run_stream,
    unstreamed,
)

TEXT = "Café Rue opened in 2019. 東京 has 14 million people. Both are busy."
FIRST, SECOND = "Café Rue opened in 2019.", "東京 has 14 million people."
PAGES = [{"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/a", "title": "cafe.fr"}},
         {"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/b", "title": "tokyo.jp"}},
         {"web": {"uri": "https://vertexaisearch.cloud.google.com/grounding-api-redirect/c"}},
         {"retrieved_context": {"uri": "gs://bucket/doc", "title": "not a web page"}}]


GROUNDING = {
    "web_search_queries": ["cafe rue opening year", "tokyo population"],
    "grounding_chunks": PAGES,
    "grounding_supports": [
        {"segment": byte_span(TEXT, SECOND), "grounding_chunk_indices": [1, 2], "confidence_scores": [0.9, 0.7]},
        {"segment": byte_span(TEXT, FIRST), "grounding_chunk_indices": [0, 3]},
    ],
    "search_entry_point": {"rendered_content": "<div>...</div>"},
}


def test_byte_offsets_become_character_offsets():
    second = byte_span(TEXT, SECOND)
    # The premise: é (2 bytes) and the two kanji (3 bytes each) take more bytes than characters.
    assert second["start_index"] == TEXT.index(SECOND) + 1
    assert second["end_index"] == TEXT.index(SECOND) + len(SECOND) + 1 + 2 * 2
    annotations = citations_from(TEXT, GROUNDING)
    assert annotations == [
        {"type": "url_citation", "url": PAGES[0]["web"]["uri"], "title": "cafe.fr", "start_index": 0,
         "end_index": len(FIRST)},
        {"type": "url_citation", "url": PAGES[1]["web"]["uri"], "title": "tokyo.jp",
         "start_index": TEXT.index(SECOND), "end_index": TEXT.index(SECOND) + len(SECOND)},
        # A page without a title is named by its URL; the chunk that is no web page cites nothing.
        {"type": "url_citation", "url": PAGES[2]["web"]["uri"], "title": PAGES[2]["web"]["uri"],
         "start_index": TEXT.index(SECOND), "end_index": TEXT.index(SECOND) + len(SECOND)},
    ]
    for annotation, cited in zip(annotations, (FIRST, SECOND, SECOND), strict=True):
        assert TEXT[annotation["start_index"]:annotation["end_index"]] == cited


def test_segments_that_do_not_fit_the_text_are_found_by_their_text_or_dropped():
    moved = {"grounding_chunks": PAGES, "grounding_supports": [
        # Offsets into another part (e.g. counted with thoughts before the text): found by text.
        {"segment": {"part_index": 1, "start_index": 3, "end_index": 9, "text": "14 million"},
         "grounding_chunk_indices": [1]},
        # Inside the two bytes of é, with no text to go by: not offsets into this text.
        {"segment": {"start_index": 4, "end_index": 7}, "grounding_chunk_indices": [0]},
        # Past the end, text absent from the answer; and a chunk index out of range.
        {"segment": {"start_index": 500, "end_index": 510, "text": "nowhere"}, "grounding_chunk_indices": [0]},
        {"segment": byte_span(TEXT, "Both"), "grounding_chunk_indices": [9]},
    ]}
    at = TEXT.index("14 million")
    assert [(a["start_index"], a["end_index"], a["title"]) for a in citations_from(TEXT, moved)] == [
        (at, at + len("14 million"), "tokyo.jp")]


def test_no_grounding_no_citations():
    assert citations_from(TEXT, None) == []
    assert citations_from(TEXT, {"web_search_queries": ["q"]}) == []
    assert citations_from("", GROUNDING) == []


def test_the_search_becomes_a_web_search_call():
    assert web_search_item("ws_1", GROUNDING) == {
        "id": "ws_1", "type": "web_search_call", "status": "completed",
        "action": {"type": "search", "query": "cafe rue opening year", "queries": GROUNDING["web_search_queries"],
                   "sources": [{"type": "url", "url": page["web"]["uri"]} for page in PAGES[:3]]}}
    assert web_search_item("ws_1", {"search_entry_point": {}}) is None
    assert web_search_item("ws_1", None) is None


def test_a_grounded_answer_is_a_response_with_citations_and_a_search():
    response, _ = response_from_gemini(answer({"text": TEXT}, grounding_metadata=GROUNDING), context())
    assert_response(response)
    message, search = response["output"]
    assert message["content"][0]["annotations"] == citations_from(TEXT, GROUNDING)
    assert search["type"] == "web_search_call"
    assert search["id"].startswith("ws_")


@pytest.mark.parametrize("where", ["first", "last", "every"])
def test_a_grounded_stream_announces_its_citations_before_the_text_is_done(where):
    pieces = [TEXT[:10], TEXT[10:30], TEXT[30:]]
    chunks = [answer({"text": piece}, finish=None if n < 2 else "STOP",
                     **({"grounding_metadata": GROUNDING} if where == "every" or (where == "first") == (n == 0)
                        else {}))
              for n, piece in enumerate(pieces)]
    events, _ = run_stream(chunks)
    assert_events(events)
    final = assert_stream(events)
    assert final == response_from_gemini(unstreamed(chunks), context())[0]
    kinds = [event["type"] for event in events]
    added = [event for event in events if event["type"] == "response.output_text.annotation.added"]
    assert [event["annotation"] for event in added] == citations_from(TEXT, GROUNDING)
    assert [event["annotation_index"] for event in added] == [0, 1, 2]
    assert kinds.index("response.output_text.annotation.added") < kinds.index("response.output_text.done")
    done = next(event for event in events if event["type"] == "response.content_part.done")
    assert done["part"]["annotations"] == citations_from(TEXT, GROUNDING)
    assert kinds[-6:] == ["response.output_item.added", "response.web_search_call.in_progress",
                          "response.web_search_call.searching", "response.web_search_call.completed",
                          "response.output_item.done", "response.completed"]
