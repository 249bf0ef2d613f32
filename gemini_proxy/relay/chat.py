"""Chat completions between the view and Gemini: the request's media and signatures, the
call, the answer translated, its signatures kept."""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

from gemini_proxy.errors import ApiError
from gemini_proxy.media.parts import media_of
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay import chat_model, new_call_id
from gemini_proxy.relay.endings import generate_answer, open_answer
from gemini_proxy.relay.fallbacks import ModelChain, Routable
from gemini_proxy.services import Services
from gemini_proxy.translate.chat import AnswerContext, GeminiRequest, completion_from_response, gemini_request
from gemini_proxy.translate.stream import ChatStream


def _tool_call_ids(messages: list[dict]) -> list[str]:
    return [call["id"] for message in messages for call in message.get("tool_calls") or ()]


def chat_request(services: Services, body: dict) -> Routable:
    """The Gemini request for a loaded chat request (its media fetched, its signatures looked up),
    and for its fallback models."""
    model = chat_model(services.settings, body.get("model"))
    media = media_of(body["messages"], services.media_limits, services.settings.media_fetch_urls,
                     cloud_storage=services.settings.vertex)
    call_ids = _tool_call_ids(body["messages"])

    def for_model(target: str) -> GeminiRequest:
        signatures = services.signatures.get_many(call_ids, target)
        return gemini_request(body, target, services.request_defaults, signatures=signatures, media=media)
    return Routable(for_model(model), for_model)


def chat_answer(body: dict, default_model: str) -> AnswerContext:
    """The id, time and model name of a chat answer (the name the client asked for)."""
    return AnswerContext(
        completion_id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()),
        model=body.get("model") or default_model, n=body.get("n") or 1,
        new_call_id=new_call_id, first_call_only=body.get("parallel_tool_calls") is False,
        service_tier=body.get("service_tier"), grounded=body.get("web_search_options") is not None)


def complete_chat(services: Services, requests: Routable, answer: AnswerContext, record: RequestRecord) -> dict:
    """The chat.completion of one whole Gemini answer."""
    chain = ModelChain(services, record, requests.first.model)
    response = generate_answer(chain, requests, record, services.settings.empty_answer_retries)
    signatures: dict[str, str] = {}
    completion = completion_from_response(response, answer, signatures)
    services.signatures.put_many(signatures, chain.model)
    record.add_usage(completion["usage"])
    return completion


def stream_chat(services: Services, requests: Routable, answer: AnswerContext, usage: bool,
                record: RequestRecord) -> Iterator[dict]:
    """The chat.completion.chunk objects of a Gemini stream, opened now (`usage`: the client
    asked for a last chunk with the usage)."""
    chain = ModelChain(services, record, requests.first.model)
    chunks = relayed(services, chain, requests, ChatStream(answer, usage), record)
    services.telemetry.stream_opened(record)
    return chunks


def relayed(services: Services, chain: ModelChain, requests: Routable, stream: ChatStream, record: RequestRecord,
            fallback: bool = True) -> Iterator[dict]:
    """Opens the upstream stream and pulls its first chunk now (falling back to the chain's next
    models while it fails to start, if `fallback`); the rest is relayed as it comes."""
    upstream = open_answer(chain, requests, record, services.settings.empty_answer_retries, fallback)
    model = chain.model

    def translated(chunk: dict) -> list[dict]:
        out = stream.chunks_from(chunk)
        record.mark_first_token()
        # Stored before the client sees the call, so its next turn can never outrun it.
        services.signatures.put_many(stream.take_signatures(), model)
        return out

    def chunks() -> Iterator[dict]:
        try:
            for chunk in upstream:
                yield from translated(chunk)
            yield from stream.close()
        except ApiError as error:
            record.upstream_error = error.upstream
            raise
        finally:
            record.add_usage(stream.usage())
            upstream.close()

    return chunks()
