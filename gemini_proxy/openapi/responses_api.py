"""JSON Schemas of what the Responses API routes answer: a Response, its stream's events, the
input item list, a deletion and an input token count. Written from OpenAI's spec (2.3.0) as far
as the gateway's answers go: the output items it makes, the fields a Response always carries."""
from __future__ import annotations

from gemini_proxy.openapi.operations import API_ERRORS, GENERATION_HEADERS, JSON, SSE, Operation, json_text, query
from gemini_proxy.openapi.responses import nullable, ref

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}
_OBJECT = {"type": "object"}


def _const(value: str) -> dict:
    return {"type": "string", "const": value}


def _object(required: list[str], properties: dict, description: str | None = None) -> dict:
    schema = {"type": "object", "required": required, "properties": properties}
    return {**schema, "description": description} if description else schema


OUTPUT_TEXT = _object(["type", "text", "annotations", "logprobs"], {
    "type": _const("output_text"), "text": _STRING,
    "annotations": {"type": "array", "items": _OBJECT, "description": "url_citation annotations of a grounded "
                                                                        "(web_search) answer; [] otherwise."},
    "logprobs": {"type": "array", "items": _OBJECT}})

_STATUS = {"type": "string", "enum": ["in_progress", "completed", "incomplete"]}

OUTPUT_ITEM = {"anyOf": [
    _object(["id", "type", "role", "status", "content"], {
        "id": _STRING, "type": _const("message"), "role": _const("assistant"), "status": _STATUS,
        "content": {"type": "array", "items": ref("ResponseOutputText")}}),
    _object(["id", "type", "call_id", "name", "arguments", "status"], {
        "id": _STRING, "type": _const("function_call"), "call_id": _STRING, "name": _STRING,
        "namespace": _STRING, "arguments": {"type": "string", "description": "The arguments as a JSON object string."},
        "status": _STATUS}),
    _object(["id", "type", "summary"], {
        "id": _STRING, "type": _const("reasoning"),
        "summary": {"type": "array", "items": _object(["type", "text"], {"type": _const("summary_text"),
                                                                          "text": _STRING})},
        "encrypted_content": {**nullable(_STRING), "description": "Gemini's thought signatures, sealed by the "
                                                                   "gateway: send the item back unchanged."}}),
    _object(["id", "type", "call_id", "name", "input"], {
        "id": _STRING, "type": _const("custom_tool_call"), "call_id": _STRING, "name": _STRING, "input": _STRING}),
    _object(["id", "type", "call_id", "status", "action"], {
        "id": _STRING, "type": _const("local_shell_call"), "call_id": _STRING, "status": _STATUS,
        "action": _OBJECT}),
    _object(["id", "type", "status"], {
        "id": _STRING, "type": _const("web_search_call"), "status": _STRING, "action": _OBJECT}),
]}

RESPONSE_USAGE = _object(
    ["input_tokens", "input_tokens_details", "output_tokens", "output_tokens_details", "total_tokens"], {
        "input_tokens": _INTEGER, "output_tokens": _INTEGER, "total_tokens": _INTEGER,
        "input_tokens_details": _object(["cached_tokens"], {"cached_tokens": _INTEGER,
                                                            "cache_write_tokens": _INTEGER}),
        "output_tokens_details": _object(["reasoning_tokens"], {"reasoning_tokens": _INTEGER})},
    "Token counts; output_tokens includes Gemini's thinking tokens (also given as reasoning_tokens).")

RESPONSE = _object(
    ["id", "object", "created_at", "status", "error", "incomplete_details", "instructions", "model", "output",
     "parallel_tool_calls", "metadata", "tool_choice", "tools", "temperature", "top_p"], {
        "id": {"type": "string", "examples": ["resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b"]},
        "object": _const("response"),
        "created_at": _INTEGER,
        "completed_at": nullable(_INTEGER),
        "status": {"type": "string", "enum": ["completed", "incomplete", "failed", "in_progress"]},
        "error": nullable(_object(["code", "message"], {"code": _STRING, "message": _STRING})),
        "incomplete_details": nullable(_object(["reason"], {
            "reason": {"type": "string", "enum": ["max_output_tokens", "content_filter"]}})),
        "instructions": nullable(_STRING),
        "model": {"type": "string", "description": "The model name the request gave, as given."},
        "output": {"type": "array", "items": ref("ResponseOutputItem")},
        "usage": nullable(ref("ResponseUsage")),
        "parallel_tool_calls": {"type": "boolean"},
        "previous_response_id": nullable(_STRING),
        "metadata": {"type": "object", "additionalProperties": _STRING},
        "tool_choice": {"anyOf": [_STRING, _OBJECT]},
        "tools": {"type": "array", "items": _OBJECT},
        "temperature": nullable({"type": "number"}),
        "top_p": nullable({"type": "number"}),
        "max_output_tokens": nullable(_INTEGER),
        "reasoning": nullable(_OBJECT),
        "text": _OBJECT,
        "truncation": nullable(_STRING),
    },
    "A model response. Stored (GET /v1/responses/{response_id}) unless the request said `store: false`.")

STREAM_EVENT = _object(["type", "sequence_number"], {
    "type": {"type": "string", "examples": ["response.created", "response.output_text.delta", "response.completed"]},
    "sequence_number": {"type": "integer", "minimum": 0},
    "response": ref("Response"),
    "item": ref("ResponseOutputItem"),
    "output_index": _INTEGER, "content_index": _INTEGER, "item_id": _STRING, "delta": _STRING,
}, "One event of a streamed Response. The first is response.created; the last is response.completed, "
   "response.incomplete or response.failed, carrying the whole Response.")

ITEM_LIST = _object(["object", "data", "has_more", "first_id", "last_id"], {
    "object": _const("list"),
    "data": {"type": "array", "items": _object(["id", "type"], {"id": _STRING, "type": _STRING})},
    "has_more": {"type": "boolean"},
    "first_id": nullable(_STRING), "last_id": nullable(_STRING),
}, "A page of a response's input items (its request's `input`, each with an id).")

DELETED_RESPONSE = _object(["id", "object", "deleted"], {
    "id": _STRING, "object": _const("response"), "deleted": {"type": "boolean", "const": True}})

INPUT_TOKENS = _object(["object", "input_tokens"], {
    "object": _const("response.input_tokens"), "input_tokens": _INTEGER})

COMPONENTS = {
    "ResponseOutputText": OUTPUT_TEXT,
    "ResponseOutputItem": OUTPUT_ITEM,
    "ResponseUsage": RESPONSE_USAGE,
    "Response": RESPONSE,
    "ResponseStreamEvent": STREAM_EVENT,
    "ResponseItemList": ITEM_LIST,
    "DeletedResponse": DELETED_RESPONSE,
    "InputTokens": INPUT_TOKENS,
}


NAMED_SSE_DESCRIPTION = (
    "With `stream: true`: server-sent events, each `event: <type>` and `data: <ResponseStreamEvent JSON>` "
    "followed by a blank line, `sequence_number` 0, 1, 2...: response.created, response.in_progress, each "
    "output item's events, then response.completed (or response.incomplete); no `data: [DONE]`. The first "
    "upstream chunk is awaited before the response starts, so a failure to start is a real HTTP error; a "
    "failure after that is a response.failed event carrying the Response with its `error`, and the stream ends."
)


def _named_streamed() -> dict:
    return {
        JSON: {"schema": ref("Response")},
        SSE: {
            "schema": {
                "type": "object",
                "description": NAMED_SSE_DESCRIPTION,
                "required": ["event", "data"],
                "properties": {
                    "data": json_text("ResponseStreamEvent"),
                    "event": {"type": "string", "description": "The event's `type`, repeated."},
                },
            },
            "example": 'event: response.created\ndata: {"type": "response.created", "sequence_number": 0, ...}\n\n',
        },
    }


_INCLUDE = query("include[]", {"type": "array", "items": {"type": "string"}}, "Accepted; no effect.")
_RESPONSE_ERRORS = {k: v for k, v in API_ERRORS.items() if k != "413"}

OPERATIONS = {
    "responses.create_response": Operation(
        "createResponse", "Create a model response", "Responses", _named_streamed(),
        "OpenAI's Responses API on Gemini: streamed with `stream: true`; stored (retrievable, and a "
        "`previous_response_id` for the next turn) unless `store: false`. With client keys, a key sees only "
        "the responses it made.", request="CreateResponseRequest", errors=API_ERRORS, api=True,
        headers=GENERATION_HEADERS),
    "responses.get_response": Operation(
        "getResponse", "Retrieve a stored response", "Responses", {JSON: {"schema": ref("Response")}},
        "404 for an id that is unknown, deleted, expired (RESPONSES_TTL) or another key's. `stream=true` is "
        "refused (400): only background responses can be streamed again.",
        errors=_RESPONSE_ERRORS, api=True,
        query=(_INCLUDE, query("stream", {"type": "boolean", "const": False}, "Must be false if given."))),
    "responses.delete_response": Operation(
        "deleteResponse", "Delete a stored response", "Responses", {JSON: {"schema": ref("DeletedResponse")}},
        "The response and its input items; later a 404, and a `previous_response_id` naming it a 400.",
        errors=_RESPONSE_ERRORS, api=True),
    "responses.list_input_items": Operation(
        "listInputItems", "List a stored response's input items", "Responses",
        {JSON: {"schema": ref("ResponseItemList")}}, errors=_RESPONSE_ERRORS, api=True, query=(
            query("after", {"type": "string"}, "An item id: the page starts after it."),
            query("limit", {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}, "Items per page."),
            query("order", {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
                   "`desc`: the newest first."),
            _INCLUDE)),
    "responses.cancel_response": Operation(
        "cancelResponse", "Cancel a background response", "Responses", {JSON: {"schema": ref("Response")}},
        "The gateway runs no background responses, so every stored response gets OpenAI's 400 for a "
        "synchronous one (an unknown id: 404).", errors=_RESPONSE_ERRORS, api=True),
    "responses.count_input_tokens": Operation(
        "countInputTokens", "Count a request's input tokens", "Responses", {JSON: {"schema": ref("InputTokens")}},
        "Gemini's countTokens of the conversation (with `previous_response_id`'s), instructions and tools.",
        request="InputTokensRequest", errors=API_ERRORS, api=True),
}
