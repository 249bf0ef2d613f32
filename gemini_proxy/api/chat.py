"""POST /v1/chat/completions (and /chat/completions, which base_url="http://host:8000" clients call)."""
from __future__ import annotations

import json
import time
import uuid
from typing import Iterator

from flask import Blueprint

from gemini_proxy.media import data as media

from gemini_proxy.media import fetch as media_fetch
from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError, invalid_request
from gemini_proxy.web.hooks import record
from gemini_proxy.schemas import load
from gemini_proxy.web.sse import stream_response
from gemini_proxy.translate.chat import AnswerContext, GeminiRequest, completion_from_response, gemini_request
from gemini_proxy.translate.messages import http_media_urls
from gemini_proxy.translate.stream import ChatStream
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services, services
from gemini_proxy.web.body import json_body

bp = Blueprint("chat", __name__)

# Lists what the gateway removed or rewrote in a client's JSON Schemas for Gemini.
DROPPED_HEADER = "X-Gemini-Proxy-Dropped-Schema-Keywords"
_DROPPED_HEADER_MAX = 2000


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions")
def create_chat_completion():
    app = services()
    body = load(app.chat_schema, json_body())
    gemini = gemini_request(body, app.settings, fetched=fetch_media(body["messages"], app.settings),
                            signatures=app.signatures.get_many(tool_call_ids(body["messages"])))
    answer = AnswerContext(
        completion_id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or app.settings.default_model, n=body.get("n") or 1,
        new_call_id=new_call_id, first_call_only=body.get("parallel_tool_calls") is False)
    headers, current = dropped_header(gemini.dropped), record()
    current.model = answer.model
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = relay(app, gemini, ChatStream(answer, include_usage), current)
        app.telemetry.stream_opened(current)
        return stream_response(chunks, headers)
    signatures: dict[str, str] = {}
    response = app.upstream.generate(gemini.model, gemini.contents, gemini.config, current.client.gemini_key)
    completion = completion_from_response(response, answer, signatures)
    app.signatures.put_many(signatures)
    current.add_usage(completion["usage"])
    return completion, 200, headers


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def tool_call_ids(messages: list[dict]) -> list[str]:
    return [call["id"] for message in messages for call in message.get("tool_calls") or ()]


def fetch_media(messages: list[dict], settings: Settings) -> dict[str, tuple[str, bytes]]:
    """The http(s) images of the request, fetched within the configured limits."""
    limits = media.MediaLimits(max_bytes=settings.max_media_bytes, timeout=settings.media_fetch_timeout,
                               max_redirects=settings.media_fetch_max_redirects,
                               allow_private=settings.media_allow_private_urls)
    fetched = {}
    for url, param in http_media_urls(messages):
        if not settings.media_fetch_urls:
            raise invalid_request("This gateway does not fetch media URLs (MEDIA_FETCH_URLS is off): send the "
                                  "image as a data: URL.", param, "unsupported_parameter")
        if url not in fetched:
            try:
                fetched[url] = media_fetch.fetch(url, limits)
            except media.MediaError as error:
                raise invalid_request(error.message, param) from None
    return fetched


def dropped_header(dropped: tuple[str, ...]) -> dict[str, str]:
    if not dropped:
        return {}
    # The paths hold the client's property names: escaped as in JSON strings (ASCII, no control
    # characters), since a header can carry neither a line break nor, through gunicorn, non-Latin-1.
    value = ", ".join(json.dumps(path)[1:-1] for path in dropped)
    if len(value) > _DROPPED_HEADER_MAX:
        value = value[:_DROPPED_HEADER_MAX].rsplit(", ", 1)[0] + ", ..."
    return {DROPPED_HEADER: value}


def relay(app: Services, gemini: GeminiRequest, stream: ChatStream, current: RequestRecord) -> Iterator[dict]:
    """Opens the upstream stream and pulls its first chunk now, so that a failure to start
    (bad key, unknown model, quota) is a real HTTP error; the rest is relayed as it comes."""
    chunks = app.upstream.stream(gemini.model, gemini.contents, gemini.config, current.client.gemini_key)
    first = next(chunks, None)

    def translated(chunk: dict) -> list[dict]:
        out = stream.chunks_from(chunk)
        current.mark_first_token()
        # Stored before the client sees the call, so its next turn can never outrun it.
        app.signatures.put_many(stream.take_signatures())
        return out

    def relayed() -> Iterator[dict]:
        try:
            if first is not None:
                yield from translated(first)
            for chunk in chunks:
                yield from translated(chunk)
            yield from stream.close()
        except ApiError as error:
            current.upstream_error = error.upstream
            raise
        finally:
            current.add_usage(stream.usage())
            chunks.close()

    return relayed()
