"""What runs around every request: who the client is, its rate limits, and the record that
becomes the request's log line and metrics when the response closes."""
from __future__ import annotations

import re

from flask import Flask, g, request

from gemini_proxy.access.keys import KeyRing
from gemini_proxy.access.limits import RateLimits
from gemini_proxy.config import Settings
from gemini_proxy.errors import ApiError
from gemini_proxy.observability.telemetry import RequestRecord, Telemetry
from gemini_proxy.web import request_ids
from gemini_proxy.web.body import json_body
from gemini_proxy.web.dialect import GEMINI_BLUEPRINT

_REPEATED_SLASHES = re.compile("/{2,}")
# Blueprints that serve the OpenAI API, and Gemini's: client keys and rate limits apply to them.
API_BLUEPRINTS = frozenset({"chat", "completions", "embeddings", "images", "responses", "models", "speech",
                            "transcriptions", GEMINI_BLUEPRINT})
# Names the Gemini model that answered (the answer's `model` is the name the client asked for,
# which an alias or a fallback, relay/fallbacks.py, makes another model).
ANSWERED_BY_HEADER = "x-gemini-model"
# Gemini's raw finishReason(s) of the answer (by candidate; relay/endings.py), when known as the
# response starts: a stream's only when it ended before its first output went out.
FINISH_REASON_HEADER = "x-gemini-finish-reason"


def current_record() -> RequestRecord:
    """The record of the current request (opened before its view runs)."""
    return g.record


def merged_slashes(wsgi_app):
    """Serves `/v1//models` as `/v1/models`. Werkzeug matches such a path to the same route
    anyway, but answers with an HTML 308 redirect to it, which a client that joins a base URL
    ending in "/" to "/v1/..." may not follow with its POST body. gunicorn already serves a
    leading "//" this way, and nginx merges slashes by default; the route, and so client keys
    and limits, are those of the merged path."""
    def merged(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if "//" in path:
            environ["PATH_INFO"] = _REPEATED_SLASHES.sub("/", path)
        return wsgi_app(environ, start_response)
    return merged


def install(app: Flask, settings: Settings, keys: KeyRing, limits: RateLimits, telemetry: Telemetry) -> None:
    app.wsgi_app = merged_slashes(app.wsgi_app)

    @app.before_request
    def _open():
        g.record = RequestRecord(request_ids.current(), request.method, request.path,
                                 request.url_rule.rule if request.url_rule else "unmatched")
        if settings.log_prompts:
            try:
                g.record.prompt = json_body()
            except ApiError:
                g.record.prompt = None  # the view refuses the body itself
        # A browser's CORS preflight carries no credentials: it is answered, not checked.
        if request.blueprint in API_BLUEPRINTS and request.method != "OPTIONS":
            # Google's ?key= only on Gemini's own routes (it is redacted from the access log); not on
            # the /v1/models shared with OpenAI's clients, whose routes take no key in a URL.
            query_key = request.args.get("key") if request.blueprint == GEMINI_BLUEPRINT else None
            g.record.client = keys.client_for(request.headers, query_key)
            limits.admit(g.record.client)

    @app.after_request
    def _close(response):
        current = g.get("record")
        if current is None:
            return response
        current.status = response.status_code
        current.upstream_error = current.upstream_error or g.get("upstream_error")
        # A whole answer's tokens are charged before it is sent, so the client's next request
        # cannot get in first; a stream's when it ends.
        charged = not response.is_streamed
        if charged:
            _charge(current)
        if request.blueprint in API_BLUEPRINTS:
            response.headers.update(limits.headers(current.client))
        if current.answered_by and current.status < 400:
            response.headers[ANSWERED_BY_HEADER] = current.answered_by
        if current.finish_reason:
            response.headers[FINISH_REASON_HEADER] = current.finish_reason
        response.call_on_close(lambda: _finished(current, charged))
        return response

    def _charge(current: RequestRecord) -> None:
        limits.charge(current.client, (current.usage or {}).get("total_tokens", 0))

    def _finished(current: RequestRecord, charged: bool) -> None:
        if not charged:
            _charge(current)
        telemetry.finished(current)
