"""Media parts: validated like Gemini, and acknowledged at the start of the answer.

Validation (400 INVALID_ARGUMENT): inlineData needs a mimeType that looks like type/subtype
("Unsupported MIME type: ...") and data that is base64 (standard or URL-safe, padding optional;
anything else: "... Base64 decoding failed ..."); fileData needs a fileUri, and its mimeType,
if any, must look like type/subtype too.

Description: every inlineData / fileData part of the last user turn (the last content with
role "user" or no role) becomes one sentence, in order, at the start of a text answer:
    inlineData  "I received an image/png of 68 bytes."   (the decoded size)
    fileData    "I received an application/pdf file at gs://bucket/doc.pdf."
so a client can see that its media arrived intact.
"""

from __future__ import annotations

import re
from typing import Any

from gemini_emulator.errors import invalid_argument
from gemini_emulator.wire import decode_base64

_MIME = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(?:\s*;.*)?$")


def _check_mime(mime: Any, where: str) -> None:
    if not isinstance(mime, str) or not _MIME.match(mime):
        raise invalid_argument(f"* GenerateContentRequest.{where}.mime_type: Unsupported MIME "
                               f"type: {mime}")


def check_media(part: dict[str, Any], where: str) -> None:
    """Raise Gemini's 400 for a malformed inlineData or fileData part."""
    inline = part.get("inlineData")
    if inline is not None:
        if not isinstance(inline, dict) or not isinstance(inline.get("data"), str):
            raise invalid_argument(f"* GenerateContentRequest.{where}.inline_data: mimeType and "
                                   "data are required")
        _check_mime(inline.get("mimeType"), f"{where}.inline_data")
        try:
            decode_base64(inline["data"])
        except ValueError:
            raise invalid_argument(
                f"Invalid value at '{where}.inline_data.data' (TYPE_BYTES), Base64 decoding "
                f"failed for \"{inline['data'][:40]}\"") from None
    data = part.get("fileData")
    if data is not None:
        if not isinstance(data, dict) or not isinstance(data.get("fileUri"), str) or not (
                data["fileUri"]):
            raise invalid_argument(f"* GenerateContentRequest.{where}.file_data.file_uri: "
                                   "file_uri is required")
        if data.get("mimeType") is not None:
            _check_mime(data["mimeType"], f"{where}.file_data")


def _article(mime: str) -> str:
    return "an" if mime[:1].lower() in "aeiou" else "a"


def _sentence(part: dict[str, Any]) -> str | None:
    if isinstance(part.get("inlineData"), dict):
        mime = part["inlineData"]["mimeType"]
        size = len(decode_base64(part["inlineData"]["data"]))
        return f"I received {_article(mime)} {mime} of {size} byte{'' if size == 1 else 's'}."
    if isinstance(part.get("fileData"), dict):
        mime = part["fileData"].get("mimeType")
        uri = part["fileData"]["fileUri"]
        return (f"I received {_article(mime)} {mime} file at {uri}." if mime
                else f"I received a file at {uri}.")
    return None


def media_sentences(contents: list[dict[str, Any]]) -> list[str]:
    """One sentence per media part of the last user turn (see the module docstring)."""
    for content in reversed(contents):
        if content.get("role", "user") in ("user", ""):
            found = (_sentence(part) for part in content.get("parts", []))
            return [sentence for sentence in found if sentence]
    return []
