"""The request's multipart form (OpenAI's audio uploads): its fields and one uploaded file, read
within MAX_BODY_BYTES and the route's own file limit, every failure an ApiError naming `file`."""
from __future__ import annotations

from flask import request
from werkzeug.exceptions import RequestEntityTooLarge

from gemini_proxy.errors import ApiError, invalid_request


def file_too_large(size: int | None, limit: int, what: str = "The audio file") -> ApiError:
    told = f" is {size} bytes," if size is not None else ""
    return ApiError(413, f"{what}{told} larger than this gateway takes: {limit} bytes (MAX_AUDIO_BYTES; Gemini takes "
                         "audio inline in requests of up to 20 MB, base64-encoded).",
                    "invalid_request_error", "file", "file_too_large")


def uploaded(name: str, limit: int) -> tuple[dict, bytes, str | None]:
    """The form's fields, the bytes of its file `name` and the file's name."""
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise invalid_request("The request must be multipart/form-data, with the audio in the field `file`.", name)
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        raise file_too_large(request.content_length, min(limit, request.max_content_length or limit)) from None
    upload = files.get(name)
    if upload is None:
        raise invalid_request(f"Missing required parameter: '{name}'.", name, "missing_required_parameter")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise file_too_large(None, limit)
    if not data:
        raise invalid_request("The audio file is empty.", name)
    return form, data, upload.filename
