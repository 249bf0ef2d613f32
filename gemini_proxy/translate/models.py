"""Gemini model resources -> OpenAI model objects."""
from __future__ import annotations

import re
from collections.abc import Mapping

# What a model must support to be useful through this gateway (the SDK calls the field
# supported_actions; Gemini's JSON calls it supportedGenerationMethods): predict for Imagen's images.
USEFUL_ACTIONS = frozenset({"generateContent", "embedContent", "predict"})
OWNER = "google"
# Models the built-in emulator serves say so: a client can see it is not talking to Google.
EMULATOR_OWNER = "gemini-emulator"
ALIAS_OWNER = "gemini-proxy"
# Gemini does not say when a model was created; OpenAI's field is a required integer.
UNKNOWN_CREATED = 0
# Gemini's model ids: ASCII letters, digits, '-', '.', '_' (a tuned model's under tunedModels/),
# never two dots in a row (google-genai refuses those as a path step: "invalid model parameter").
# A client's model name becomes part of an upstream URL path only when it matches this:
# anything else ("../files?", "a#frag", "x?key=...") could steer the gateway's own key elsewhere.
_MODEL_ID = re.compile(r"(?:models/|(tunedModels/))?(?!.*\.\.)([A-Za-z0-9][A-Za-z0-9._-]{0,127})")
# The same rule as a JSON Schema pattern, for the OpenAPI document.
MODEL_ID_PATTERN = r"^(?:models/|tunedModels/)?(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"


def gemini_model_id(name: str) -> str | None:
    """`name` as the id Gemini calls take ("gemini-2.5-flash", "tunedModels/x"), or None when
    it is not a Gemini model id."""
    match = _MODEL_ID.fullmatch(name)
    return None if match is None else (match.group(1) or "") + match.group(2)


def model_object(model_id: str, owned_by: str = OWNER) -> dict:
    return {"id": model_id, "object": "model", "created": UNKNOWN_CREATED, "owned_by": owned_by}


def model_id_of(gemini_model: dict) -> str:
    return gemini_model["name"].removeprefix("models/")


def is_useful(gemini_model: dict) -> bool:
    return bool(USEFUL_ACTIONS.intersection(gemini_model.get("supported_actions") or ()))


def models_from_gemini(gemini_models: list[dict], aliases: Mapping[str, str], owner: str = OWNER) -> list[dict]:
    """Upstream models that can generate content or embeddings, then the configured aliases."""
    models = [model_object(model_id_of(m), owner) for m in gemini_models if is_useful(m)]
    known = {m["id"] for m in models}
    models += [model_object(alias, ALIAS_OWNER) for alias in aliases if alias not in known]
    return models
