"""Gemini's failures as ApiError: the upstream boundary's half of the error vocabulary.

Gemini answers an error with an HTTP status, a canonical status (INVALID_ARGUMENT...), a
message and google.rpc details. Here they become OpenAI's status, type and code (one table),
a Retry-After from RetryInfo, and a message safe to relay: Gemini's (or a proxy's) text with
markup stripped and anything shaped like a credential redacted. upstream/client.py takes them
out of the SDK's exceptions; nothing here imports the SDK.
"""
from __future__ import annotations

import html
import math
import re

from gemini_proxy.errors import ApiError

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
    if not (isinstance(status, str) and status in _UPSTREAM_STATUS):
        status = _UPSTREAM_HTTP.get(http_status, "INTERNAL")
    reason = _detail(details, "ErrorInfo").get("reason")
    gemini = None
    if reason == "API_KEY_INVALID" or "API key not valid" in message[:_SCAN_LIMIT]:
        http, type_, code = _INVALID_KEY
        message = "The Gemini API key configured for this gateway was rejected by Gemini."
    else:
        http, type_, code = _UPSTREAM_STATUS[status]
        message = clean_upstream_message(message, secrets)
        # Relayed as Gemini sent it on Gemini's routes (web/errors.py), its text made safe like the message.
        gemini = {"code": http_status if 400 <= http_status <= 599 else 500,
                  "message": message or f"Gemini answered {status}.", "status": status}
        if details:
            gemini["details"] = _cleaned(details, secrets)
    headers = {}
    if http == 429 and (retry := _retry_after(details)):
        headers["Retry-After"] = retry
    param = "model" if code == "model_not_found" else None
    return ApiError(http, message or f"Gemini answered {status}.", type_, param, code, headers, upstream=status,
                    gemini=gemini)


def redacted_error(event: dict, secrets: tuple[str, ...] = ()) -> dict:
    """A stream's {"error": ...} event from Gemini, each string made safe to relay."""
    return _cleaned(event, secrets)


def _cleaned(value, secrets: tuple[str, ...]):
    """Gemini's rpc details with each string made safe to relay (clean_upstream_message)."""
    if isinstance(value, str):
        return clean_upstream_message(value, secrets)
    if isinstance(value, list):
        return [_cleaned(item, secrets) for item in value]
    if isinstance(value, dict):
        return {key: _cleaned(item, secrets) for key, item in value.items()}
    return value


