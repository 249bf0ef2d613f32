"""The images operations of the OpenAPI document: their request schemas (the app's marshmallow
schemas; an edit's files added by `finish`) and what they answer (OpenAI's ImagesResponse as far
as the gateway fills it)."""
from __future__ import annotations

from collections.abc import Mapping

from gemini_proxy.openapi.operations import API_ERRORS, GENERATION_HEADERS, JSON, Operation
from gemini_proxy.openapi.responses import ref
from gemini_proxy.schemas.images import ImageEditSchema, ImageGenerationSchema
from gemini_proxy.translate.images import OPENAI_SIZES
from gemini_proxy.translate.models import MODEL_ID_PATTERN

MULTIPART = "multipart/form-data"
_INTEGER = {"type": "integer"}
_BINARY = {"type": "string", "format": "binary", "contentMediaType": "application/octet-stream"}

IMAGES_RESPONSE = {
    "type": "object",
    "required": ["created", "data"],
    "properties": {
        "created": {"type": "integer", "description": "Unix time (seconds) of the answer."},
        "data": {"type": "array", "items": {
            "type": "object", "required": ["b64_json"],
            "properties": {"b64_json": {"type": "string", "contentEncoding": "base64",
                                        "description": "The image, in `output_format`."}}}},
        "output_format": {"type": "string", "enum": ["png", "jpeg", "webp"]},
        "usage": {
            "type": "object", "description": "Gemini image models only (Imagen reports no tokens): every call's "
                                             "tokens added up.",
            "required": ["input_tokens", "output_tokens", "total_tokens", "input_tokens_details"],
            "properties": {"input_tokens": _INTEGER, "output_tokens": _INTEGER, "total_tokens": _INTEGER,
                           "input_tokens_details": {"type": "object", "required": ["text_tokens", "image_tokens"],
                                                    "properties": {"text_tokens": _INTEGER,
                                                                   "image_tokens": _INTEGER}}}},
    },
}

COMPONENTS = {"ImagesResponse": IMAGES_RESPONSE}
REQUEST_SCHEMAS = {"CreateImageRequest": ImageGenerationSchema, "CreateImageEditRequest": ImageEditSchema}
_SIZES = (f"`size`: `auto`, {', '.join(OPENAI_SIZES)}, or WxH whose ratio is within 3% of one the model "
          "draws (else 400 naming `size`). ")
_REFUSED = ("`response_format: url` (the gateway hosts no images), `background: transparent` and `stream: true` "
            "are refused by name (400). A refusal by Gemini's safety system is 400 `content_policy_violation`; "
            "an answer without an image is 502 `no_image_generated`.")

OPERATIONS = {
    "images.create_image": Operation(
        "createImage", "Create images", "Images", {JSON: {"schema": ref("ImagesResponse")}},
        "A Gemini image model (`n` calls side by side) or Imagen (`:predict`, up to 4 images a call). "
        + _SIZES + "`quality` hd/high asks for 2K where the model draws it. " + _REFUSED,
        request="CreateImageRequest", errors=API_ERRORS, api=True, headers=GENERATION_HEADERS),
    "images.create_image_edit": Operation(
        "createImageEdit", "Edit images", "Images", {JSON: {"schema": ref("ImagesResponse")}},
        "The uploaded image(s) (`image`, or `image[]`; PNG, JPEG or WebP) and the prompt, to a Gemini image model "
        "(Imagen cannot edit: 400 naming `model`); `mask` is refused (400). " + _SIZES + _REFUSED,
        request="CreateImageEditRequest", errors=API_ERRORS, api=True, headers=GENERATION_HEADERS,
        request_type=MULTIPART),
}


def finish(schemas: dict, aliases: Mapping[str, str]) -> None:
    """The files of an edit, and what `model` may be, written into the generated request schemas."""
    edit = schemas["CreateImageEditRequest"]
    edit["properties"]["image"] = {"anyOf": [_BINARY, {"type": "array", "items": _BINARY, "maxItems": 16}],
                                   "description": "The image(s) to edit (also sent as `image[]`)."}
    edit["required"] = sorted({*edit.get("required", []), "image"})
    for name in REQUEST_SCHEMAS:
        model = schemas[name]["properties"]["model"]
        model["anyOf"] = [{"pattern": MODEL_ID_PATTERN}, {"enum": sorted(aliases)}]
        model["description"] = "A Gemini image model, an Imagen model (generations only) or a configured alias."
