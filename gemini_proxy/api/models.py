"""GET /v1/models and /v1/models/{id} (also without /v1)."""
from __future__ import annotations

from flask import Blueprint

from gemini_proxy.services import current_services

bp = Blueprint("models", __name__)


@bp.get("/v1/models")
@bp.get("/models")
def list_models():
    return {"object": "list", "data": current_services().models.list()}


@bp.get("/v1/models/<path:model_id>")
@bp.get("/models/<path:model_id>")
def retrieve_model(model_id: str):
    return current_services().models.get(model_id)
