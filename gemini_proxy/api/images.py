"""POST /v1/images/generations (JSON) and /v1/images/edits (multipart), and their unprefixed twins."""
from __future__ import annotations

from flask import Blueprint, request

from gemini_proxy.errors import invalid_request
from gemini_proxy.media.images import checked_upload
from gemini_proxy.relay.images import generate_images
from gemini_proxy.schemas import load
from gemini_proxy.schemas.images import ImageEditSchema, ImageGenerationSchema, form_fields
from gemini_proxy.services import current_services
from gemini_proxy.web.body import json_body
from gemini_proxy.web.hooks import current_record

bp = Blueprint("images", __name__)
UPLOAD_FIELDS = ("image", "image[]")
MAX_UPLOADS = 16  # OpenAI's limit


@bp.post("/v1/images/generations")
@bp.post("/images/generations")
def create_image():
    body = load(ImageGenerationSchema(), json_body())
    return generate_images(current_services(), body, current_record())


@bp.post("/v1/images/edits")
@bp.post("/images/edits")
def create_image_edit():
    services = current_services()
    if request.mimetype != "multipart/form-data":
        raise invalid_request("Image edits take a multipart/form-data body (the image files, `prompt`, ...).")
    if not request.form and not request.files:  # Werkzeug drops a malformed body without a word
        raise invalid_request("The multipart/form-data body could not be read: malformed, cut short, or without "
                              "its boundary.")
    body = load(ImageEditSchema(), form_fields(request.form.to_dict()))
    return generate_images(services, body, current_record(), _uploads(services.settings.max_media_bytes))


def _uploads(max_bytes: int) -> list[tuple[bytes, str]]:
    """The uploaded images (`image`, or `image[]` as the openai SDK sends a list), each checked."""
    if request.files.get("mask") is not None:
        raise invalid_request("`mask` is not supported: Gemini's image models edit from the prompt alone; describe "
                              "the part to change in `prompt`.", "mask", "unsupported_parameter")
    named = [(name, upload) for name in UPLOAD_FIELDS for upload in request.files.getlist(name)]
    if not named:
        raise invalid_request("Missing required parameter: 'image'.", "image", "missing_required_parameter")
    if len(named) > MAX_UPLOADS:
        raise invalid_request(f"Invalid value for 'image': at most {MAX_UPLOADS} images.", "image")
    return [checked_upload(upload.read(), name, max_bytes) for name, upload in named]
