"""What runs around every request: who the client is, its rate limits, and the record that
becomes the request's log line and metrics when the response closes."""
from __future__ import annotations

from flask import Flask, g, request

from . import request_ids
from .auth import KeyRing
from .config import Settings
from .ratelimit import RateLimits
from .telemetry import RequestRecord, Telemetry

# Blueprints that serve the OpenAI API: client keys and rate limits apply to them.
API_BLUEPRINTS = frozenset({"chat", "completions", "embeddings", "models"})


def record() -> RequestRecord:
    return g.record


def install(app: Flask, settings: Settings, keys: KeyRing, limits: RateLimits, telemetry: Telemetry) -> None:
    @app.before_request
    def _open():
        g.record = RequestRecord(request_ids.current(), request.method, request.path,
                                 request.url_rule.rule if request.url_rule else "unmatched")
        if settings.log_prompts:
            g.record.prompt = request.get_json(silent=True)
        # A browser's CORS preflight carries no credentials: it is answered, not checked.
        if request.blueprint in API_BLUEPRINTS and request.method != "OPTIONS":
            g.record.client = keys.client_for(request.headers)
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
        response.call_on_close(lambda: _finished(current, charged))
        return response

    def _charge(current: RequestRecord) -> None:
        limits.charge(current.client, (current.usage or {}).get("total_tokens", 0))

    def _finished(current: RequestRecord, charged: bool) -> None:
        if not charged:
            _charge(current)
        telemetry.finished(current)
