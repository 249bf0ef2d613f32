"""The Responses API between the views and Gemini: a loaded CreateResponse made into a Gemini
request (the previous_response_id chain, item_references and thought signatures looked up,
media fetched), the call made, the answer translated into a Response (or its events), and the
Response kept: in the response store when `store` is true (the default, as OpenAI), and its
thought signatures by call_id always, so that stateless clients' next turn finds them too.

Who may see a stored response: with client keys configured, only the key that made it (another
key gets the same 404 as for an id that never existed); without keys, everyone.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import NamedTuple

from gemini_proxy.access.keys import Client
from gemini_proxy.errors import ApiError, invalid_request, previous_response_not_found, response_not_found
from gemini_proxy.media.parts import media_of_items
from gemini_proxy.observability.telemetry import RequestRecord
from gemini_proxy.relay import chat_model
from gemini_proxy.relay.endings import generate_answer, open_answer
from gemini_proxy.relay.fallbacks import ModelChain, Routable
from gemini_proxy.services import Services
from gemini_proxy.stores.responses import ResponseIds
from gemini_proxy.translate.chat import GeminiRequest
from gemini_proxy.translate.families import family_of
from gemini_proxy.translate.responses.context import ResponseContext, response_context
from gemini_proxy.translate.responses.events import ResponseStream
from gemini_proxy.translate.responses.output import response_from_gemini
from gemini_proxy.translate.responses.request import call_ids, gemini_request, input_items, item_references

log = logging.getLogger(__name__)

# OpenAI's codes for a Response's `error`; every other failure is a server_error there.
RESPONSE_ERROR_CODES = frozenset({"rate_limit_exceeded", "invalid_prompt"})


def owner_of(client: Client) -> str | None:
    """Whom stored responses belong to: the key (by digest, as rate limits count it), or nobody
    when the gateway has no keys."""
    return client.limit_id or None


class Prepared(NamedTuple):
    """A CreateResponse made ready: the Gemini request (and how to make it for the fallback
    models), the context its answer is translated with, and what is stored with the Response
    when `store` is true."""
    requests: Routable
    context: ResponseContext
    store: bool
    stored: dict  # the record without its "response": input_items, owner, chain


def _visible(record: dict | None, owner: str | None) -> bool:
    return record is not None and record.get("owner") == owner


def stored(services: Services, response_id: str, client: Client) -> dict:
    """The stored record of a response this client may see, or a 404."""
    record = services.responses.get(response_id)
    if not _visible(record, owner_of(client)):
        raise response_not_found(response_id)
    return record


def _chain(services: Services, previous_id: str | None, owner: str | None) -> list[dict]:
    """The stored records of the conversation before a request, oldest first."""
    if previous_id is None:
        return []
    previous = services.responses.get(previous_id)
    if not _visible(previous, owner):
        raise previous_response_not_found(previous_id)
    ids = previous.get("chain", [])
    records = services.responses.get_many(ids)
    for response_id in ids:
        # A response deleted (or expired) in the middle breaks the chain, as on OpenAI.
        if not _visible(records.get(response_id), owner):
            raise previous_response_not_found(previous_id)
    return [*(records[response_id] for response_id in ids), previous]


def _referenced(services: Services, ids: list[str], owner: str | None) -> dict[str, dict]:
    found = services.responses.items(ids) if ids else {}
    return {item_id: item for item_id, (item_owner, item) in found.items() if item_owner == owner}


def response_request(services: Services, body: dict, record: RequestRecord) -> Prepared:
    """The Gemini request and answer context of a loaded CreateResponse."""
    settings = services.settings
    model = chat_model(settings, body.get("model"))
    record.model = body.get("model") or settings.default_model
    owner = owner_of(record.client)
    chain = _chain(services, body.get("previous_response_id"), owner)
    history = [item for past in chain for item in (*past["input_items"], *past["response"]["output"])]
    given = body.get("input") or []
    referenced = _referenced(services, item_references(given), owner)
    ids = ResponseIds()  # the response's id and its items': each names the response
    items = input_items(body, ids, referenced)
    calls = call_ids([*history, *referenced.values(), *given])
    media = media_of_items(given, services.media_limits, settings.media_fetch_urls, history=history,
                           referenced=referenced, cloud_storage=settings.vertex)

    def for_model(target: str) -> GeminiRequest:
        return gemini_request(body, target, services.request_defaults, history=history, referenced=referenced,
                              signatures=services.signatures.get_many(calls, target), media=media,
                              carrier_key=services.carrier_key)
    context = response_context(body, response_id=ids("resp"), created_at=int(time.time()),
                               family=family_of(model), carrier_key=services.carrier_key, new_id=ids,
                               clock=time.time, model=record.model)
    store = body.get("store") is not False
    chain_ids = [past["response"]["id"] for past in chain]
    return Prepared(Routable(for_model(model), for_model), context, store,
                    {"input_items": items, "owner": owner, "chain": chain_ids})


def _context_for(prepared: Prepared, model: str) -> ResponseContext:
    """The answer's context for the model that answered (a fallback's family may differ)."""
    family = family_of(model)
    return prepared.context if family == prepared.context.family else replace(prepared.context, family=family)


def _keep(services: Services, prepared: Prepared, response: dict) -> None:
    if prepared.store:
        services.responses.put({"response": response, **prepared.stored, "created": time.time()})


def _usage(response: dict) -> dict | None:
    """A Response's usage in the chat words the request record counts in."""
    usage = response.get("usage")
    if not usage:
        return None
    return {"prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "total_tokens": usage["total_tokens"]}


def complete_response(services: Services, prepared: Prepared, record: RequestRecord) -> dict:
    """The Response of one whole Gemini answer, stored before it is returned."""
    chain = ModelChain(services, record, prepared.requests.first.model)
    answer = generate_answer(chain, prepared.requests, record, services.settings.empty_answer_retries)
    response, signatures = response_from_gemini(answer, _context_for(prepared, chain.model))
    services.signatures.put_many(signatures, chain.model)
    _keep(services, prepared, response)
    record.add_usage(_usage(response))
    return response


def response_error(error: ApiError) -> dict:
    """A Response's `error` for a failure after its stream started."""
    code = error.code if error.code in RESPONSE_ERROR_CODES else "server_error"
    return {"code": code, "message": error.message}


class ResponseEvents:
    """The events of a streamed Response, its upstream stream opened (first chunk pulled) now.
    Iterate once; failed(error) gives the events that end it after a failure (and stores the
    failed Response); close() closes the upstream call."""

    def __init__(self, services: Services, prepared: Prepared, record: RequestRecord):
        self._services, self._prepared, self._record = services, prepared, record
        chain = ModelChain(services, record, prepared.requests.first.model)
        self._upstream = open_answer(chain, prepared.requests, record, services.settings.empty_answer_retries)
        self._model = chain.model
        self._stream = ResponseStream(_context_for(prepared, self._model))
        self._events = self._relayed()
        services.telemetry.stream_opened(record)

    def __iter__(self) -> Iterator[dict]:
        return self._events

    def _signatures(self) -> None:
        # Stored before the client sees the call, so its next turn can never outrun it.
        self._services.signatures.put_many(self._stream.take_signatures(), self._model)

    def _relayed(self) -> Iterator[dict]:
        stream, record = self._stream, self._record
        try:
            yield from stream.start()
            for chunk in self._upstream:
                events = stream.events_from(chunk)
                record.mark_first_token()
                self._signatures()
                yield from events
            closing = stream.close()
            self._signatures()
            # Kept before the terminal event leaves: the client's next request may name it.
            _keep(self._services, self._prepared, stream.response)
            yield from closing
        except ApiError as error:
            record.upstream_error = error.upstream
            raise
        finally:
            record.add_usage(self._stream.usage())
            self._upstream.close()

    def failed(self, error: ApiError) -> list[dict]:
        events = self._stream.failed(response_error(error))
        try:
            _keep(self._services, self._prepared, self._stream.response)
        except ApiError as unkept:
            log.warning("failed response %s not stored: %s", self._prepared.context.response_id, unkept.message)
        return events

    def close(self) -> None:
        self._events.close()
        self._upstream.close()


def deleted(services: Services, record: dict) -> dict:
    """Deletes a stored response (its record as stored() found it)."""
    response_id = record["response"]["id"]
    services.responses.delete(response_id)
    return {"id": response_id, "object": "response", "deleted": True}


def not_cancellable() -> ApiError:
    """What cancelling a response this client may see gets: only background responses can be
    cancelled, and this gateway runs none."""
    # OpenAI's words (vLLM answers the same).
    return invalid_request("Cannot cancel a synchronous response.")


def input_items_page(record: dict, query: dict) -> dict:
    """A page of a stored response's input items in OpenAI's list shape."""
    items = list(record["input_items"])
    if query["order"] == "desc":
        items.reverse()
    after = query.get("after")
    if after is not None:
        ids = [item.get("id") for item in items]
        if after not in ids:
            raise invalid_request(f"No input item with id '{after}' in response "
                                  f"'{record['response']['id']}'.", "after")
        items = items[ids.index(after) + 1:]
    page = items[:query["limit"]]
    return {"object": "list", "data": page, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None, "has_more": len(items) > len(page)}


def input_tokens(services: Services, body: dict, record: RequestRecord) -> dict:
    """POST /v1/responses/input_tokens: Gemini's count of the request's input (conversation,
    instructions and tools)."""
    gemini = response_request(services, body, record).requests.first
    config = {key: value for key, value in gemini.config.items()
              if key in ("system_instruction", "tools", "tool_config")}
    tokens = services.upstream.count_request_tokens(gemini.model, gemini.contents, config, record.client.gemini_key)
    return {"object": "response.input_tokens", "input_tokens": tokens}
