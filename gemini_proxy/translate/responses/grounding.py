"""Google Search grounding -> OpenAI's web search output: url_citation annotations on the
output text and a web_search_call item.

Gemini's groundingMetadata (SDK names): web_search_queries, grounding_chunks[].web{uri, title},
grounding_supports[]{segment{part_index, start_index, end_index, text}, grounding_chunk_indices}.
A segment's indices are UTF-8 byte offsets into the answer text (start inclusive, end
exclusive; proto3 JSON leaves out a 0); OpenAI's start_index/end_index count characters, so
"Café" moves every later citation by one. The offsets are taken against the whole message
text (Gemini's streamed text parts are one text once joined); when the bytes there are not the
segment's own `text`, the segment is looked up by that text instead, and dropped if absent.
"""
from __future__ import annotations


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


def _sources(grounding: dict) -> list[dict]:
    """The web pages of the grounding chunks (None where a chunk is not a web page)."""
    return [(chunk or {}).get("web") or None for chunk in grounding.get("grounding_chunks") or ()]


def citations_from(text: str, grounding: dict | None) -> list[dict]:
    """The url_citation annotations of `text` (the message's output_text), in text order."""
    if not grounding or not text:
        return []
    data, pages = text.encode(), _sources(grounding)
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


def web_search_item(item_id: str, grounding: dict | None, *, done: bool = True) -> dict | None:
    """The web_search_call item of a grounded answer (None when Gemini did not search)."""
    grounding = grounding or {}
    queries = [q for q in grounding.get("web_search_queries") or () if isinstance(q, str)]
    urls = list(dict.fromkeys(page["uri"] for page in _sources(grounding) if page and page.get("uri")))
    if not queries and not urls:
        return None
    action = {"type": "search", "queries": queries, "sources": [{"type": "url", "url": url} for url in urls]}
    if queries:
        action["query"] = queries[0]  # deprecated in the spec, and what older clients read
    return {"id": item_id, "type": "web_search_call", "status": "completed" if done else "in_progress",
            "action": action}
