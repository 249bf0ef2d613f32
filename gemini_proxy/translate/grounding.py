"""Google Search grounding -> OpenAI's url_citation annotations (chat completions and the
Responses API share this; each wraps the citations in its own shape).

Gemini's groundingMetadata (SDK names): web_search_queries, grounding_chunks[].web{uri, title},
grounding_supports[]{segment{part_index, start_index, end_index, text}, grounding_chunk_indices}.
A segment's indices are UTF-8 byte offsets into the answer text (start inclusive, end
exclusive; proto3 JSON leaves out a 0); OpenAI's start_index/end_index count characters (code
points: what Python's str indexes), so "Café" moves every later citation by one. The offsets are
taken against the whole message text (Gemini's streamed text parts are one text once joined, and
thought parts are not in it); when the bytes there are not the segment's own `text` (a partIndex
past a thought summary or another part), the segment is looked up by that text instead, and
dropped if absent. Each index of a support's grounding_chunk_indices is one citation.
"""
from __future__ import annotations

from gemini_proxy.translate.wire import rest_names


def _span(text: str, data: bytes, segment: dict) -> tuple[int, int] | None:
    start, end = segment.get("start_index") or 0, segment.get("end_index") or 0
    quoted = segment.get("text")
    if 0 <= start < end <= len(data):
        try:
            head, piece = data[:start].decode(), data[start:end].decode()
        except UnicodeDecodeError:  # an offset inside a character: not offsets into this text
            head = piece = None
        if piece is not None and (not quoted or piece == quoted):
            return len(head), len(head) + len(piece)
    if quoted and (at := text.find(quoted)) >= 0:
        return at, at + len(quoted)
    return None


def sources(grounding: dict) -> list[dict | None]:
    """The web pages of the grounding chunks (None where a chunk is not a web page)."""
    return [(chunk or {}).get("web") or None for chunk in grounding.get("grounding_chunks") or ()]


def citations_from(text: str, grounding: dict | None) -> list[dict]:
    """The url_citation annotations of `text` in the Responses API's flat shape
    {type, url, title, start_index, end_index}, in text order."""
    if not grounding or not text:
        return []
    data, pages = text.encode(), sources(grounding)
    found: dict[tuple, dict] = {}
    for support in grounding.get("grounding_supports") or ():
        span = _span(text, data, support.get("segment") or {})
        if span is None:
            continue
        for index in support.get("grounding_chunk_indices") or ():
            page = pages[index] if isinstance(index, int) and 0 <= index < len(pages) else None
            if page and page.get("uri"):
                url = page["uri"]
                found.setdefault((span, url), {"type": "url_citation", "url": url, "title": page.get("title") or url,
                                               "start_index": span[0], "end_index": span[1]})
    return sorted(found.values(), key=lambda a: (a["start_index"], a["end_index"]))


def chat_annotations(text: str, grounding: dict | None) -> list[dict]:
    """Chat completions' message.annotations: {type: url_citation, url_citation: {...}}."""
    return [{"type": "url_citation", "url_citation": {key: citation[key] for key in
                                                      ("start_index", "end_index", "url", "title")}}
            for citation in citations_from(text, grounding)]


def search_count(grounding: dict | None) -> int:
    """How many searches Gemini ran for an answer (its web search queries)."""
    return sum(isinstance(query, str) for query in (grounding or {}).get("web_search_queries") or ())


def raw_grounding(grounding: dict) -> dict:
    """groundingMetadata as Gemini sent it (its REST names), for clients that render Google's
    search suggestions (searchEntryPoint)."""
    return rest_names(grounding)
