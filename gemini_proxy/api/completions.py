"""POST /v1/completions (and /completions): OpenAI's legacy text API, answered by the chat
machinery, one chat request per prompt."""
from __future__ import annotations

import time
import uuid
from typing import Iterator

from flask import Blueprint

from gemini_proxy.schemas import load
from gemini_proxy.web.sse import stream_response
from gemini_proxy.translate.chat import AnswerContext, GeminiRequest, completion_from_response, gemini_request
from gemini_proxy.translate.completions import CompletionContext, TextCompletionStream, chat_request_from, text_completion_from
from gemini_proxy.translate.stream import ChatStream
from gemini_proxy.web.hooks import record
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services, services
from gemini_proxy.web.body import json_body
from gemini_proxy.api.chat import relay

bp = Blueprint("completions", __name__)


@bp.post("/v1/completions")
@bp.post("/completions")
def create_completion():
    app = services()
    body = load(app.completion_schema, json_body())
    geminis = [gemini_request(chat_request_from(body, prompt), app.settings) for prompt in body["prompt"]]
    context = CompletionContext(
        completion_id=f"cmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or app.settings.default_model, prompts=tuple(body["prompt"]),
        n=body.get("n") or 1, echo=bool(body.get("echo")))
    answer = AnswerContext(context.completion_id, context.created, context.model, context.n)
    current = record()
    current.model = context.model
    if body.get("stream"):
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = relay_prompts(app, geminis, answer, TextCompletionStream(context, include_usage), current)
        app.telemetry.stream_opened(current)
        return stream_response(chunks)
    completions = [completion_from_response(
        app.upstream.generate(g.model, g.contents, g.config, current.client.gemini_key), answer, {}) for g in geminis]
    for completion in completions:
        current.add_usage(completion["usage"])
    return text_completion_from(completions, context)


def relay_prompts(app: Services, geminis: list[GeminiRequest], answer: AnswerContext,
                  stream: TextCompletionStream, current: RequestRecord) -> Iterator[dict]:
    """The prompts' upstream streams one after the other, multiplexed by choice index. The
    first is opened now (a failure to start is a real HTTP error); later ones when their
    turn comes (a failure then is an error event, like any failure after the start)."""
    def opened(gemini: GeminiRequest) -> Iterator[dict]:
        return relay(app, gemini, ChatStream(answer, include_usage=True), current)

    first = opened(geminis[0])

    def relayed() -> Iterator[dict]:
        current = first
        try:
            for prompt_index, gemini in enumerate(geminis):
                current = first if prompt_index == 0 else opened(gemini)
                for chat_chunk in current:
                    yield from stream.chunks_from(prompt_index, chat_chunk)
                current.close()
            yield from stream.close()
        finally:
            current.close()
            first.close()

    return relayed()
