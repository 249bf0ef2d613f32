"""The per-app container of clients, stores and schemas, kept on app.extensions."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from gemini_proxy.access.keys import KeyRing
from gemini_proxy.access.limits import RateLimits
from gemini_proxy.catalog import ModelCatalog
from gemini_proxy.config import Settings
from gemini_proxy.media.data import MediaLimits
from gemini_proxy.observability.readiness import Readiness
from gemini_proxy.observability.telemetry import Telemetry
from gemini_proxy.schemas import ChatCompletionSchema
from gemini_proxy.schemas.completions import CompletionSchema
from gemini_proxy.schemas.embeddings import EmbeddingSchema
from gemini_proxy.schemas.responses import CreateResponseSchema, InputTokensSchema
from gemini_proxy.schemas.speech import SpeechSchema
from gemini_proxy.stores.responses import ResponseStore
from gemini_proxy.stores.signatures import SignatureStore
from gemini_proxy.translate.chat import RequestDefaults
from gemini_proxy.upstream.client import Upstream

EXTENSION = "gemini_proxy"


@dataclass(frozen=True)
class Services:
    """Per-app state, kept on app.extensions (never in module globals)."""
    settings: Settings
    upstream: Upstream
    models: ModelCatalog
    chat_schema: ChatCompletionSchema
    embedding_schema: EmbeddingSchema
    completion_schema: CompletionSchema
    speech_schema: SpeechSchema
    responses_schema: CreateResponseSchema
    input_tokens_schema: InputTokensSchema
    signatures: SignatureStore
    responses: ResponseStore
    # The HMAC key of reasoning.encrypted_content (stores/secret.py): the same in every worker.
    carrier_key: bytes
    keys: KeyRing
    limits: RateLimits
    telemetry: Telemetry
    readiness: Readiness
    request_defaults: RequestDefaults
    media_limits: MediaLimits


def current_services() -> Services:
    """The Services of the app handling the current request."""
    return current_app.extensions[EXTENSION]
