"""One attempt of a call through the SDK's HTTP layer, below its public `request` (client.py
decides on keys, deadlines and retries; this sends what it was given and returns once Gemini's
response headers arrived).

The SDK's client builds the URL (base URL, API version; on Vertex AI the project and location)
and the headers (the client's key, user agent, x-goog-api-client), its httpx2 client adds its
own, and the SDK maps a failed status to its APIError. What does not change from call to call is
built once per call path (`template`): rebuilding it (pydantic's HttpOptions merged, the URL
parsed, the headers merged) cost a third of the gateway's time in an upstream call. Per call:
the body (orjson's bytes: json.dumps took 0.3 ms for a 100 kB conversation), the key of the
attempt, the time left (X-Server-Timeout, the httpx2 timeouts). The request goes straight to the
transport of the SDK's httpx2 client (pool.py's, or httpx2's own behind a proxy): the client's own
layers (auth flow, event hooks, cookie jar, redirect loop) have nothing to do for a Gemini call and
cost about 30 us of CPU a call, a tenth of it; a redirect (Gemini sends none) is followed by the
client, as the SDK would.

Vertex AI with a project sends an OAuth token the SDK refreshes for every call, so there the
SDK builds the whole request and encodes the body itself (`send_by_sdk`).
"""
from __future__ import annotations

import math

import httpx2
from google.genai import errors as genai_errors
from google.genai import types
from google.genai._api_client import BaseApiClient, HttpResponse


def key_option(api_key: str | None) -> dict | None:
    """A key of the pool, or a client's own (pass-through mode), in place of the SDK client's for one call:
    the headers of the call's HttpOptions."""
    return {"x-goog-api-key": api_key} if api_key else None


def milliseconds(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))  # the SDK's timeout unit; 0 would mean none


def template(http: BaseApiClient, method: str, path: str, version: str | None) -> httpx2.Request:
    """The request the SDK's client `http` sends for `path`, but for its body and per-call headers
    (client.py keeps the last few hundred, per gateway)."""
    options = types.HttpOptions.model_construct(api_version=version) if version else None
    built = http._build_request(method, path, {}, options)
    made = http._httpx_client.build_request(method, http._httpx_url(built.url, is_async=False), headers=built.headers)
    made.headers.pop("Content-Length", None)  # each call's body sets its own
    return made


def send(http: BaseApiClient, made: httpx2.Request, body: bytes | None, key: str | None, left: float,
         connect_timeout: float) -> HttpResponse:
    """`body` (JSON bytes; None: none) sent as `made` (a template()) with `key` (None: the client's),
    within `left` seconds."""
    headers = made.headers.copy()
    headers["X-Server-Timeout"] = str(math.ceil(left))
    if key:
        headers["x-goog-api-key"] = key
    if body is not None:
        headers["Content-Length"] = str(len(body))
    # The body as a stream, so that httpx2 takes the headers as they are (with content=, it would
    # work out Host and Content-Length again and rebuild them all: 31 us against 9).
    request = httpx2.Request(made.method, made.url, headers=headers, stream=httpx2.ByteStream(body or b""),
                             extensions={"timeout": httpx2.Timeout(left, connect=min(connect_timeout, left)).as_dict()})
    client = http._httpx_client
    response = client._transport_for_url(made.url).handle_request(request)
    response.request = request
    if response.has_redirect_location:  # not Gemini's, but a server at GEMINI_BASE_URL may redirect
        response.close()
        response = client.send(client._build_redirect_request(request, response), stream=True)
    genai_errors.APIError.raise_for_response(response)
    # Callers read the answer's headers on the httpx2 response (`response_stream`); the SDK's own
    # copy, made header by header (30 us), is left empty.
    return HttpResponse({}, response)


def send_by_sdk(http: BaseApiClient, method: str, path: str, version: str | None, body: dict | None,
                key: str | None, left: float, connect_timeout: float) -> HttpResponse:
    """The same call, the whole request built by the SDK (its OAuth token, its encoding of `body`)."""
    options = types.HttpOptions.model_construct(headers=key_option(key), timeout=milliseconds(left),
                                                api_version=version)
    request = http._build_request(method, path, body or {}, options)
    request.timeout = httpx2.Timeout(left, connect=min(connect_timeout, left))
    return http._request_once(request, stream=True)
