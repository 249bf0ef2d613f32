"""POST /v1/chat/completions (and /chat/completions, which base_url="http://host:8000" clients call)."""
from __future__ import annotations

import time
import uuid
from typing import Iterator

from flask import Blueprint

from ..schemas import load
from ..sse import stream_response
from ..translate.chat import GeminiRequest, completion_from_response, gemini_request
from ..translate.stream import ChatStream
from ..upstream import Upstream
from . import json_body, services

bp = Blueprint("chat", __name__)


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions")
def create_chat_completion():
    app = services()
    body = load(app.chat_schema, json_body())
    gemini = gemini_request(body, app.settings)
    answer = {"completion_id": f"chatcmpl-{uuid.uuid4().hex}", "created": int(time.time()),
              "model": body.get("model") or app.settings.default_model}
    n = body.get("n") or 1
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return stream_response(relay(app.upstream, gemini, ChatStream(**answer, n=n, include_usage=include_usage)))
    return completion_from_response(app.upstream.generate(*gemini), **answer, n=n)


def relay(upstream: Upstream, gemini: GeminiRequest, stream: ChatStream) -> Iterator[dict]:
    """Opens the upstream stream and pulls its first chunk now, so that a failure to start
    (bad key, unknown model, quota) is a real HTTP error; the rest is relayed as it comes."""
    chunks = upstream.stream(*gemini)
    first = next(chunks, None)

    def relayed() -> Iterator[dict]:
        try:
            if first is not None:
                yield from stream.chunks_from(first)
            for chunk in chunks:
                yield from stream.chunks_from(chunk)
            yield from stream.close()
        finally:
            chunks.close()

    return relayed()
