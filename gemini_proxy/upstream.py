"""The one boundary with Gemini: the only module that imports google-genai.

Owns the SDK client (one per worker process, kept alive: Client.__del__ closes its pool),
timeouts and retries, and turns every SDK or transport failure into an ApiError. Answers
leave this module as plain dicts with the SDK's snake_case field names, so translate/ never
sees an SDK object.

generateContent, the hot path, goes through the SDK's own HTTP layer (its retries, timeouts,
headers, SSE parsing and error mapping) with Gemini's REST JSON built by translate.wire: the
SDK's pydantic round trips cost more per request than everything else the gateway does. The
other calls use the SDK's typed methods. Under the SDK's httpx2 client, the sockets are
upstream_http's keep-alive pool (BENCHMARKS.md has the measurements behind both choices).
"""
from __future__ import annotations

import json
import logging
import urllib.request
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import urlsplit

import httpx2
import pydantic
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from .config import Settings
from .errors import (ApiError, invalid_model, invalid_request, upstream_api_error, upstream_bad_response, upstream_timeout,
                     upstream_unreachable)
from .translate.models import gemini_model_id
from .translate.wire import rest_request, sdk_names
from .upstream_http import ConnectionPool

log = logging.getLogger(__name__)

GOOGLE_BASE_URL = "https://generativelanguage.googleapis.com/"

# Retried before any byte reaches the client; 429 is not: the client gets it with Retry-After.
_RETRY_STATUSES = [500, 502, 503, 504]

def _api_error_from(exc: Exception) -> ApiError:
    if isinstance(exc, genai_errors.APIError):
        body = exc.details if isinstance(exc.details, dict) else {}
        error = body.get("error") if isinstance(body.get("error"), dict) else {}
        details = error.get("details") if isinstance(error.get("details"), list) else []
        return upstream_api_error(exc.code or 500, exc.status, exc.message or "", details)
    if isinstance(exc, pydantic.ValidationError):
        # Only options passed through verbatim (extra_body.google) can fail the SDK's checks.
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        return invalid_request(f"Gemini's SDK refused an option: {where}: {first.get('msg', 'invalid')}.")
    if isinstance(exc, httpx2.TimeoutException):
        return upstream_timeout()
    if isinstance(exc, httpx2.TransportError):
        return upstream_unreachable(type(exc).__name__)
    return upstream_bad_response()


_UPSTREAM_FAILURES = (genai_errors.APIError, genai_errors.UnknownApiResponseError, httpx2.HTTPError,
                      pydantic.ValidationError, json.JSONDecodeError)


@contextmanager
def _mapped_errors():
    try:
        yield
    except _UPSTREAM_FAILURES as exc:
        raise _api_error_from(exc) from exc


def dump(response: Any) -> dict:
    """An SDK response object as the plain dict translate/ reads."""
    return response.model_dump(mode="json", exclude_none=True, exclude={"sdk_http_response"})


def _key_option(api_key: str | None) -> dict | None:
    """A client's own Gemini key (pass-through mode) replaces the gateway's for one call."""
    return {"headers": {"x-goog-api-key": api_key}} if api_key else None


def response_from_wire(body: dict) -> dict:
    """Gemini's REST JSON (camelCase) as the dict translate/ reads."""
    return sdk_names(body)


def _resource(model: str) -> str:
    """The URL path of a model. Callers resolve and check client names first; this is the last
    guard before a name becomes part of a URL."""
    model_id = gemini_model_id(model)
    if model_id is None:
        raise invalid_model()
    return model_id if model_id.startswith("tunedModels/") else f"models/{model_id}"


def _client_args(settings: Settings, proxies: dict[str, str] | None = None) -> dict:
    """The SDK's httpx2.Client runs on upstream_http's connection pool, unless a proxy from the
    environment (HTTPS_PROXY, NO_PROXY, ...) applies to Gemini: then on httpx2's own transport,
    which honours it."""
    proxies = urllib.request.getproxies_environment() if proxies is None else proxies
    max_connections = settings.upstream_max_connections
    max_keepalive = min(max_connections, 128)
    url = urlsplit(settings.upstream_base_url or GOOGLE_BASE_URL)
    if proxies.get(url.scheme, proxies.get("all")) and not urllib.request.proxy_bypass_environment(url.hostname or "", proxies):
        # httpx2's default pool (100 connections) would queue streams beyond that.
        return {"limits": httpx2.Limits(max_connections=max_connections, max_keepalive_connections=max_keepalive)}
    return {"transport": ConnectionPool(max_connections, max_keepalive)}


class Upstream:
    def __init__(self, settings: Settings):
        self._client = genai.Client(
            api_key=settings.upstream_api_key,
            http_options=types.HttpOptions(
                base_url=settings.upstream_base_url,
                api_version=settings.gemini_api_version,
                timeout=int(settings.upstream_timeout * 1000),
                client_args=_client_args(settings),
                retry_options=types.HttpRetryOptions(
                    attempts=settings.upstream_retries + 1,
                    initial_delay=settings.upstream_retry_delay,
                    max_delay=max(settings.upstream_retry_delay, 4.0),
                    jitter=settings.upstream_retry_delay,
                    http_status_codes=_RETRY_STATUSES,
                ),
            ),
        )

    def generate(self, model: str, contents: list[dict], config: dict, api_key: str | None = None) -> dict:
        with _mapped_errors():
            response = self._send(f"{_resource(model)}:generateContent", rest_request(contents, config), api_key, stream=False)
            return response_from_wire(json.loads(response.response_stream[0]))

    def stream(self, model: str, contents: list[dict], config: dict, api_key: str | None = None) -> Iterator[dict]:
        """Chunks as they arrive. Closing the iterator closes the upstream connection."""
        with _mapped_errors():
            response = self._send(f"{_resource(model)}:streamGenerateContent?alt=sse", rest_request(contents, config),
                                  api_key, stream=True)
        chunks = response.segments()  # each SSE event parsed once, by the SDK's strict SSE reader
        try:
            with _mapped_errors():
                for chunk in chunks:
                    if "error" in chunk:  # a failure after the 200: Gemini sends it as one more event
                        error = chunk["error"] if isinstance(chunk["error"], dict) else {}
                        genai_errors.APIError.raise_error(error.get("code") or 500, chunk, response.response_stream)
                    yield response_from_wire(chunk)
        finally:
            chunks.close()
            response.response_stream.close()

    def _send(self, path: str, body: dict, api_key: str | None, stream: bool):
        """One call through the SDK's HTTP layer (base URL, key, api version, timeouts, retries,
        error mapping, SSE parsing). One level below its public `request`/`request_streamed`,
        which would serialise every parsed event back to text and wrap it in a pydantic model
        for the caller to parse again."""
        http = self._client._api_client
        options = _key_option(api_key)
        return http._request(http._build_request("post", path, body, options), options, stream=stream)

    def embed(self, model: str, texts: list[str], config: dict, api_key: str | None = None) -> dict:
        """One batchEmbedContents call: one embedding per text, in order. The SDK splits
        nothing, so the caller keeps `texts` within Gemini's per-call limit."""
        # One Content per text: for some models the SDK merges a list of plain strings into one.
        contents = [{"parts": [{"text": text}]} for text in texts]
        with _mapped_errors():
            return dump(self._client.models.embed_content(
                model=_resource(model), contents=contents, config={**config, "http_options": _key_option(api_key)}))

    def count_tokens(self, model: str, texts: list[str], api_key: str | None = None) -> int:
        contents = [{"role": "user", "parts": [{"text": text}]} for text in texts]
        with _mapped_errors():
            return self._client.models.count_tokens(
                model=_resource(model), contents=contents, config={"http_options": _key_option(api_key)}).total_tokens or 0

    def list_models(self) -> list[dict]:
        with _mapped_errors():
            return [dump(model) for model in self._client.models.list(config={"page_size": 1000})]

    def get_model(self, model: str) -> dict:
        with _mapped_errors():
            return dump(self._client.models.get(model=_resource(model)))

    def close(self) -> None:
        self._client.close()
