"""POST /v1/embeddings (and /embeddings)."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.relay import embeddings as relay
from gemini_proxy.schemas import load
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record

bp = Blueprint("embeddings", __name__)


@bp.post("/v1/embeddings")
@bp.post("/embeddings")
def create_embeddings():
    services = current_services()
    body = load(services.embedding_schema, json_body())
    return relay.embeddings(services, body, current_record())
