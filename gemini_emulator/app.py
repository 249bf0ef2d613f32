"""The WSGI app: routing, auth, views and the one error renderer.

Routes (any path prefix before the version is tolerated, like the SDK's base_url prefixes):
    GET  /{v1|v1beta|v1alpha|v1beta1}/models[?pageSize=&pageToken=]
    GET  /{ver}/models/{id}
    POST /{ver}/models/{id}:{generateContent|streamGenerateContent|countTokens|
                             embedContent|batchEmbedContents|predict (Imagen: images.py)}
  Vertex AI (vertex.py; an OAuth bearer token from /token, or in express mode an API key):
    POST /{ver}/projects/{p}/locations/{l}/publishers/google/models/{id}:{the methods above|predict}
    POST /{ver}/publishers/google/models/{id}:{...}   express mode (x-goog-api-key or ?key=)
    GET  /{ver}/publishers/google/models[/{id}]       publisher models (bearer token or API key)
    POST /token                    OAuth2 JWT-bearer grant for a registered service account (oauth.py)
    GET  /emulator/stats           counters (see state.COUNTERS), including the thought
                                   signatures issued, verified and dummies received; its
                                   X-Emulator-Pid header names the serving process
    GET  /emulator/requests?last=N[&method=all|m1,m2]
                                   JSON list of the last N received requests, newest last:
                                   {model, method, version, body, headers}; generateContent and
                                   streamGenerateContent only unless `method` says otherwise
    POST /emulator/reset           zero the counters and forget the recorded requests
    POST /emulator/service-accounts  register a service-account JSON (its public key) for /token
    GET|POST /emulator/oauth       tokens issued, lifetime, accounts; POST {"token_lifetime": N}
Paths are matched by hand (one catch-all) and split on the last ':' of the last segment.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from gemini_emulator import errors, streaming, vertex
from gemini_emulator.access import Access, request_key
from gemini_emulator.catalog import Model, find_model, list_page
from gemini_emulator.config import EmulatorConfig
from gemini_emulator.directives import HTTP_FAULTS, Directives, extract
from gemini_emulator.embeddings import batch_embed, embed_request
from gemini_emulator.errors import EmulatorError, invalid_argument
from gemini_emulator.generation import plan_answer, prompt_usage
from gemini_emulator.grounding import check_search
from gemini_emulator.images import drawing_for, image_answer, predict_images, prompt_directives, serves_predict
from gemini_emulator.oauth import TokenIssuer
from gemini_emulator.responses import StreamEvent, full_response, stream_events, unfinished
from gemini_emulator.signatures import check_signatures
from gemini_emulator.speech import plan_speech, speech_response
from gemini_emulator.state import RequestLog, Stats
from gemini_emulator.streaming import DroppedConnection, Pace, StreamFault, client_leaves, paced_stream, sleep
from gemini_emulator.thinking import check_thinking
from gemini_emulator.validation import parse_count_tokens, parse_generate
from gemini_emulator.wire import normalize_keys, to_json

log = logging.getLogger(__name__)

# On /emulator/stats: the serving process, so whoever started one can tell it from another on its port.
PID_HEADER = "X-Emulator-Pid"

_API_PATH = re.compile(
    r"^/(?:.*/)?(?P<version>v1|v1beta|v1alpha|v1beta1)/"
    r"(?:projects/(?P<project>[^/]+)/locations/(?P<location>[^/]+)/)?(?P<publisher>publishers/google/)?"
    r"models(?:/(?P<rest>[^/]+))?/?$")
_JSON = "application/json; charset=UTF-8"
_GENERATE_METHODS = frozenset({"generateContent", "streamGenerateContent"})
_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization", "cookie"})
_FAULT_COUNTS_LIMIT = 10_000  # request bodies remembered for times=N (then forgotten all at once)
_NOT_JSON = b"<html><body>this is not JSON</body></html>"
_WRONG_SHAPE = {"candidates": [{"content": "not a Content object", "finishReason": "STOP", "index": 0}]}


@dataclass(frozen=True)
class Route:
    version: str
    model_id: str | None = None
    method: str | None = None
    vertex: bool = False  # a publishers/google/models path (Vertex AI)
    project: str | None = None  # with location: a Vertex project path (else express mode or the model list)
    location: str | None = None


def parse_route(path: str) -> Route | None:
    match = _API_PATH.match(path)
    if match is None or (match.group("project") is not None and match.group("publisher") is None):
        return None
    where = {"vertex": match.group("publisher") is not None, "project": match.group("project"),
             "location": match.group("location")}
    rest = match.group("rest")
    if rest is None:
        return Route(match.group("version"), **where)
    model_id, colon, method = rest.rpartition(":")
    if not colon:
        return Route(match.group("version"), rest, **where)
    return Route(match.group("version"), model_id, method, **where)


def json_response(body: Any, status: int = 200) -> Response:
    return Response(to_json(body), status=status, content_type=_JSON)


def error_response(error: EmulatorError) -> Response:
    return json_response(error.body(), error.code)


def _new_response_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters, like the real responseId


class EmulatorApp:
    """One emulator instance: a WSGI callable with its own counters and request log."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.stats = Stats()
        self.request_log = RequestLog()
        self.access = Access(config.api_keys, TokenIssuer(config.token_lifetime), self.stats)
        for info in config.service_accounts:
            self.access.tokens.register(info)
        self._fault_counts: dict[str, int] = {}  # times=N: how often a request body met its fault
        self._fault_lock = threading.Lock()
        # method -> (what the model must support, view); countTokens works on every model.
        self._methods: dict[str, tuple[str, Callable[..., Response]]] = {
            "generateContent": ("generateContent", self._generate),
            "streamGenerateContent": ("generateContent", self._generate),
            "countTokens": ("countTokens", self._count_tokens),
            "embedContent": ("embedContent", self._embed),
            "batchEmbedContents": ("embedContent", self._batch_embed),
            "predict": ("predict", self._predict),
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self._dispatch(request)
        except EmulatorError as error:
            response = error_response(error)
        except DroppedConnection:
            raise
        except Exception:  # the one place an unexpected bug becomes a Gemini-shaped 500
            log.exception("emulator bug while answering %s %s", request.method, request.path)
            response = error_response(EmulatorError(500, errors.MESSAGE_BY_CODE[500]))
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        if request.path.startswith("/emulator/"):
            return self._control(request)
        if request.path == "/token":
            return self.access.token(request)
        route = parse_route(request.path)
        if route is None:
            raise EmulatorError(404, f"Path not found: {request.path}")
        self.stats.add("requests")
        self.access.authenticate(request, route.vertex, route.project is not None, route.method is None)
        if route.method is None:
            if request.method != "GET":
                raise EmulatorError(404, f"Method {request.method} not found for {request.path}")
            return self._list_models(request, route) if route.model_id is None else self._get_model(route)
        return self._call_method(request, route)

    def _list_models(self, request: Request, route: Route) -> Response:
        pages = vertex.list_publisher_models if route.vertex else list_page
        try:
            size = int(request.args.get("pageSize", "0"))
            return json_response(pages(size, request.args.get("pageToken") or None))
        except ValueError:
            raise invalid_argument("Invalid pageSize or pageToken") from None

    def _get_model(self, route: Route) -> Response:
        model = find_model(route.model_id or "")
        if model is None:
            if route.vertex:
                raise vertex.publisher_model_not_found(route.project, route.location, route.model_id or "")
            raise errors.model_not_found(route.model_id or "", route.version, "get")
        return json_response(vertex.publisher_model(model) if route.vertex else model.resource())

    def _call_method(self, request: Request, route: Route) -> Response:
        method = route.method or ""
        if method not in self._methods:
            raise EmulatorError(404, f"Method not found: {method}")
        if request.method != "POST":
            raise EmulatorError(404, f"Method {request.method} not found for {request.path}")
        capability, view = self._methods[method]
        model = find_model(route.model_id or "")
        supported = model is not None and (
            serves_predict(model, route.vertex) if method == "predict" else capability in model.methods)
        if model is None or not supported:
            if route.vertex:
                raise vertex.publisher_model_not_found(route.project, route.location, route.model_id or "")
            raise errors.model_not_found(route.model_id or "", route.version, method)
        body = self._read_json(request)
        self.request_log.record({
            "model": model.id,
            "method": method,
            "version": route.version,
            "project": route.project,
            "location": route.location,
            "body": body,
            "headers": {k.lower(): v for k, v in request.headers.items()
                        if k.lower() not in _SECRET_HEADERS},
        })
        return view(body=body, model=model, route=route, http_request=request)

    @staticmethod
    def _read_json(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(request.get_data(cache=False) or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise invalid_argument("Invalid JSON payload received. Unexpected token.") from None
        if not isinstance(body, dict):
            raise invalid_argument("Invalid JSON payload received. Expected an object.")
        return normalize_keys(body)

    def _generate(self, body: dict[str, Any], model: Model, route: Route, http_request: Request) -> Response:
        request = parse_generate(body, route.vertex)
        directives, contents = extract(request.contents)
        # Model-specific refusals come before any fault directive, like other validation.
        check_thinking(model, request.thinking)
        check_search(model.id, request.tools.search, len(request.tools.declarations), request.tools.server_side)
        speech = plan_speech(model, request, contents)  # None unless a TTS model answers
        drawing = drawing_for(model, request)  # None unless an image model draws
        signatures = check_signatures(model.id, contents)
        self.stats.add("signatures_verified", signatures.verified)
        self.stats.add("signatures_dummy", signatures.dummy)
        stream = route.method == "streamGenerateContent"
        sleep(directives.delay)
        if not directives.applies(request_key(http_request), model.id, route.project) or (
                directives.times is not None and not self._fault_hits(directives.times, model, route, body)):
            directives = directives.spent()
        hang = client_leaves(http_request.environ.get("werkzeug.socket"))
        broken = self._broken_answer(directives, stream, request_key(http_request), hang)
        if broken is not None:
            return broken
        self._raise_fault(directives, model, route, stream)
        if drawing is not None:  # images.py: one answer, streamed as one event
            answer = image_answer(model, drawing, contents, directives,
                                  prompt_usage(contents, request.system_instruction), _new_response_id())
            return (Response([streaming.sse_event(answer)], content_type="text/event-stream") if stream
                    else json_response(answer))
        pace = Pace(
            self.config.ttft if directives.ttft is None else directives.ttft,
            self.config.tokens_per_second if directives.tps is None else directives.tps,
        )
        if speech is not None:
            fault = self._stream_fault(directives, model, route, hang) if stream else None
            return speech_response(speech, stream, fault, pace, self.stats, _new_response_id())
        plan = plan_answer(model, request, directives, contents, _new_response_id(),
                           self.config.chunk_tokens)
        self.stats.add("signatures_issued", plan.signatures)
        if stream:
            events = stream_events(plan, self.config.chunk_tokens)
            if directives.fault == "unfinished":
                events = (StreamEvent(unfinished(event.body), event.tokens) for event in events)
            fault = self._stream_fault(directives, model, route, hang)
            return Response(paced_stream(events, pace, fault, self.stats, directives.stamp),
                            content_type="text/event-stream")
        sleep(pace.total(plan.candidate_tokens))
        self.stats.add("tokens_generated", plan.candidate_tokens)
        answer = full_response(plan)
        return json_response(unfinished(answer) if directives.fault == "unfinished" else answer)

    def _fault_hits(self, times: int, model: Model, route: Route, body: dict[str, Any]) -> bool:
        """Whether this request still meets its fault (times=N: the first N identical ones do)."""
        key = hashlib.sha256(json.dumps([model.id, route.method, body], sort_keys=True).encode()).hexdigest()
        with self._fault_lock:
            if len(self._fault_counts) >= _FAULT_COUNTS_LIMIT:
                self._fault_counts.clear()
            seen = self._fault_counts[key] = self._fault_counts.get(key, 0) + 1
        return seen <= times

    @staticmethod
    def _broken_answer(directives: Directives, stream: bool, key: str,
                       hang: Callable[[], None]) -> Response | None:
        """The faults of a broken upstream that replace the whole answer."""
        fault = directives.fault
        if fault == "html":
            return Response(errors.HTML_ERROR_PAGE, status=502, content_type="text/html; charset=UTF-8")
        if fault == "huge":
            raise errors.huge(directives.code or 400)
        if fault == "echokey":
            raise errors.key_echo(directives.code or 400, key)
        if fault == "close":
            raise DroppedConnection("emulator fault=close")
        if stream:
            return Response(b"", content_type="text/event-stream") if fault == "empty" else None
        if fault == "hang":
            hang()
            raise DroppedConnection("emulator fault=hang")
        if fault == "empty":
            return json_response({})
        if fault == "notjson":
            return Response(_NOT_JSON, content_type=_JSON)
        if fault == "wrongshape":
            return json_response(_WRONG_SHAPE)
        return None

    @staticmethod
    def _raise_fault(directives: Directives, model: Model, route: Route, stream: bool) -> None:
        """Faults that replace the whole answer (before any byte of a stream)."""
        fault = directives.fault
        if fault == "badkey":
            raise errors.api_key_invalid()
        if fault in HTTP_FAULTS:
            raise vertex.error_for(route, int(fault), model.id, route.version, route.method or "",
                                  directives.retry)
        if fault == "drop" and not stream:
            raise DroppedConnection("emulator fault=drop")
        if fault == "midstream" and not stream:
            raise vertex.error_for(route, directives.code or 500, model.id, route.version, route.method or "",
                                  directives.retry)

    @staticmethod
    def _stream_fault(directives: Directives, model: Model, route: Route,
                      hang: Callable[[], None]) -> StreamFault | None:
        fault, after = directives.fault, directives.after
        if fault == "drop":
            return StreamFault(1 if after is None else after)
        if fault == "midstream":
            error = vertex.error_for(route, directives.code or 500, model.id, route.version, route.method or "",
                                    directives.retry)
            return StreamFault(1 if after is None else after, error)
        if fault == "hang":
            return StreamFault(after or 0, hang=hang)
        if fault == "notjson":
            return StreamFault(after or 0, raw=b"data: " + _NOT_JSON + b"\n\n")
        if fault == "wrongshape":
            return StreamFault(after or 0, raw=b"data: " + json.dumps(_WRONG_SHAPE).encode() + b"\n\n")
        if fault == "unfinished" and after is not None:
            return StreamFault(after, end=True)
        return None

    def _count_tokens(self, body: dict[str, Any], model: Model, route: Route, http_request: Request) -> Response:
        if route.vertex and "generateContentRequest" not in body:
            # Vertex's countTokens takes systemInstruction, tools and generationConfig beside contents.
            parsed = parse_generate(body)
            contents, system = parsed.contents, parsed.system_instruction
        else:
            contents, system = parse_count_tokens(body)
        _, contents = extract(contents)  # directives are not part of the prompt
        total, details = prompt_usage(contents, system)
        return json_response({
            "totalTokens": total,
            "promptTokensDetails": [{"modality": m, "tokenCount": n} for m, n in details],
        })

    def _embed(self, body: dict[str, Any], model: Model, route: Route, http_request: Request) -> Response:
        if route.vertex:
            return json_response(vertex.embed_content(body, model))
        return json_response({"embedding": embed_request(body, model, "EmbedContentRequest")})

    def _batch_embed(self, body: dict[str, Any], model: Model, route: Route, http_request: Request) -> Response:
        if route.vertex:
            return json_response(vertex.batch_embed(body, model, self.config.max_batch))
        return json_response(batch_embed(body, model, self.config.max_batch))

    def _predict(self, body: dict[str, Any], model: Model, route: Route, http_request: Request) -> Response:
        if model.imagen:  # the HTTP fault directives of its prompt apply, as on generateContent
            directives = prompt_directives(body)
            if directives.times is None or self._fault_hits(directives.times, model, route, body):
                self._raise_fault(directives, model, route, False)
            return json_response(predict_images(body, model, route.vertex))
        return json_response(vertex.predict_embeddings(body, model, self.config.max_batch))

    def _control(self, request: Request) -> Response:
        name = request.path.removeprefix("/emulator/").strip("/")
        if name == "stats" and request.method == "GET":
            response = json_response(self.stats.snapshot())
            response.headers[PID_HEADER] = str(os.getpid())
            return response
        if name == "requests" and request.method == "GET":
            return json_response(self._recorded(request))
        if name == "reset" and request.method == "POST":
            self.stats.reset()
            self.request_log.clear()
            return json_response(self.stats.snapshot())
        answer = self.access.control(name, request)
        if answer is not None:
            return json_response(answer)
        raise EmulatorError(404, f"Path not found: {request.path}")

    def _recorded(self, request: Request) -> list[dict[str, Any]]:
        try:
            count = int(request.args.get("last", "1"))
        except ValueError:
            raise invalid_argument("last must be an integer") from None
        wanted = request.args.get("method", "")
        methods = None if wanted == "all" else (
            frozenset(wanted.split(",")) if wanted else _GENERATE_METHODS
        )
        return self.request_log.last(count, methods)


def create_emulator_app(config: EmulatorConfig | None = None) -> EmulatorApp:
    """A fresh emulator WSGI app with its own counters and request log."""
    return EmulatorApp(config or EmulatorConfig())
