"""gemini-proxy: an OpenAI-compatible HTTP gateway to Google Gemini."""
from __future__ import annotations

import logging

from flask import Flask
from flask_cors import CORS

from gemini_proxy.access.keys import KeyRing
from gemini_proxy.access.limits import RateLimits
from gemini_proxy.api import (
    chat,
    completions,
    docs,
    embeddings,
    gemini,
    health,
    images,
    models,
    responses,
    speech,
    transcriptions,
)
from gemini_proxy.catalog import ModelCatalog
from gemini_proxy.config import Settings
from gemini_proxy.media.data import MediaLimits
from gemini_proxy.observability import logs
from gemini_proxy.observability.readiness import Readiness
from gemini_proxy.observability.telemetry import Metrics, Telemetry
from gemini_proxy.schemas import ChatCompletionSchema
from gemini_proxy.schemas.completions import CompletionSchema
from gemini_proxy.schemas.embeddings import EmbeddingSchema
from gemini_proxy.schemas.responses import CreateResponseSchema, InputTokensSchema
from gemini_proxy.schemas.speech import SpeechSchema
from gemini_proxy.services import EXTENSION, Services
from gemini_proxy.stores.responses import open_store
from gemini_proxy.stores.secret import carrier_key
from gemini_proxy.stores.signatures import open_signatures
from gemini_proxy.translate.chat import RequestDefaults
from gemini_proxy.upstream.client import Upstream
from gemini_proxy.upstream.keys import KeyEvents
from gemini_proxy.web import hooks, request_ids
from gemini_proxy.web.errors import register_error_handlers
from gemini_proxy.web.json_provider import FastJSONProvider

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """The only place that wires things together. Tests pass their own Settings."""
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_JSON_DEPTH"] = settings.max_json_depth
    app.json = FastJSONProvider(app)

    metrics = Metrics(settings.metrics_dir)
    upstream = Upstream(settings, _key_events(metrics, settings))
    services = app.extensions[EXTENSION] = Services(
        settings=settings,
        upstream=upstream,
        models=ModelCatalog(upstream, settings),
        chat_schema=ChatCompletionSchema(max_messages=settings.max_messages, max_tools=settings.max_tools,
                                         max_parts=settings.max_content_parts),
        embedding_schema=EmbeddingSchema(max_inputs=settings.max_embedding_inputs),
        completion_schema=CompletionSchema(max_prompts=settings.max_completion_prompts),
        speech_schema=SpeechSchema(max_input=settings.max_speech_input),
        responses_schema=CreateResponseSchema(max_items=settings.max_messages, max_tools=settings.max_tools,
                                              max_parts=settings.max_content_parts),
        input_tokens_schema=InputTokensSchema(max_items=settings.max_messages, max_tools=settings.max_tools,
                                              max_parts=settings.max_content_parts),
        signatures=open_signatures(settings, lambda: metrics.state_unavailable.labels("signatures").inc()),
        responses=open_store(settings),
        carrier_key=carrier_key(settings),
        keys=KeyRing(settings),
        limits=RateLimits(settings, lambda action: metrics.rate_limit_unavailable.labels(action).inc()),
        telemetry=Telemetry(metrics),
        readiness=Readiness(upstream, settings),
        request_defaults=RequestDefaults(
            temperature=settings.default_temperature, top_p=settings.default_top_p, top_k=settings.default_top_k,
            max_tokens=settings.default_max_tokens, safety_settings=settings.safety_settings,
            max_json_depth=settings.max_json_depth),
        media_limits=MediaLimits(max_bytes=settings.max_media_bytes, timeout=settings.media_fetch_timeout,
                                 max_redirects=settings.media_fetch_max_redirects,
                                 allow_private=settings.media_allow_private_urls),
    )
    for blueprint in (chat.bp, completions.bp, embeddings.bp, responses.bp, models.bp, gemini.bp, health.bp, docs.bp):
        app.register_blueprint(blueprint)
    for blueprint in (images.bp, speech.bp, transcriptions.bp):
        app.register_blueprint(blueprint)
    request_ids.install(app)
    hooks.install(app, settings, services.keys, services.limits, services.telemetry)
    register_error_handlers(app)
    if settings.cors_origins:
        CORS(app, origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
             expose_headers=["X-Request-ID", "Retry-After", "X-Gemini-Proxy-Dropped-Schema-Keywords",
                             hooks.ANSWERED_BY_HEADER, hooks.FINISH_REASON_HEADER,
                             *(f"x-ratelimit-{what}-{kind}" for what in ("limit", "remaining", "reset")
                               for kind in ("requests", "tokens"))])

    if services.keys.open:
        log.warning("No GATEWAY_API_KEYS: the gateway is open to anyone who can reach it.")

    if not settings.redis_url and (settings.rate_limit_rpm or settings.rate_limit_tpm or services.keys.sets_limits):
        log.warning("Rate limits are counted per worker process (no REDIS_URL): with several gunicorn "
                    "workers a key can get up to that many times its limit. Set REDIS_URL to share them.")

    if settings.vertex:
        accounts = ", ".join(f"project {a.project} in {a.location}" for a in settings.vertex_accounts)
        log.info("Gemini backend: Vertex AI (%s), %s", settings.gemini_backend,
                 accounts or "express mode (an API key, no project)")
    if settings.uses_emulator:
        log.warning("No GEMINI_API_KEY is set: answers come from the built-in Gemini emulator at %s, "
                    "not from Google. Set GEMINI_API_KEY (or GEMINI_API_KEYS) to use Gemini.",
                    settings.upstream_base_url)
    return app


def _key_events(metrics: Metrics, settings: Settings) -> KeyEvents:
    """The key pool's reports as metrics (each key's children made once: a call only increments)."""
    names = [key.name for key in settings.upstream_keys]
    sent = {name: metrics.key_requests.labels(name) for name in names}
    limited = {name: metrics.key_rate_limited.labels(name) for name in names}
    return KeyEvents(sent=lambda name: sent[name].inc(), rate_limited=lambda name: limited[name].inc(),
                     usable=lambda name, usable: metrics.key_usable.labels(name).set(1 if usable else 0))
