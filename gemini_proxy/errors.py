"""The error vocabulary, the mapping of Gemini failures onto it, and the one renderer.

Code anywhere raises ApiError (or lets Werkzeug raise an HTTPException); the handlers
registered here turn every failure into OpenAI's envelope
{"error": {"message", "type", "param", "code"}} with the right status.
"""
from __future__ import annotations

import html
import logging
import math
import re

from flask import Flask, Response, g, json, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """A failure with an OpenAI-shaped body."""

    def __init__(self, status: int, message: str, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None, upstream: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}
        # Gemini's status (or how the call failed) when the failure came from upstream.
        self.upstream = upstream

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type,
                          "param": self.param, "code": self.code}}


def invalid_request(message: str, param: str | None = None, code: str | None = None) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, code)


def unsupported(param: str, what: str) -> ApiError:
    return invalid_request(f"{what} is not supported by this gateway yet.", param, "unsupported_parameter")


def model_not_found(model: str | None) -> ApiError:
    """None: a name that is not a model id at all (never echoed back)."""
    named = f" `{model}`" if model else ""
    return ApiError(404, f"The model{named} does not exist or you do not have access to it.",
                    "invalid_request_error", "model", "model_not_found")


def invalid_model() -> ApiError:
    return invalid_request(
        "Invalid value for 'model': not a model this gateway knows how to name. Use a Gemini model id "
        "(letters, digits, '-', '.', '_'; optionally prefixed models/ or tunedModels/) or a configured alias.",
        "model", "invalid_model")


# Gemini's canonical status -> (HTTP status, OpenAI type, OpenAI code).
_UPSTREAM_STATUS = {
    "INVALID_ARGUMENT": (400, "invalid_request_error", "invalid_request"),
    "FAILED_PRECONDITION": (400, "invalid_request_error", "failed_precondition"),
    "OUT_OF_RANGE": (400, "invalid_request_error", "invalid_request"),
    "UNAUTHENTICATED": (401, "authentication_error", "invalid_api_key"),
    "PERMISSION_DENIED": (403, "permission_error", "permission_denied"),
    "NOT_FOUND": (404, "invalid_request_error", "model_not_found"),
    "RESOURCE_EXHAUSTED": (429, "rate_limit_error", "rate_limit_exceeded"),
    "CANCELLED": (499, "invalid_request_error", "cancelled"),
    "INTERNAL": (500, "server_error", "internal_error"),
    "UNKNOWN": (500, "server_error", "internal_error"),
    "UNAVAILABLE": (503, "service_unavailable_error", "overloaded"),
    "DEADLINE_EXCEEDED": (504, "timeout_error", "timeout"),
}
# When Gemini's status string is missing or new: fall back on the HTTP status.
_UPSTREAM_HTTP = {
    400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
_INVALID_KEY = (401, "authentication_error", "invalid_api_key")


def _detail(details: list, type_suffix: str) -> dict:
    for item in details:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith(type_suffix):
            return item
    return {}


# The longest Retry-After passed on from Gemini's RetryInfo (one hour): a longer wait is
# better learnt from the next 429 than promised now.
MAX_RETRY_AFTER = 3600


def _retry_after(details: list) -> str | None:
    """Seconds to wait, from google.rpc.RetryInfo {"retryDelay": "34s"} (or "1.5s"), capped."""
    delay = _detail(details, "RetryInfo").get("retryDelay")
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)s\s*", str(delay or ""))
    return str(max(1, math.ceil(min(float(match.group(1)), MAX_RETRY_AFTER)))) if match else None


# Upstream error messages reach clients, logs and metrics: at most this many characters, as
# text, with anything that looks like a credential replaced by REDACTED.
MAX_UPSTREAM_MESSAGE = 1000
REDACTED = "[redacted]"
_SCAN_LIMIT = 65536  # characters of a message looked at (a 5 MB message is cut first)
_MIN_SECRET = 8  # shorter configured keys are not searched for (they would match ordinary words)
_MARKUP = re.compile(r"<[A-Za-z!/?][^<>]*>")
# Each pattern's group 1 is kept (the name of a header or parameter), the rest redacted.
_CREDENTIALS = (
    re.compile(r"()AIza[0-9A-Za-z_\-]{20,}"),  # Google API keys
    re.compile(r"()\bya29\.[0-9A-Za-z_\-.]+"),  # Google OAuth access tokens
    re.compile(r"(?i)(\b(?:x-goog-api-key|x-api-key|api-key|authorization)[\"']?\s*[:=]\s*[\"']?"
               r"(?:(?:bearer|basic)\s+)?)[^\s\"',;]+"),  # echoed headers
    re.compile(r"(?i)(\bbearer\s+)[^\s\"',;]+"),
    re.compile(r"(?i)([?&](?:key|api_key|access_token)=)[^&\s\"']+"),  # keys in a query string
)


def clean_upstream_message(message: str, secrets: tuple[str, ...] = ()) -> str:
    """Gemini's (or a proxy's) error message made safe to relay: markup stripped, known keys
    and anything shaped like a credential redacted, whitespace collapsed, length capped."""
    text = message[:_SCAN_LIMIT]
    if len(message) > _SCAN_LIMIT and not message[_SCAN_LIMIT].isspace() and not text[-1].isspace():
        head = text.rsplit(maxsplit=1)  # the cut fell inside a word: drop it, it may be half a key
        text = head[0] if len(head) > 1 else ""
    if _MARKUP.search(text):
        text = html.unescape(_MARKUP.sub(" ", _without_scripts(text)))
    for secret in secrets:
        if secret and len(secret) >= _MIN_SECRET:
            text = text.replace(secret, REDACTED)
    for pattern in _CREDENTIALS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    text = " ".join(text.split())
    if len(text) > MAX_UPSTREAM_MESSAGE:
        text = text[:MAX_UPSTREAM_MESSAGE - 1].rstrip() + "…"
    return text


def _without_scripts(text: str) -> str:
    """`text` without the content of its <script> and <style> elements (one linear pass: the
    text comes from outside)."""
    lower, kept, position = text.lower(), [], 0
    while True:
        found = [(index, tag) for tag in ("script", "style") if (index := lower.find("<" + tag, position)) >= 0]
        if not found:
            return " ".join(kept + [text[position:]])
        start, tag = min(found)
        kept.append(text[position:start])
        end = lower.find("</" + tag, start)
        close = lower.find(">", end) if end >= 0 else -1
        if close < 0:
            return " ".join(kept)
        position = close + 1


def upstream_api_error(http_status: int, status: str | None, message: str, details: list,
                       secrets: tuple[str, ...] = ()) -> ApiError:
    """Gemini's error (HTTP status, canonical status, message, rpc details) as an ApiError.
    `secrets` are the keys of the call, never to be echoed (see clean_upstream_message)."""
    status = status if isinstance(status, str) and status in _UPSTREAM_STATUS else _UPSTREAM_HTTP.get(http_status, "INTERNAL")
    reason = _detail(details, "ErrorInfo").get("reason")
    if reason == "API_KEY_INVALID" or "API key not valid" in message[:_SCAN_LIMIT]:
        http, type_, code = _INVALID_KEY
        message = "The Gemini API key configured for this gateway was rejected by Gemini."
    else:
        http, type_, code = _UPSTREAM_STATUS[status]
        message = clean_upstream_message(message, secrets)
    headers = {}
    if http == 429 and (retry := _retry_after(details)):
        headers["Retry-After"] = retry
    param = "model" if code == "model_not_found" else None
    return ApiError(http, message or f"Gemini answered {status}.", type_, param, code, headers, upstream=status)


def upstream_timeout() -> ApiError:
    return ApiError(504, "Gemini did not answer in time.", "timeout_error", None, "timeout", upstream="TIMEOUT")


def upstream_unreachable(reason: str) -> ApiError:
    return ApiError(502, f"Could not reach Gemini: {reason}", "api_connection_error", None, "upstream_unreachable",
                    upstream="UNREACHABLE")


def upstream_bad_response(what: str | None = None) -> ApiError:
    """A 200 from Gemini that is not what Gemini sends (`what` names the field, never a value)."""
    detail = f" ({what})" if what else ""
    return ApiError(502, f"Gemini sent a response this gateway could not read{detail}.", "upstream_error", None,
                    "bad_upstream_response", upstream="BAD_RESPONSE")


def upstream_empty() -> ApiError:
    return ApiError(502, "Gemini ended its answer without sending any of it.", "upstream_error", None,
                    "empty_upstream_response", upstream="EMPTY_RESPONSE")


def upstream_incomplete() -> ApiError:
    return ApiError(502, "Gemini's answer ended before it was finished (no finish reason).", "upstream_error", None,
                    "incomplete_upstream_response", upstream="INCOMPLETE_RESPONSE")


_HTTP_EXCEPTION_CODES = {404: "unknown_url", 405: "method_not_allowed", 413: "request_too_large"}


def _from_http_exception(exc: HTTPException) -> ApiError:
    status = exc.code or 500
    if status == 404:
        message = f"Invalid URL ({request.method} {request.path})."
    elif status == 405:
        message = f"Method {request.method} is not allowed for {request.path}."
    elif status == 413:
        limit = request.max_content_length
        message = f"Request body is too large (limit {limit} bytes)." if limit else "Request body is too large."
    else:
        message = exc.description or exc.name
    type_ = "server_error" if status >= 500 else "invalid_request_error"
    # RFC 9110: a 405 says which methods the resource has.
    headers = {"Allow": ", ".join(sorted(exc.valid_methods))} if getattr(exc, "valid_methods", None) else None
    return ApiError(status, message, type_, None, _HTTP_EXCEPTION_CODES.get(status), headers)


def render(error: ApiError) -> Response:
    response = Response(json.dumps(error.body()), status=error.status, mimetype="application/json")
    response.headers.update(error.headers)
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        if error.upstream:
            g.upstream_error = error.upstream  # for the request log and metrics
        return render(error)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return render(_from_http_exception(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render(ApiError(500, "The server had an error while processing your request.", "server_error"))
