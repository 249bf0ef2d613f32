"""POST /v1/completions (and /completions): OpenAI's legacy text API, answered by the chat
machinery, one chat request per prompt."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.relay import completions as relay
from gemini_proxy.relay import include_usage
from gemini_proxy.schemas import load
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import stream_response

bp = Blueprint("completions", __name__)


@bp.post("/v1/completions")
@bp.post("/completions")
def create_completion():
    services, record = current_services(), current_record()
    body = load(services.completion_schema, json_body())
    prompts = relay.completion_requests(services, body)
    context = relay.completion_context(body, services.settings.default_model)
    record.model = context.model
    if body.get("stream"):
        return stream_response(relay.stream_prompts(services, prompts, context, include_usage(body), record))
    return relay.complete_prompts(services, prompts, context, record)
