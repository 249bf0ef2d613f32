"""The request's JSON body: read from the WSGI server within MAX_BODY_BYTES, parsed within
MAX_JSON_DEPTH (json_limits), every failure an ApiError."""
from __future__ import annotations

from flask import current_app, g, request
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import RequestEntityTooLarge

from gemini_proxy.errors import invalid_request
from gemini_proxy.schemas import param_name
from gemini_proxy.translate import json_limits


def raw_body() -> bytes:
    """The body's bytes. A body too large is a 413 whether or not it declared its length."""
    try:
        data = request.get_data(cache=True)
        limit = request.max_content_length
        # Werkzeug stops reading a body that came without Content-Length (chunked) at the limit
        # and hands back what it read, as if that were all: one more byte from the server's own
        # stream tells a body of exactly the limit from a longer one.
        unsized = request.content_length is None and limit is not None
        if unsized and len(data) >= limit and request.input_stream.read(1):
            raise RequestEntityTooLarge()
    except ParseException as exc:
        # gunicorn decodes a chunked body as the app reads it and raises its own errors for a
        # malformed one (not OSError, which Werkzeug would have made a 400).
        raise invalid_request(f"The request body could not be read: malformed chunked transfer encoding "
                              f"({type(exc).__name__}).") from None
    return data


def json_body():
    """The body parsed as JSON, whatever its Content-Type (OpenAI accepts a missing one),
    within the app's MAX_JSON_DEPTH; parsed once per request."""
    max_depth = current_app.config["MAX_JSON_DEPTH"]
    if "json_body" not in g:
        try:
            g.json_body = json_limits.loads(raw_body(), max_depth)
        except json_limits.LoneSurrogate as refused:
            param = param_name(refused.path) or None
            raise invalid_request(f"Invalid value for '{param}': {refused}." if param else
                                  f"We could not parse the JSON body of your request: {refused}.", param) from None
        except json_limits.JsonTooDeep:
            raise invalid_request(f"The JSON body of your request is nested deeper than {max_depth} levels, "
                                  "the most this gateway accepts.", None, "json_too_deep") from None
        except json_limits.JsonRefused as refused:
            raise invalid_request(f"We could not parse the JSON body of your request: {refused}. The body must "
                                  "be valid JSON (sent with Content-Type: application/json).") from None
    return g.json_body


def json_object() -> dict:
    """The body as a JSON object (Gemini's API takes nothing else), parsed as json_body does."""
    body = json_body()
    if not isinstance(body, dict):
        raise invalid_request("Invalid JSON payload received. The request body must be a JSON object.")
    return body
