"""The one boundary with Gemini: with failures.py (what its failures become) and sdk_calls.py (one
attempt through the SDK's HTTP layer), the only module that imports google-genai.

Owns the SDK client (one per worker process, kept alive: Client.__del__ closes its pool),
timeouts and retries, and turns every SDK or transport failure into an ApiError (failures.py). Answers
leave this module as plain dicts with the SDK's snake_case field names, so translate/ never
sees an SDK object.

generateContent, the hot path, goes through the SDK's own HTTP layer (its headers, SSE parsing
and error mapping) with Gemini's REST JSON built by translate.wire: the SDK's pydantic round
trips cost more per request than everything else the gateway does. The other calls use the
SDK's typed methods. Under the SDK's httpx2 client, the sockets are pool.py's keep-alive
pool (BENCHMARKS.md has the measurements behind both choices).

Time, keys and retries are the gateway's, not the SDK's (its tenacity options would retry a read
timeout, running the same generation again while the client waits):
- one deadline, UPSTREAM_TIMEOUT, covers every attempt of a call and the waits between them,
  up to Gemini's response headers and, for a stream, its first chunk (a non-streamed answer:
  the whole of it). Each attempt connects within UPSTREAM_CONNECT_TIMEOUT. Once a stream's
  first chunk arrived, each next one must come within UPSTREAM_CHUNK_TIMEOUT.
- each attempt takes its key from the pool (keys.py), for the model of the call (a 429 rests a key
  for that model only), sent as x-goog-api-key; a client's own key (pass-through mode) bypasses
  the pool. On Vertex AI with a project the pool holds one entry per account (VERTEX_PROJECT's, or
  each of VERTEX_ACCOUNTS_FILE), each with its SDK client, whose OAuth token the SDK sends as a bearer
  token (a token it cannot refresh is a 502, upstream_credentials_refused, and takes the account out).
- the one retry rule, for failures before Gemini's response headers (so before any byte reached
  the client), in `_with_retries`:
  1. Gemini refused the key, not the request (a 429, 401, 403 or API_KEY_INVALID, and the pool
     has another key: keys.py puts this one aside, for the model or whole): once per call, at
     once, on another key;
  2. `retryable`: Gemini's 500/502/503/504, and a connection that could not be opened or closed
     before the response headers: UPSTREAM_RETRIES times at most, after `retry_wait`, only while
     the deadline leaves time.
  Never a timeout waiting for an answer (the generation may still be running), a 429 that no
  other key can take (the client gets its Retry-After), or anything after the headers arrived.
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx2
import orjson
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from gemini_proxy.config import VERTEX_AI, VERTEX_EXPRESS, Settings
from gemini_proxy.config_backend import VertexAccount
from gemini_proxy.encoding import json_bytes
from gemini_proxy.errors import (
    invalid_model,
    upstream_bad_response,
    upstream_timeout,
    wrong_client_key,
)
from gemini_proxy.translate.models import gemini_model_id
from gemini_proxy.translate.vertex_native import VERTEX_COUNT_TOKENS_FIELDS, labelled
from gemini_proxy.translate.wire import rest_request, sdk_names
from gemini_proxy.upstream import sdk_calls, sse
from gemini_proxy.upstream.answers import Progress, check_answer, check_shape
from gemini_proxy.upstream.credentials import vertex_credentials
from gemini_proxy.upstream.errors import redacted_error
from gemini_proxy.upstream.failures import (
    UPSTREAM_FAILURES,
    api_error_from,
    failure_name,
    mapped_errors,
    retry_wait,
    retryable,
)
from gemini_proxy.upstream.keys import NO_EVENTS, KeyEvents, KeyPool, Lease
from gemini_proxy.upstream.pool import READ_TIMEOUT, client_args
from gemini_proxy.upstream.sdk_calls import key_option, milliseconds

log = logging.getLogger(__name__)

GOOGLE_BASE_URL = "https://generativelanguage.googleapis.com/"
VERTEX_MODELS = "publishers/google/models/"

T = TypeVar("T")


def dump(response: Any) -> dict:
    """An SDK response object as the plain dict translate/ reads."""
    return response.model_dump(mode="json", exclude_none=True, exclude={"sdk_http_response"})


def response_from_wire(body: dict) -> dict:
    """Gemini's REST JSON (camelCase) as the dict translate/ reads."""
    return sdk_names(body)


def _resource(model: str, vertex: bool = False) -> str:
    """The URL path of a model. Callers resolve and check client names first; this is the last
    guard before a name becomes part of a URL. On Vertex AI a Google publisher model: the SDK puts
    projects/{p}/locations/{l}/ in front of it (a bare models/x would be no publisher model there)."""
    model_id = gemini_model_id(model)
    if model_id is None or (vertex and model_id.startswith("tunedModels/")):
        raise invalid_model()
    if vertex:
        return VERTEX_MODELS + model_id.removeprefix("models/")
    return model_id if model_id.startswith("tunedModels/") else f"models/{model_id}"


def _model_of(resource: str) -> str:
    return resource.removeprefix("models/").removeprefix(VERTEX_MODELS)


def _sdk_client(settings: Settings, http_options: types.HttpOptions, account: VertexAccount | None = None
                ) -> genai.Client:
    """Everything explicit: with a base URL and no project/location, the SDK would post to the bare URL.
    On Vertex AI with a project, one client per account (its project, location and credentials)."""
    if account is not None:
        return genai.Client(vertexai=True, project=account.project, location=account.location,
                            credentials=vertex_credentials(account.credentials_file), http_options=http_options)
    if settings.gemini_backend == VERTEX_EXPRESS:
        return genai.Client(vertexai=True, api_key=settings.upstream_api_key, http_options=http_options)
    return genai.Client(api_key=settings.upstream_api_key, http_options=http_options)


def _set_read_timeout(response: httpx2.Response, seconds: float) -> None:
    """Through pool.py's ConnectionPool only: httpx2's own transport (behind an outbound proxy)
    keeps the timeout the attempt started with."""
    setter = response.extensions.get(READ_TIMEOUT)
    if setter is not None:
        setter(max(seconds, 0.001))


class Upstream:
    def __init__(self, settings: Settings, key_events: KeyEvents = NO_EVENTS):
        self._timeout = settings.upstream_timeout
        self._connect_timeout = settings.upstream_connect_timeout
        self._chunk_timeout = settings.upstream_chunk_timeout
        self._retries = max(0, settings.upstream_retries)
        self._retry_delay = settings.upstream_retry_delay
        self.keys = KeyPool(settings.upstream_keys, settings.key_pool_strategy, settings.key_cooldown_seconds,
                            settings.redis_url, key_events)
        self.vertex = settings.vertex
        self._sdk_encodes_body = settings.gemini_backend == VERTEX_AI  # see _open
        # Call paths come from clients too (model names, Gemini's API relayed): the last few hundred kept.
        self._templates = functools.lru_cache(maxsize=256)(sdk_calls.template)
        self._labels = settings.vertex_labels  # on generations (set only with Vertex AI: config_backend.py)
        # No retry_options: the SDK makes one attempt per call; _with_retries decides on more. Vertex AI's
        # accounts share one connection pool (one host).
        http_options = types.HttpOptions(
            base_url=settings.upstream_base_url,
            api_version=settings.upstream_api_version,
            timeout=milliseconds(settings.upstream_timeout),
            client_args=client_args(settings.upstream_base_url or GOOGLE_BASE_URL, settings.upstream_max_connections,
                                    settings.upstream_connect_timeout),
        )
        # Vertex AI with a project: an SDK client per account, by its key in the pool.
        self._accounts = {key.key: _sdk_client(settings, http_options, account)
                          for key, account in zip(settings.upstream_keys, settings.vertex_accounts, strict=False)}
        self._client = next(iter(self._accounts.values()), None) or _sdk_client(settings, http_options)

    def generate(self, model: str, contents: list[dict], config: dict, api_key: str | None = None) -> dict:
        resource = _resource(model, self.vertex)
        body = self._answer_of(resource, "generateContent", self._labelled(rest_request(contents, config)), api_key)
        return check_answer(response_from_wire(body))

    def _labelled(self, body: dict) -> dict:
        """A generateContent body with VERTEX_LABELS (Vertex AI only: Gemini's API has no labels)."""
        return labelled(body, self._labels) if self._labels else body

    def predict(self, model: str, body: dict, api_key: str | None = None) -> dict:
        """One `:predict` call (Imagen's images; the SDK's generate_images refuses the Gemini API), its JSON
        answer as Gemini sent it."""
        answer = self._answer_of(_resource(model, self.vertex), "predict", body, api_key)
        return answer if isinstance(answer, dict) else {}

    def _answer_of(self, resource: str, method: str, body: dict, api_key: str | None):
        """The JSON answer of one call that is not streamed, read within the call's deadline."""
        secrets, deadline = self._secrets(api_key), time.monotonic() + self._timeout
        opened, lease = self._open(resource, f"{resource}:{method}", body, api_key, deadline, secrets)
        return self._json_of(opened, lease, deadline, secrets)

    def stream(self, model: str, contents: list[dict], config: dict, api_key: str | None = None) -> Iterator[dict]:
        """Chunks as they arrive. Closing the iterator closes the upstream connection. A stream
        that ends before it is finished raises (answers.py), after its last chunk."""
        secrets, deadline = self._secrets(api_key), time.monotonic() + self._timeout
        resource = _resource(model, self.vertex)
        response, lease = self._open(resource, f"{resource}:streamGenerateContent?alt=sse",
                                     self._labelled(rest_request(contents, config)), api_key, deadline, secrets)
        chunks = sse.events(response.response_stream)  # each event parsed once, as it arrives
        progress = Progress()
        try:
            # The first chunk is part of the wait for the answer to start; after it, the gaps.
            _set_read_timeout(response.response_stream, deadline - time.monotonic())
            with mapped_errors(secrets):
                for chunk in chunks:
                    if isinstance(chunk, dict) and "error" in chunk:  # a failure after the 200: one more event
                        error = chunk["error"] if isinstance(chunk["error"], dict) else {}
                        code = error.get("code") if isinstance(error.get("code"), int) else 500
                        genai_errors.APIError.raise_error(code, chunk, response.response_stream)
                    answer = check_shape(response_from_wire(chunk))
                    if not progress.chunks:
                        _set_read_timeout(response.response_stream, self._chunk_timeout)
                    progress.add(answer)
                    yield answer
            progress.check_finished()
        finally:
            chunks.close()
            response.response_stream.close()
            lease.release()

    def native(self, path: str, body: dict | None, api_key: str | None = None, *, version: str | None = None,
               model: str | None = None, stream: bool = False) -> Any:
        """One call of Gemini's own REST API, relayed: `path` after the version ("models/m:generateContent",
        "models?pageSize=5"), `body` the client's JSON as it came (None: a GET), `version` the client's
        (None: GEMINI_API_VERSION), `model` the call's (a 429 rests a key for it; None: a lookup).
        Gemini's JSON answer as it came, or with `stream` an iterator of its SSE events' JSON, each as it
        arrives (a failure after the start is one last {"error": ...} event, relayed as Gemini sent it).
        On Vertex AI, `models/` is a publisher model's path (the SDK puts the project and location in front of a
        POST) and the version VERTEX_API_VERSION: the bodies are the caller's to fit (translate/vertex_native.py)."""
        if self.vertex:
            path, version = VERTEX_MODELS.removesuffix("models/") + path, None  # publishers/google/models/...
        secrets, deadline = self._secrets(api_key), time.monotonic() + self._timeout
        resource = None if model is None else _resource(model, self.vertex)
        opened, lease = self._open(resource, path, body, api_key, deadline, secrets,
                                   "post" if body is not None else "get", version)
        if stream:
            return self._native_events(opened, lease, deadline, secrets)
        return self._json_of(opened, lease, deadline, secrets)

    def _native_events(self, opened, lease: Lease, deadline: float, secrets: tuple[str, ...]) -> Iterator[dict]:
        chunks = sse.events(opened.response_stream)
        try:
            _set_read_timeout(opened.response_stream, deadline - time.monotonic())
            with mapped_errors(secrets):
                for chunk in chunks:  # the first within the deadline, each next within UPSTREAM_CHUNK_TIMEOUT
                    _set_read_timeout(opened.response_stream, self._chunk_timeout)
                    yield redacted_error(chunk, secrets) if isinstance(chunk, dict) and "error" in chunk else chunk
        finally:
            chunks.close()
            opened.response_stream.close()
            lease.release()

    def _json_of(self, opened, lease: Lease, deadline: float, secrets: tuple[str, ...]):
        response = opened.response_stream
        try:
            _set_read_timeout(response, deadline - time.monotonic())
            with mapped_errors(secrets):
                return orjson.loads(b"".join(sse.received(response)))
        finally:
            response.close()
            lease.release()

    def _open(self, resource: str | None, path: str, body: dict | None, api_key: str | None, deadline: float,
              secrets: tuple[str, ...], http_method: str = "post", version: str | None = None):
        """Sends a call (generateContent, countTokens, or one of Gemini's API relayed) through the SDK's HTTP
        layer (sdk_calls.py) and returns once Gemini's response headers arrived (a failure after that is
        never retried)."""
        encoded = None if body is None or self._sdk_encodes_body else json_bytes(body)

        def attempt(left: float, lease: Lease):
            http = self._client_of(lease)._api_client
            if self._sdk_encodes_body:
                return sdk_calls.send_by_sdk(http, http_method, path, version, body, lease.header, left,
                                             self._connect_timeout)
            made = self._templates(http, http_method, path, version)
            return sdk_calls.send(http, made, encoded, lease.header, left, self._connect_timeout)
        return self._with_retries(attempt, deadline, secrets, api_key, resource)

    def _with_retries(self, attempt: Callable[[float, Lease], T], deadline: float, secrets: tuple[str, ...],
                      api_key: str | None, resource: str | None) -> tuple[T, Lease]:
        """`attempt(seconds left, key)` and the key it succeeded with (the caller releases it),
        tried again by the module's retry rule: once at once on another key when Gemini refused
        the key, UPSTREAM_RETRIES times when `retryable`, only while the deadline leaves time.
        `resource`: the model the call is for (its keys rest for it after a 429), None for none."""
        model = None if resource is None else _model_of(resource)
        retry, refused = 0, None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise upstream_timeout()
            lease = Lease.passed_through(api_key) if api_key else self.keys.acquire(model, avoid=refused)
            try:
                return attempt(left, lease), lease
            except UPSTREAM_FAILURES as exc:
                lease.release()
                error = api_error_from(exc, secrets)
                if api_key and error.code == "invalid_api_key":  # pass-through: the client's own key, refused
                    raise wrong_client_key() from exc
                if self.keys.failed(lease, error):
                    if refused is None:
                        refused = lease.name
                        log.info("upstream key %s answered %s: trying another key", lease.name, failure_name(exc))
                        continue
                    raise self.keys.exhausted(model) or error from exc
                retry += 1
                wait = retry_wait(retry, self._retry_delay)
                if retry > self._retries or not retryable(exc) or time.monotonic() + wait >= deadline:
                    raise error from exc
                log.info("upstream call failed (%s): retry %d of %d in %.2f s",
                         failure_name(exc), retry, self._retries, wait)
                time.sleep(wait)
            except BaseException:
                lease.release()
                raise

    def _client_of(self, lease: Lease) -> genai.Client:
        """The SDK client of a lease's Vertex AI account, or the one client."""
        return self._accounts.get(lease.key, self._client)

    def _typed(self, call: Callable[[genai.Client, dict], T], resource: str | None, api_key: str | None = None) -> T:
        """A typed SDK call for `resource` (None: no model) under the same deadline and retry rule;
        `call` gets the SDK client and its http_options. These calls are idempotent and send nothing
        to the client before they end."""
        def attempt(left: float, lease: Lease) -> T:
            key = key_option(lease.header)
            return call(self._client_of(lease), {**({"headers": key} if key else {}), "timeout": milliseconds(left)})
        result, lease = self._with_retries(attempt, time.monotonic() + self._timeout, self._secrets(api_key), api_key,
                                           resource)
        lease.release()
        return result

    def _secrets(self, api_key: str | None) -> tuple[str, ...]:
        """The keys of a call, never to be echoed in an error message."""
        return (*self.keys.secrets, api_key) if api_key else self.keys.secrets

    def embed(self, model: str, texts: list[str], config: dict, api_key: str | None = None) -> dict:
        """One batchEmbedContents call: one embedding per text, in order. The SDK splits
        nothing, so the caller keeps `texts` within Gemini's per-call limit."""
        # One Content per text: for some models the SDK merges a list of plain strings into one.
        contents = [{"parts": [{"text": text}]} for text in texts]
        resource = _resource(model, self.vertex)
        return self._typed(lambda client, options: dump(client.models.embed_content(
            model=resource, contents=contents, config={**config, "http_options": options})), resource, api_key)

    def count_tokens(self, model: str, texts: list[str], api_key: str | None = None) -> int:
        contents = [{"role": "user", "parts": [{"text": text}]} for text in texts]
        resource = _resource(model, self.vertex)
        return self._typed(lambda client, options: client.models.count_tokens(
            model=resource, contents=contents, config={"http_options": options}).total_tokens or 0, resource,
            api_key)

    def count_request_tokens(self, model: str, contents: list[dict], config: dict, api_key: str | None = None) -> int:
        """countTokens of a whole generateContent request (system instruction and tools too),
        which the SDK's typed count_tokens refuses for the Gemini API."""
        resource = _resource(model, self.vertex)
        request = rest_request(contents, config)
        # Vertex's countTokens takes these beside contents (and refuses the rest).
        body = ({k: v for k, v in request.items() if k in VERTEX_COUNT_TOKENS_FIELDS} if self.vertex
                else {"generateContentRequest": {"model": resource, **request}})
        answer = self._answer_of(resource, "countTokens", body, api_key)
        tokens = answer.get("totalTokens", 0) if isinstance(answer, dict) else None
        if not isinstance(tokens, int):
            raise upstream_bad_response("totalTokens")
        return tokens

    # Model lookups generate nothing, and Gemini's per-model quotas count generations: they take any
    # key not disabled, whatever its cooldowns (readiness asks get_model: a quota spent on every key
    # must not make every gateway unready at once while other models answer).
    def list_models(self) -> list[dict]:
        return self._typed(lambda client, options: [
            dump(model) for model in client.models.list(config={"page_size": 1000, "http_options": options})],
            None)

    def get_model(self, model: str) -> dict:
        """The model as Gemini names it: `models/x` (on Vertex AI too, where it is publishers/google/models/x)."""
        resource = _resource(model, self.vertex)
        found = self._typed(
            lambda client, options: dump(client.models.get(model=resource, config={"http_options": options})), None)
        if self.vertex and isinstance(found.get("name"), str):
            found["name"] = "models/" + _model_of(found["name"])
        return found

    def close(self) -> None:
        for client in {*self._accounts.values(), self._client}:
            client.close()
        self.keys.close()
