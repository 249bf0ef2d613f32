"""gemini-proxy: an OpenAI-compatible HTTP gateway to Google Gemini."""
from __future__ import annotations

import logging

from flask import Flask

from . import request_ids
from .config import Settings
from .errors import register_error_handlers

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """The only place that wires things together. Tests pass their own Settings.

    The app's modules are imported here, not at the top, so that importing the package (as
    `python -m gemini_proxy.emulator` does) stays free of the SDK and Flask machinery.
    """
    from .api import EXTENSION, Services, chat, completions, embeddings, health, models
    from .model_catalog import ModelCatalog
    from .schemas import ChatCompletionSchema
    from .schemas.completions import CompletionSchema
    from .schemas.embeddings import EmbeddingSchema
    from .signatures import SignatureStore
    from .upstream import Upstream

    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    upstream = Upstream(settings)
    app.extensions[EXTENSION] = Services(
        settings=settings,
        upstream=upstream,
        models=ModelCatalog(upstream, settings),
        chat_schema=ChatCompletionSchema(max_messages=settings.max_messages),
        embedding_schema=EmbeddingSchema(max_inputs=settings.max_embedding_inputs),
        completion_schema=CompletionSchema(max_prompts=settings.max_completion_prompts),
        signatures=SignatureStore(settings.signature_db, settings.signature_cache_size, settings.signature_db_max_rows),
    )
    for blueprint in (chat.bp, completions.bp, embeddings.bp, models.bp, health.bp):
        app.register_blueprint(blueprint)
    request_ids.install(app)
    register_error_handlers(app)

    if settings.uses_emulator:
        log.warning("No GEMINI_API_KEY is set: answers come from the built-in Gemini emulator at %s, "
                    "not from Google. Set GEMINI_API_KEY to use Gemini.", settings.upstream_base_url)
    return app
