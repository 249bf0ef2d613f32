"""What the OpenAPI document says of each operation (one Operation per view), and the pieces
operations share: media types, JSON-in-a-string, query parameters, the common errors."""
from __future__ import annotations

from dataclasses import dataclass, field

from gemini_proxy.openapi.responses import ref

JSON = "application/json"
SSE = "text/event-stream"

# Status -> the error response component an OpenAI API operation may answer with.
API_ERRORS = {"400": "InvalidRequest", "401": "Unauthorized", "404": "NotFound", "413": "PayloadTooLarge",
              "429": "RateLimited", "default": "UpstreamError"}
# The headers of every generation answer (web/hooks.py sets them).
GENERATION_HEADERS = {"x-gemini-model": {
    "description": "The Gemini model that answered: the one the `model` named (an alias resolved), or a "
                   "MODEL_FALLBACKS model when that one was overloaded. The body's `model` stays the name asked for.",
    "schema": {"type": "string"}}, "x-gemini-finish-reason": {
    "description": "Gemini's own finishReason(s), by candidate, comma-separated (a stream: only "
                   "when it ended before its first output).", "schema": {"type": "string"}}}


@dataclass(frozen=True)
class Operation:
    operation_id: str
    summary: str
    tag: str
    ok: dict  # the 200 response's content
    description: str = ""
    request: str | None = None  # component name of the request body
    errors: dict = field(default_factory=dict)  # status -> response component
    api: bool = False  # an OpenAI API path: client keys apply
    query: tuple[dict, ...] = ()  # query parameters
    headers: dict = field(default_factory=dict)  # the 200 response's headers
    auth: tuple[str, ...] = ("bearerAuth",)  # with `api`: the security schemes a client key comes by
    request_type: str = JSON  # the request body's media type


def json_text(schema: str) -> dict:
    """A string holding JSON that matches a component schema (JSON Schema 2020-12's content keywords)."""
    return {"type": "string", "contentMediaType": JSON, "contentSchema": ref(schema)}


def query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}
