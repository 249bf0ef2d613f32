"""POST /v1/chat/completions (and /chat/completions, which base_url="http://host:8000" clients call)."""
from __future__ import annotations

import json

from flask import Blueprint

from gemini_proxy.relay import chat as relay
from gemini_proxy.relay import include_usage
from gemini_proxy.schemas import load
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import stream_response

bp = Blueprint("chat", __name__)

# Lists what the gateway removed or rewrote in a client's JSON Schemas for Gemini.
DROPPED_HEADER = "X-Gemini-Proxy-Dropped-Schema-Keywords"
_DROPPED_HEADER_MAX = 2000


@bp.post("/v1/chat/completions")
@bp.post("/chat/completions")
def create_chat_completion():
    services, record = current_services(), current_record()
    body = load(services.chat_schema, json_body())
    requests = relay.chat_request(services, body)
    answer = relay.chat_answer(body, services.settings.default_model)
    record.model = answer.model
    headers = dropped_header(requests.dropped)
    if body.get("stream"):
        chunks = relay.stream_chat(services, requests, answer, include_usage(body), record)
        return stream_response(chunks, headers)
    return relay.complete_chat(services, requests, answer, record), 200, headers


def dropped_header(dropped: tuple[str, ...]) -> dict[str, str]:
    if not dropped:
        return {}
    # The paths hold the client's property names: escaped as in JSON strings (ASCII, no control
    # characters), since a header can carry neither a line break nor, through gunicorn, non-Latin-1.
    value = ", ".join(json.dumps(path)[1:-1] for path in dropped)
    if len(value) > _DROPPED_HEADER_MAX:
        value = value[:_DROPPED_HEADER_MAX].rsplit(", ", 1)[0] + ", ..."
    return {DROPPED_HEADER: value}
