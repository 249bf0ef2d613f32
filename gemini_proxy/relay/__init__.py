"""What happens between a view and Gemini, one module per API (chat, completions, embeddings,
responses): a loaded request made into Gemini calls (model name resolved, media fetched,
thought signatures and stored history looked up, ids and time taken), the calls made, and
their answers translated, with the request's record (its log line and metrics) and the state
that outlives the request (thought signatures, stored responses) kept on the way.

Which model answers is fallbacks.py's: the one asked for, then its MODEL_FALLBACKS while each
is overloaded, each asked with the request translated again for it.

A stream is opened and its first chunk pulled before the view returns (streams.py), so that a
failure to start (bad key, unknown model, quota) is a real HTTP status (or a fallback); after
that the generator only translates plain values and closes the upstream iterator in `finally`
(WSGI's close() on a client that went away reaches it through web/sse.py).
"""
from __future__ import annotations

import uuid

from gemini_proxy.config import Settings
from gemini_proxy.errors import invalid_model


def chat_model(settings: Settings, requested: str | None) -> str:
    """The Gemini model id for the name a client asked for (an alias, or a Gemini id)."""
    model = settings.resolve_model(requested)
    if model is None:
        raise invalid_model()
    return model


def include_usage(body: dict) -> bool:
    return bool((body.get("stream_options") or {}).get("include_usage"))


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"
