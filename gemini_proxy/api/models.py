"""GET /v1/models and /v1/models/{id} (also without /v1). Gemini's SDKs (api_version v1) ask
the same paths: they get Gemini's answer (web/dialect.py tells them apart)."""
from __future__ import annotations

from flask import Blueprint, request

from gemini_proxy.relay import gemini
from gemini_proxy.services import current_services
from gemini_proxy.web.dialect import speaks_gemini
from gemini_proxy.web.hooks import current_record

bp = Blueprint("models", __name__)


@bp.get("/v1/models")
@bp.get("/models")
def list_models():
    if speaks_gemini():
        return gemini.list_models(current_services(), current_record(), "v1", request.args)
    return {"object": "list", "data": current_services().models.list()}


@bp.get("/v1/models/<path:model_id>")
@bp.get("/models/<path:model_id>")
def retrieve_model(model_id: str):
    if speaks_gemini():
        return gemini.get_model(current_services(), current_record(), "v1", model_id)
    return current_services().models.get(model_id)
