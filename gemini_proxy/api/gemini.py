"""Gemini's own API: POST /{v}/models/{model}:generateContent, :streamGenerateContent (SSE),
:countTokens, :embedContent, :batchEmbedContents, and GET /{v}/models[/{model}], for v in v1,
v1beta and v1alpha (GET /v1/models[/{model}] is OpenAI's route, which answers Gemini's clients
in Gemini's shape: api/models.py). Errors are Gemini's envelope (web/errors.py)."""
from __future__ import annotations

from flask import Blueprint, request
from werkzeug.routing import BaseConverter

from gemini_proxy.relay import gemini as relay
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_object
from gemini_proxy.web.dialect import GEMINI_BLUEPRINT, GEMINI_METHODS, GEMINI_VERSIONS
from gemini_proxy.web.hooks import current_record
from gemini_proxy.web.sse import gemini_stream_response

bp = Blueprint(GEMINI_BLUEPRINT, __name__)


class ModelConverter(BaseConverter):
    """A model in a path, up to the `:` of a method: GET .../models/m:generateContent is a 405,
    not the model `m:generateContent`."""
    regex = "[^/:]+"


@bp.record_once
def _converter(state) -> None:
    state.app.url_map.converters["model"] = ModelConverter


ACTIONS = tuple(method for method in GEMINI_METHODS if method != "streamGenerateContent")  # one JSON answer each


def generate(version: str, model: str, action: str):
    return relay.call(current_services(), current_record(), version, model, action, json_object())


def stream_generate_content(version: str, model: str):
    chunks = relay.stream(current_services(), current_record(), version, model, json_object())
    return gemini_stream_response(chunks)


def list_models(version: str):
    return relay.list_models(current_services(), current_record(), version, request.args)


def get_model(version: str, model: str):
    return relay.get_model(current_services(), current_record(), version, model)


for _version in GEMINI_VERSIONS:
    for _action in ACTIONS:
        bp.add_url_rule(f"/{_version}/models/<model:model>:{_action}", f"{_action}", generate, methods=["POST"],
                        defaults={"version": _version, "action": _action})
    bp.add_url_rule(f"/{_version}/models/<model:model>:streamGenerateContent", "streamGenerateContent",
                    stream_generate_content, methods=["POST"], defaults={"version": _version})
    if _version != "v1":  # /v1/models is OpenAI's route, shared (api/models.py)
        bp.add_url_rule(f"/{_version}/models", "list_models", list_models, defaults={"version": _version})
        bp.add_url_rule(f"/{_version}/models/<model:model>", "get_model", get_model, defaults={"version": _version})
