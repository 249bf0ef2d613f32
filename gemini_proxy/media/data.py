"""Media in OpenAI content parts -> (MIME type, bytes) for Gemini's inline data.

OpenAI clients send images as data: or http(s) URLs, audio as bare base64 with a format name and
files as a data: URL or bare base64 with a filename. Every bad input raises MediaError, which the
caller turns into a 400 naming the param. fetch() is an SSRF guard: it only talks to public
addresses (unless told otherwise), connects to exactly the address it checked, and bounds the
whole exchange in time and size (it lives in media/fetch.py).
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_to_bytes


@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int = 20 * 1024 * 1024  # per item, decoded
    timeout: float = 10.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 3
    allow_private: bool = False  # allow loopback/private/link-local/reserved targets

    def __post_init__(self):
        if self.max_bytes <= 0 or self.timeout <= 0 or self.max_redirects < 0:
            raise ValueError(f"unusable media limits: {self!r}")


class MediaError(Exception):
    """Media the caller sent cannot be used; the message is safe to show to the client."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param


# Gemini spells some types its own way (audio/mp3, text/md, video/mov); its names win over IANA's.
_AUDIO_FORMATS = {
    "aac": "audio/aac", "aiff": "audio/aiff", "flac": "audio/flac", "m4a": "audio/mp4",
    "mp3": "audio/mp3", "ogg": "audio/ogg", "wav": "audio/wav",
}

_FILE_EXTENSIONS = {
    **_AUDIO_FORMATS, "aif": "audio/aiff",
    "pdf": "application/pdf", "json": "application/json",
    "txt": "text/plain", "md": "text/md", "html": "text/html", "htm": "text/html", "css": "text/css",
    "csv": "text/csv", "xml": "text/xml", "rtf": "text/rtf", "js": "text/javascript", "py": "text/x-python",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp", "gif": "image/gif",
    "heic": "image/heic", "heif": "image/heif",
    "mp4": "video/mp4", "mpeg": "video/mpeg", "mpg": "video/mpg", "mov": "video/mov", "avi": "video/avi",
    "flv": "video/x-flv", "webm": "video/webm", "wmv": "video/wmv", "3gp": "video/3gpp",
}

MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_WHITESPACE = str.maketrans("", "", " \t\r\n\f\v")
_URLSAFE_TO_STANDARD = str.maketrans("-_", "+/")



def parse_data_url(url: str, max_bytes: int) -> tuple[str, bytes]:
    """An RFC 2397 data: URL -> (MIME type without parameters, decoded bytes)."""
    if not isinstance(url, str) or url[:5].lower() != "data:":
        raise MediaError("expected a data: URL")
    header, comma, data = url[5:].partition(",")
    if not comma:
        raise MediaError("a data URL needs a comma between its header and its data")
    mime, *params = (part.strip() for part in header.split(";"))
    mime = mime.lower()
    if not mime:
        raise MediaError("a data URL needs a MIME type")
    if not MIME_TYPE.fullmatch(mime):
        raise MediaError(f"the data URL's MIME type {shown(mime)} is not type/subtype")
    if params and params[-1].lower() == "base64":
        # Base64 is allowed to arrive percent-encoded ('+' -> %2B, '=' -> %3D) in a URL.
        body = decode_base64(unquote(data) if "%" in data else data, max_bytes)
    else:
        body = unquote_to_bytes(data)
        if len(body) > max_bytes:
            raise too_large("the data URL", max_bytes)
    if not body:
        raise MediaError("the data URL has no data")
    return mime, body


def decode_base64(data: str, max_bytes: int) -> bytes:
    """Base64 in the standard or URL-safe alphabet, padded or not, whitespace ignored."""
    text = data.translate(_WHITESPACE) if isinstance(data, str) else ""
    if not text:
        raise MediaError("the base64 data is empty")
    if text[:5].lower() == "data:":
        raise MediaError("expected bare base64 data, not a data: URL")
    if not _BASE64.fullmatch(text):
        raise MediaError("the data is not valid base64")
    digits = text.rstrip("=")
    if len(digits) % 4 == 1 or (len(digits) != len(text) and len(text) % 4):
        raise MediaError("the base64 data has a bad length or padding")
    if len(digits) * 3 // 4 > max_bytes:
        raise too_large("the base64 data", max_bytes)
    if "-" in digits or "_" in digits:
        if "+" in digits or "/" in digits:
            raise MediaError("the base64 data mixes the standard and URL-safe alphabets")
        digits = digits.translate(_URLSAFE_TO_STANDARD)
    try:
        return base64.b64decode(digits + "=" * (-len(digits) % 4), validate=True)
    except binascii.Error as exc:
        raise MediaError("the data is not valid base64") from exc


def audio_mime(format: str) -> str:
    """OpenAI's input_audio.format -> Gemini's MIME type."""
    try:
        return _AUDIO_FORMATS[format.strip().lower()]
    except (KeyError, AttributeError):
        raise MediaError(f"unsupported audio format {shown(format)}; use one of: "
                         f"{', '.join(sorted(_AUDIO_FORMATS))}") from None


def file_mime(filename: str | None, declared: str | None) -> str:
    """A file's MIME type: the one its data URL declared, else the one its extension implies."""
    declared = declared.split(";", 1)[0].strip().lower() if isinstance(declared, str) else ""
    # Upload tools label anything they do not recognise as octet-stream, which tells us nothing.
    if declared and declared != "application/octet-stream":
        if not MIME_TYPE.fullmatch(declared):
            raise MediaError(f"the file's MIME type {shown(declared)} is not type/subtype")
        return declared
    if not filename or not isinstance(filename, str):
        raise MediaError("a file needs a filename with a known extension or a data URL with a MIME type")
    base = re.split(r"[/\\]", filename)[-1]
    _, dot, extension = base.rpartition(".")
    mime = _FILE_EXTENSIONS.get(extension.strip().lower()) if dot else None
    if mime is None:
        raise MediaError(f"cannot tell the type of file {shown(base)}; known extensions: "
                         f"{', '.join(sorted(_FILE_EXTENSIONS))}")
    return mime


def too_large(what: str, max_bytes: int) -> MediaError:
    return MediaError(f"{what} is larger than the {size(max_bytes)} limit")


def size(count: int) -> str:
    for unit, factor in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= factor and count % factor == 0:
            return f"{count // factor} {unit}"
    return f"{count} bytes"


def shown(text: str, limit: int = 60) -> str:
    """Client- or server-supplied text, quoted and cut short for an error message."""
    text = str(text)
    return repr(text if len(text) <= limit else text[:limit] + "...")
