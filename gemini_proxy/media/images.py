"""Image bytes: what an upload really is (by its first bytes, not its filename), and Gemini's image
re-encoded as the format a client asked for, with Pillow. Gemini's image models answer PNG and the
gateway asks Imagen for PNG, so jpeg and webp are encodings of the pixels Gemini drew: never PNG
bytes under another name."""
from __future__ import annotations

import base64
import io

from PIL import Image, UnidentifiedImageError

from gemini_proxy.errors import ApiError, upstream_bad_response

# Leading bytes -> MIME type of the uploads Gemini's image models take (PNG, JPEG, WebP).
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))
FORMAT_OF_MIME = {"image/png": "png", "image/jpeg": "jpeg", "image/webp": "webp"}
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}


def image_mime(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG or WebP file; None for anything else."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for signature, mime in _SIGNATURES if data.startswith(signature)), None)


def encoded(data_b64: str, mime: str, output_format: str, compression: int | None) -> str:
    """Gemini's base64 image as base64 `output_format` (png, jpeg, webp). An image already in that format
    passes untouched unless a compression was asked for; a jpeg loses the alpha channel (as OpenAI's do)."""
    if FORMAT_OF_MIME.get(mime.split(";")[0].strip()) == output_format and (
            compression is None or output_format == "png"):
        return data_b64
    try:
        with Image.open(io.BytesIO(base64.b64decode(data_b64))) as opened:
            opened.load()
            image = opened
            if output_format == "jpeg":
                image = opened.convert("RGB")
            elif opened.mode == "P":
                image = opened.convert("RGBA" if "transparency" in opened.info else "RGB")
            out = io.BytesIO()
            options = {} if output_format == "png" else {"quality": 100 if compression is None else compression}
            image.save(out, _PILLOW_FORMATS[output_format], **options)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise upstream_bad_response(f"an image Gemini sent could not be decoded ({type(exc).__name__})") from None
    return base64.b64encode(out.getvalue()).decode("ascii")


def checked_upload(data: bytes, param: str, max_bytes: int) -> tuple[bytes, str]:
    """An uploaded image and its real MIME type; anything else a 400 naming `param`."""
    if len(data) > max_bytes:
        raise ApiError(400, f"Invalid value for '{param}': the image is larger than {max_bytes} bytes.",
                       "invalid_request_error", param, "image_too_large")
    mime = image_mime(data)
    if mime is None:
        raise ApiError(400, f"Invalid value for '{param}': not a PNG, JPEG or WebP image.",
                       "invalid_request_error", param, "invalid_image_format")
    return data, mime
