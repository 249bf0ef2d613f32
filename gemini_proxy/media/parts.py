"""The media of a request's messages (chat) or items (Responses) as (MIME type, bytes), ready
for Gemini's inline data.

Keyed by the param of the content part ("messages[2].content[0]", "input[1].content[0]"), which
is how translate/ finds them. http(s) image URLs are fetched first (each URL once, in message order, within
MediaLimits), then data: URLs and base64 are decoded. Every bad input is a 400 naming the part
(a URL that cannot be fetched: its `image_url.url`).

A Cloud Storage object (`gs://bucket/object` as an image URL or a file's data) is not fetched: on Vertex AI
it stays a URI, (MIME type, "gs://..."), which Gemini reads itself as fileData; the Gemini API cannot read
it (only after a Files API registration with the user's own OAuth token), so there it is a 400.
"""
from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence

from gemini_proxy.errors import invalid_request
from gemini_proxy.media.data import (
    MediaError,
    MediaLimits,
    audio_mime,
    decode_base64,
    file_mime,
    parse_data_url,
    shown,
)
from gemini_proxy.media.fetch import fetch

MEDIA_PARTS = frozenset({"image_url", "input_audio", "file"})
GS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")  # Cloud Storage's bucket names


def media_of(messages: list[dict], limits: MediaLimits, fetch_urls: bool = True, cloud_storage: bool = False
             ) -> dict[str, tuple[str, bytes | str]]:
    """Every media part of `messages` (as the chat schema loads them), by param. `cloud_storage`: gs://
    URIs are passed on (Vertex AI), else refused."""
    parts = list(_media_parts(messages))
    storage = {param: _storage_object(param, part, cloud_storage) for param, part in parts if _gs_uri(part)}
    fetched = _fetched(parts, limits, fetch_urls)
    media: dict[str, tuple[str, bytes | str]] = dict(storage)
    for param, part in parts:
        if param in storage:
            continue
        try:
            media[param] = fetched.get(_http_url(part)) or _decoded(part, limits.max_bytes)
        except MediaError as error:
            raise invalid_request(error.message, param) from None
    return media


def _gs_uri(part: dict) -> str | None:
    if part["type"] == "image_url":
        url = part["image_url"]["url"]
    elif part["type"] == "file":
        url = part["file"].get("file_data")
    else:
        return None
    return url if isinstance(url, str) and url[:5].lower() == "gs://" else None


def _storage_object(param: str, part: dict, cloud_storage: bool) -> tuple[str, str]:
    field = f"{param}.image_url.url" if part["type"] == "image_url" else f"{param}.file.file_data"
    filename = part["file"].get("filename") if part["type"] == "file" else None
    return storage_object(_gs_uri(part) or "", field, filename, cloud_storage)


def storage_object(uri: str, field: str, filename: str | None, cloud_storage: bool) -> tuple[str, str]:
    """(MIME type, gs:// URI) of a Cloud Storage object, its type from its name (or the file's filename);
    a 400 naming `field` on AI Studio (not `cloud_storage`)."""
    if not cloud_storage:
        raise invalid_request("gs:// URLs (Cloud Storage objects) are read by Vertex AI only "
                              "(GEMINI_BACKEND=vertex); with the Gemini API send the data inline or as an "
                              "http(s) URL.", field, "unsupported_parameter")
    bucket, _, name = uri[5:].partition("/")
    if not GS_BUCKET.fullmatch(bucket) or not name:
        raise invalid_request(f"{shown(uri)} is not a Cloud Storage URI (gs://bucket/object).", field)
    try:
        return file_mime(filename or name, None), uri
    except MediaError as error:
        raise invalid_request(f"{error.message} (a gs:// object's type comes from its name)", field) from None


def _media_parts(messages: list[dict]) -> Iterator[tuple[str, dict]]:
    for i, message in enumerate(messages):
        for j, part in enumerate(message.get("content") or ()):
            if part["type"] in MEDIA_PARTS:
                yield f"messages[{i}].content[{j}]", part


def _http_url(part: dict) -> str | None:
    """The URL of an image the gateway must fetch itself (None: the part carries its data)."""
    url = part["image_url"]["url"] if part["type"] == "image_url" else None
    return None if url is None or url.startswith("data:") or _gs_uri(part) else url


def _fetched(parts: list[tuple[str, dict]], limits: MediaLimits, fetch_urls: bool) -> dict[str, tuple[str, bytes]]:
    fetched: dict[str, tuple[str, bytes]] = {}
    for param, part in parts:
        url = _http_url(part)
        if url is not None:
            _fetch_once(url, f"{param}.image_url.url", fetched, limits, fetch_urls, "image")
    return fetched


def _fetch_once(url: str, param: str, fetched: dict[str, tuple[str, bytes]], limits: MediaLimits, fetch_urls: bool,
                what: str) -> tuple[str, bytes]:
    """What `url` holds, fetched once a request (`fetched` keeps it), or a 400 naming `param`."""
    if not fetch_urls:
        raise invalid_request(f"This gateway does not fetch media URLs (MEDIA_FETCH_URLS is off): send the {what} "
                              "as a data: URL.", param, "unsupported_parameter")
    if url not in fetched:
        try:
            fetched[url] = fetch(url, limits)
        except MediaError as error:
            raise invalid_request(error.message, param) from None
    return fetched[url]


def _decoded(part: dict, max_bytes: int) -> tuple[str, bytes]:
    if part["type"] == "image_url":
        return parse_data_url(part["image_url"]["url"], max_bytes)
    if part["type"] == "input_audio":
        return _audio(part["input_audio"], max_bytes)
    return _file(part["file"]["file_data"], part["file"].get("filename"), max_bytes)


def _audio(audio: dict, max_bytes: int) -> tuple[str, bytes]:
    return audio_mime(audio["format"]), decode_base64(audio["data"], max_bytes)


def _file(data: str, filename: str | None, max_bytes: int) -> tuple[str, bytes]:
    """A file sent as a data: URL or as plain base64; its MIME type from the URL or its name."""
    if data.startswith("data:"):
        declared, decoded = parse_data_url(data, max_bytes)
    else:
        declared, decoded = None, decode_base64(data, max_bytes)
    return file_mime(filename, declared), decoded


# Responses content parts that carry media, and where each keeps its URL to fetch.
RESPONSES_MEDIA = frozenset({"input_image", "input_file", "input_audio"})
_RESPONSES_URL_FIELDS = {"input_image": "image_url", "input_file": "file_url"}


def media_of_items(items: list[dict], limits: MediaLimits, fetch_urls: bool = True, *,
                   history: Sequence[dict] = (), referenced: Mapping[str, dict] | None = None,
                   cloud_storage: bool = False) -> dict[str, tuple[str, bytes | str]]:
    """Every media part of a Responses request (items as schemas/responses loads or input_items
    lists them), by param: "input[2].content[1]" for a message's part, "input[3].output[0]" for
    a tool output's; the items of the previous_response_id chain as "history[k]...", and an
    item_reference's item under the reference's own param (translate/responses reads them so)."""
    parts = [*_item_media(items, "input", referenced or {}), *_item_media(history, "history", referenced or {})]
    media: dict[str, tuple[str, bytes | str]] = {}
    urls = []
    for param, part in parts:
        url_field = _RESPONSES_URL_FIELDS.get(part["type"])
        url = part.get(url_field) if url_field else None
        if isinstance(url, str) and url[:5].lower() == "gs://":
            media[param] = storage_object(url, f"{param}.{url_field}", part.get("filename"), cloud_storage)
            continue
        if url is not None and not url.startswith("data:"):
            urls.append((param, url, f"{param}.{url_field}"))
            continue
        # Inline data first: a bad part is refused before any URL is fetched.
        try:
            media[param] = _decoded_item_part(part, limits.max_bytes)
        except MediaError as error:
            raise invalid_request(error.message, param) from None
    fetched: dict[str, tuple[str, bytes]] = {}
    for param, url, url_param in urls:
        media[param] = _fetch_once(url, url_param, fetched, limits, fetch_urls, "data inline")
    return media


def _item_media(items: Sequence[dict], prefix: str, referenced: Mapping[str, dict]) -> Iterator[tuple[str, dict]]:
    for i, sent in enumerate(items):
        item = (referenced.get(sent.get("id")) or {}) if sent.get("type") == "item_reference" else sent
        for field in ("content", "output"):
            value = item.get(field)
            if isinstance(value, list):
                for j, part in enumerate(value):
                    if isinstance(part, dict) and part.get("type") in RESPONSES_MEDIA:
                        yield f"{prefix}[{i}].{field}[{j}]", part


def _decoded_item_part(part: dict, max_bytes: int) -> tuple[str, bytes]:
    kind = part["type"]
    if kind == "input_image":
        if part.get("file_id") is not None or part.get("image_url") is None:
            raise MediaError("uploaded files are not supported: send the image as `image_url` (a data: or http(s) "
                             "URL)")
        return parse_data_url(part["image_url"], max_bytes)
    if kind == "input_audio":
        return _audio(part["input_audio"], max_bytes)
    if part.get("file_id") is not None or (part.get("file_data") is None and part.get("file_url") is None):
        raise MediaError("uploaded files are not supported: send the file inline as `file_data` or as `file_url`")
    # Without file_data, file_url is a data: URL (the others were fetched).
    data = part["file_data"] if part.get("file_data") is not None else part["file_url"]
    return _file(data, part.get("filename"), max_bytes)
