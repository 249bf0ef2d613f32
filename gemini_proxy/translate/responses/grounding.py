"""Google Search grounding -> OpenAI's web search output: url_citation annotations on the
output text (translate/grounding.py, shared with chat completions) and a web_search_call item.
"""
from __future__ import annotations

from gemini_proxy.translate.grounding import citations_from, sources

__all__ = ["citations_from", "web_search_item"]


def web_search_item(item_id: str, grounding: dict | None, *, done: bool = True) -> dict | None:
    """The web_search_call item of a grounded answer (None when Gemini did not search)."""
    grounding = grounding or {}
    queries = [q for q in grounding.get("web_search_queries") or () if isinstance(q, str)]
    urls = list(dict.fromkeys(page["uri"] for page in sources(grounding) if page and page.get("uri")))
    if not queries and not urls:
        return None
    action = {"type": "search", "queries": queries, "sources": [{"type": "url", "url": url} for url in urls]}
    if queries:
        action["query"] = queries[0]  # deprecated in the spec, and what older clients read
    return {"id": item_id, "type": "web_search_call", "status": "completed" if done else "in_progress",
            "action": action}
