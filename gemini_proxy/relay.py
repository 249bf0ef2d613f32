"""What happens between a view and Gemini, for each API: a loaded request made into Gemini
calls (model name resolved, media fetched, thought signatures looked up, ids and time taken),
the calls made, and their answers translated, with the request's record (its log line and
metrics) and the thought signatures kept on the way.

A stream is opened and its first chunk pulled before the view returns, so that a failure to
start (bad key, unknown model, quota) is a real HTTP status; after that the generator only
translates plain values and closes the upstream iterator in `finally` (WSGI's close() on a
client that went away reaches it through web/sse.py).
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError, invalid_model
from gemini_proxy.media.parts import media_of
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.services import Services
from gemini_proxy.translate.chat import AnswerContext, GeminiRequest, completion_from_response, gemini_request
from gemini_proxy.translate.completions import (
    CompletionContext,
    TextCompletionStream,
    chat_request_from,
    text_completion_from,
)
from gemini_proxy.translate.embeddings import batches, embed_config, embedding_list, prompt_tokens_from, vectors_from
from gemini_proxy.translate.stream import ChatStream


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


def _tool_call_ids(messages: list[dict]) -> list[str]:
    return [call["id"] for message in messages for call in message.get("tool_calls") or ()]


def chat_request(services: Services, body: dict) -> GeminiRequest:
    """The Gemini request for a loaded chat request: its media fetched, its signatures looked up."""
    model = chat_model(services.settings, body.get("model"))
    media = media_of(body["messages"], services.media_limits, services.settings.media_fetch_urls)
    signatures = services.signatures.get_many(_tool_call_ids(body["messages"]))
    return gemini_request(body, model, services.request_defaults, signatures=signatures, media=media)


def chat_answer(body: dict, default_model: str) -> AnswerContext:
    """The id, time and model name of a chat answer (the name the client asked for)."""
    return AnswerContext(
        completion_id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or default_model, n=body.get("n") or 1,
        new_call_id=new_call_id, first_call_only=body.get("parallel_tool_calls") is False)


def complete_chat(services: Services, gemini: GeminiRequest, answer: AnswerContext, record: RequestRecord) -> dict:
    """The chat.completion of one whole Gemini answer."""
    response = services.upstream.generate(gemini.model, gemini.contents, gemini.config, record.client.gemini_key)
    signatures: dict[str, str] = {}
    completion = completion_from_response(response, answer, signatures)
    services.signatures.put_many(signatures)
    record.add_usage(completion["usage"])
    return completion


def stream_chat(services: Services, gemini: GeminiRequest, answer: AnswerContext, usage: bool,
                record: RequestRecord) -> Iterator[dict]:
    """The chat.completion.chunk objects of a Gemini stream, opened now (`usage`: the client
    asked for a last chunk with the usage)."""
    chunks = _opened(services, gemini, ChatStream(answer, usage), record)
    services.telemetry.stream_opened(record)
    return chunks


def _opened(services: Services, gemini: GeminiRequest, stream: ChatStream, record: RequestRecord) -> Iterator[dict]:
    """Opens the upstream stream and pulls its first chunk now; the rest is relayed as it comes."""
    chunks = services.upstream.stream(gemini.model, gemini.contents, gemini.config, record.client.gemini_key)
    first = next(chunks, None)

    def translated(chunk: dict) -> list[dict]:
        out = stream.chunks_from(chunk)
        record.mark_first_token()
        # Stored before the client sees the call, so its next turn can never outrun it.
        services.signatures.put_many(stream.take_signatures())
        return out

    def relayed() -> Iterator[dict]:
        try:
            if first is not None:
                yield from translated(first)
            for chunk in chunks:
                yield from translated(chunk)
            yield from stream.close()
        except ApiError as error:
            record.upstream_error = error.upstream
            raise
        finally:
            record.add_usage(stream.usage())
            chunks.close()

    return relayed()


def completion_requests(services: Services, body: dict) -> list[GeminiRequest]:
    model = chat_model(services.settings, body.get("model"))
    return [gemini_request(chat_request_from(body, prompt), model, services.request_defaults)
            for prompt in body["prompt"]]


def completion_context(body: dict, default_model: str) -> CompletionContext:
    return CompletionContext(
        completion_id=f"cmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or default_model, prompts=tuple(body["prompt"]),
        n=body.get("n") or 1, echo=bool(body.get("echo")))


def _chat_answer_of(context: CompletionContext) -> AnswerContext:
    return AnswerContext(context.completion_id, context.created, context.model, context.n)


def complete_prompts(services: Services, geminis: list[GeminiRequest], context: CompletionContext,
                     record: RequestRecord) -> dict:
    """The text_completion of every prompt's whole answer, one Gemini call after the other."""
    answer = _chat_answer_of(context)
    completions = [completion_from_response(services.upstream.generate(
        gemini.model, gemini.contents, gemini.config, record.client.gemini_key), answer, {}) for gemini in geminis]
    for completion in completions:
        record.add_usage(completion["usage"])
    return text_completion_from(completions, context)


def stream_prompts(services: Services, geminis: list[GeminiRequest], context: CompletionContext, usage: bool,
                   record: RequestRecord) -> Iterator[dict]:
    """The prompts' upstream streams one after the other, multiplexed by choice index. The
    first is opened now (a failure to start is a real HTTP error); later ones when their
    turn comes (a failure then is an error event, like any failure after the start)."""
    answer, stream = _chat_answer_of(context), TextCompletionStream(context, usage)

    def opened(gemini: GeminiRequest) -> Iterator[dict]:
        return _opened(services, gemini, ChatStream(answer, include_usage=True), record)

    first = opened(geminis[0])

    def relayed() -> Iterator[dict]:
        prompt_chunks = first
        try:
            for prompt_index, gemini in enumerate(geminis):
                prompt_chunks = first if prompt_index == 0 else opened(gemini)
                for chat_chunk in prompt_chunks:
                    yield from stream.chunks_from(prompt_index, chat_chunk)
                prompt_chunks.close()
            yield from stream.close()
        finally:
            prompt_chunks.close()
            first.close()

    services.telemetry.stream_opened(record)
    return relayed()


def embeddings(services: Services, body: dict, record: RequestRecord) -> dict:
    """The embedding list for a loaded embeddings request, in Gemini's batches."""
    settings = services.settings
    model = settings.resolve_embedding_model(body.get("model"))
    if model is None:
        raise invalid_model()
    record.model = body.get("model") or settings.default_embedding_model
    texts, config, key = body["input"], embed_config(body), record.client.gemini_key
    responses = [services.upstream.embed(model, batch, config, key)
                 for batch in batches(texts, settings.embedding_batch_size)]
    vectors = vectors_from(responses, len(texts))
    tokens = prompt_tokens_from(responses)
    if tokens is None:
        # Gemini's API reports no token counts for embeddings: one countTokens call does.
        tokens = services.upstream.count_tokens(model, texts, key)
    answer = embedding_list(vectors, record.model, body.get("encoding_format"),
                            renormalise=body.get("dimensions") is not None, prompt_tokens=tokens)
    record.add_usage(answer["usage"])
    return answer
