"""Legacy text completions between the view and Gemini: one chat request per prompt, answered
by the chat machinery."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay import chat_model
from gemini_proxy.relay.chat import relayed
from gemini_proxy.relay.endings import generate_answer
from gemini_proxy.relay.fallbacks import ModelChain, Routable
from gemini_proxy.services import Services
from gemini_proxy.translate.chat import AnswerContext, completion_from_response, gemini_request
from gemini_proxy.translate.completions import (
    CompletionContext,
    TextCompletionStream,
    chat_request_from,
    text_completion_from,
)
from gemini_proxy.translate.stream import ChatStream


def completion_requests(services: Services, body: dict) -> list[Routable]:
    """One Gemini request per prompt (and how to make it for the fallback models)."""
    model = chat_model(services.settings, body.get("model"))

    def routable(prompt: str) -> Routable:
        chat = chat_request_from(body, prompt)
        return Routable(gemini_request(chat, model, services.request_defaults),
                        lambda other: gemini_request(chat, other, services.request_defaults))
    return [routable(prompt) for prompt in body["prompt"]]


def completion_context(body: dict, default_model: str) -> CompletionContext:
    return CompletionContext(
        completion_id=f"cmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or default_model, prompts=tuple(body["prompt"]),
        n=body.get("n") or 1, echo=bool(body.get("echo")))


def _chat_answer_of(context: CompletionContext) -> AnswerContext:
    return AnswerContext(context.completion_id, context.created, context.model, context.n)


def complete_prompts(services: Services, prompts: list[Routable], context: CompletionContext,
                     record: RequestRecord) -> dict:
    """The text_completion of every prompt's whole answer, one Gemini call after the other."""
    answer, chain = _chat_answer_of(context), ModelChain(services, record, prompts[0].first.model)
    retries = services.settings.empty_answer_retries
    completions = [completion_from_response(generate_answer(chain, prompt, record, retries), answer, {})
                   for prompt in prompts]
    for completion in completions:
        record.add_usage(completion["usage"])
    return text_completion_from(completions, context)


def stream_prompts(services: Services, prompts: list[Routable], context: CompletionContext, usage: bool,
                   record: RequestRecord) -> Iterator[dict]:
    """The prompts' upstream streams one after the other, multiplexed by choice index. The
    first is opened now (a failure to start is a real HTTP error, or a fallback); later ones
    when their turn comes, with the model that answered the first (a failure then is an error
    event, like any failure after the start)."""
    answer, stream = _chat_answer_of(context), TextCompletionStream(context, usage)
    chain = ModelChain(services, record, prompts[0].first.model)

    def opened(prompt: Routable, fallback: bool) -> Iterator[dict]:
        return relayed(services, chain, prompt, ChatStream(answer, include_usage=True), record, fallback)

    first = opened(prompts[0], fallback=True)

    def chunks() -> Iterator[dict]:
        prompt_chunks = first
        try:
            for prompt_index, prompt in enumerate(prompts):
                prompt_chunks = first if prompt_index == 0 else opened(prompt, fallback=False)
                for chat_chunk in prompt_chunks:
                    yield from stream.chunks_from(prompt_index, chat_chunk)
                prompt_chunks.close()
            yield from stream.close()
        finally:
            prompt_chunks.close()
            first.close()

    services.telemetry.stream_opened(record)
    return chunks()
