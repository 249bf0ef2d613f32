"""The request's multipart form (OpenAI's audio uploads): its fields and one uploaded file, read
within MAX_BODY_BYTES and the route's own file limit, every failure an ApiError naming `file`."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from gemini_proxy.errors import file_too_large, invalid_request


def uploaded(name: str, limit: int) -> tuple[dict, bytes, str | None]:
    """The form's fields, the bytes of its file `name` and the file's name."""
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise invalid_request("The request must be multipart/form-data, with the audio in the field `file`.", name)
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        body_limit = request.max_content_length or limit
        raise file_too_large(None, min(limit, body_limit), "The request",
                             "MAX_AUDIO_BYTES" if limit <= body_limit else "MAX_BODY_BYTES") from None
    upload = files.get(name)
    if upload is None:
        raise invalid_request(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise file_too_large(None, limit)
    if not data:
        raise invalid_request("The audio file is empty.", name)
    return form, data, upload.filename
