"""OpenAI's Responses API (each route also without /v1): POST /v1/responses (a Response, or its
events with `stream: true`), GET and DELETE /v1/responses/{id}, GET
/v1/responses/{id}/input_items, POST /v1/responses/input_tokens, and POST
/v1/responses/{id}/cancel, which only background responses allow (the gateway runs none)."""
from __future__ import annotations

from flask import Blueprint, request
from werkzeug.routing import BaseConverter

from gemini_proxy.api.chat import dropped_header
from gemini_proxy.relay import responses as relay
from gemini_proxy.schemas import load
from gemini_proxy.schemas.listing import InputItemsQuerySchema, RetrieveQuerySchema, query_of
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import event_stream_response


class ResponseId(BaseConverter):
    """A response id: any path segment but `input_tokens`, the sibling route's, so that
    /v1/responses/input_tokens allows POST only (its 405 and its OPTIONS' Allow say exactly that)."""
    regex = r"(?!input_tokens$)[^/]+"


bp = Blueprint("responses", __name__)
# Before the routes below are added (deferred functions run in the order they were recorded).
bp.record_once(lambda state: state.app.url_map.converters.setdefault("response_id", ResponseId))

_RETRIEVE_QUERY = RetrieveQuerySchema()
_INPUT_ITEMS_QUERY = InputItemsQuerySchema()


@bp.post("/v1/responses")
@bp.post("/responses")
def create_response():
    services, record = current_services(), current_record()
    body = load(services.responses_schema, json_body())
    prepared = relay.response_request(services, body, record)
    headers = dropped_header(prepared.requests.dropped)
    if body.get("stream"):
        events = relay.ResponseEvents(services, prepared, record)
        return event_stream_response(events, events.failed, headers)
    return relay.complete_response(services, prepared, record), 200, headers


@bp.get("/v1/responses/<response_id:response_id>")
@bp.get("/responses/<response_id:response_id>")
def get_response(response_id: str):
    load(_RETRIEVE_QUERY, query_of(request.args))
    return _stored(response_id)["response"]


@bp.delete("/v1/responses/<response_id:response_id>")
@bp.delete("/responses/<response_id:response_id>")
def delete_response(response_id: str):
    return relay.deleted(current_services(), _stored(response_id))


@bp.get("/v1/responses/<response_id:response_id>/input_items")
@bp.get("/responses/<response_id:response_id>/input_items")
def list_input_items(response_id: str):
    query = load(_INPUT_ITEMS_QUERY, query_of(request.args))
    return relay.input_items_page(_stored(response_id), query)


@bp.post("/v1/responses/<response_id:response_id>/cancel")
@bp.post("/responses/<response_id:response_id>/cancel")
def cancel_response(response_id: str):
    _stored(response_id)
    raise relay.not_cancellable()


@bp.post("/v1/responses/input_tokens")
@bp.post("/responses/input_tokens")
def count_input_tokens():
    services, record = current_services(), current_record()
    body = load(services.input_tokens_schema, json_body())
    return relay.input_tokens(services, body, record)


def _stored(response_id: str) -> dict:
    """The stored record of a response this request's client may see, or a 404."""
    return relay.stored(current_services(), response_id, current_record().client)
