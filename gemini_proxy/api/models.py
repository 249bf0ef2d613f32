"""GET /v1/models and /v1/models/{id} (also without /v1). Gemini's SDKs (api_version v1) ask
the same paths: they get Gemini's answer (web/dialect.py tells them apart)."""
from __future__ import annotations

from flask import Blueprint, request
from werkzeug.routing import PathConverter

from gemini_proxy.relay import gemini
from gemini_proxy.services import current_services
from gemini_proxy.web.dialect import GEMINI_METHODS, speaks_gemini
from gemini_proxy.web.hooks import current_record

bp = Blueprint("models", __name__)


class ModelIdConverter(PathConverter):
    """An OpenAI model id (`ft:gpt-4o:org::id` has colons), but not one ending in a method of
    Gemini's: /v1/models/m:generateContent is Gemini's route alone (a GET there is its 405, with
    `Allow: OPTIONS, POST`), not also the retrieval of a model named `m:generateContent`."""
    regex = f"(?![^/].*:(?:{'|'.join(GEMINI_METHODS)})$)" + PathConverter.regex


@bp.record_once
def _converter(state) -> None:
    state.app.url_map.converters["model_id"] = ModelIdConverter


@bp.get("/v1/models")
@bp.get("/models")
def list_models():
    if speaks_gemini():
        return gemini.list_models(current_services(), current_record(), "v1", request.args)
    return {"object": "list", "data": current_services().models.list()}


@bp.get("/v1/models/<model_id:model_id>")
@bp.get("/models/<model_id:model_id>")
def retrieve_model(model_id: str):
    if speaks_gemini():
        return gemini.get_model(current_services(), current_record(), "v1", model_id)
    return current_services().models.get(model_id)
