"""Blueprints, one module per resource, and what every view shares."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from .. import request_body

from ..auth import KeyRing
from ..config import Settings
from ..model_catalog import ModelCatalog
from ..schemas import ChatCompletionSchema
from ..schemas.completions import CompletionSchema
from ..schemas.embeddings import EmbeddingSchema
from ..ratelimit import RateLimits
from ..readiness import Readiness
from ..signatures import SignatureStore
from ..telemetry import Telemetry
from ..upstream import Upstream

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
    signatures: SignatureStore
    keys: KeyRing
    limits: RateLimits
    telemetry: Telemetry
    readiness: Readiness


def services() -> Services:
    return current_app.extensions[EXTENSION]


def json_body():
    """The request's JSON body, whatever its Content-Type (OpenAI accepts a missing one)."""
    return request_body.json_body(services().settings.max_json_depth)
