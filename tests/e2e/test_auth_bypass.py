"""No path or header trick lets a request without a valid client key reach Gemini: the API routes
x request-target tricks x header tricks, sent raw to real gunicorn (so nothing normalises the
request line first), with the emulator counting every call it receives."""
import base64
import json

import pytest
import requests

from tests.support.processes import start_gunicorn
from tests.support.raw_http import exchange, http_request

pytestmark = pytest.mark.e2e

KEY = "sk-bypass-table-key"
CHAT = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
ROUTES = [
    ("POST", "/v1/chat/completions", CHAT), ("POST", "/chat/completions", CHAT),
    ("POST", "/v1/completions", {"model": "gemini-2.5-flash", "prompt": "hi"}),
    ("POST", "/completions", {"model": "gemini-2.5-flash", "prompt": "hi"}),
    ("POST", "/v1/embeddings", {"input": "hi"}), ("POST", "/embeddings", {"input": "hi"}),
    ("GET", "/v1/models", None), ("GET", "/models", None),
    ("GET", "/v1/models/gemini-2.5-flash", None), ("GET", "/models/gemini-2.5-flash", None),
]
CONTENTS = {"contents": [{"parts": [{"text": "hi"}]}]}
# Gemini's own API (api/gemini.py): Gemini's 403 (no key) or 400 (wrong key), never OpenAI's 401.
GEMINI_ROUTES = [
    *(("POST", f"/{v}/models/gemini-2.5-flash:generateContent", CONTENTS) for v in ("v1", "v1beta", "v1alpha")),
    ("POST", "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", CONTENTS),
    ("POST", "/v1beta/models/gemini-2.5-flash:countTokens", CONTENTS),
    ("POST", "/v1beta/models/gemini-embedding-001:embedContent", {"content": {"parts": [{"text": "hi"}]}}),
    ("POST", "/v1beta/models/gemini-embedding-001:batchEmbedContents",
     {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "hi"}]}}]}),
    ("GET", "/v1beta/models", None), ("GET", "/v1alpha/models/gemini-2.5-flash", None),
]
# Request-target tricks: each maps a route's path to what is sent on the request line.
TARGETS = {
    "as is": lambda p: p,
    "trailing slash": lambda p: p + "/",
    "leading double slash": lambda p: "/" + p,
    "double slashes": lambda p: p.replace("/", "//"),
    "dot segment": lambda p: "/." + p,
    "dot-dot segment": lambda p: "/x/.." + p,
    "encoded dot-dot": lambda p: "/x/%2e%2e" + p,
    "trailing dot": lambda p: p + "/.",
    "encoded slashes": lambda p: p[:1] + p[1:].replace("/", "%2F"),
    "encoded first letter": lambda p: "/%" + format(ord(p[1]), "02x") + p[2:],
    "upper case": lambda p: p.upper(),
    "backslashes": lambda p: p.replace("/", "\\"),
    "empty query": lambda p: p + "?",
    "key in query": lambda p: p + f"?key={KEY}",
    "api_key in query": lambda p: p + f"?api_key={KEY}",
    "fragment": lambda p: p + "#x",
    "matrix parameter": lambda p: p + ";x",
    "encoded NUL": lambda p: p + "%00",
    "encoded space": lambda p: p + "%20",
    "trailing encoded slash": lambda p: p + "%2F",
    "absolute form": lambda p: "http://127.0.0.1" + p,
    "absolute form, other host": lambda p: "http://gemini.internal" + p,
    "suffix": lambda p: p + ".json",
    "dot-dot after": lambda p: p + "/%2e%2e/",
}
# Header tricks, sent with the plain path.
HEADERS = {
    "no header": {},
    "empty bearer": {"Authorization": "Bearer"},
    "blank bearer": {"Authorization": "Bearer    "},
    "wrong bearer": {"Authorization": "Bearer sk-wrong"},
    "key with suffix": {"Authorization": f"Bearer {KEY}x"},
    "key prefix": {"Authorization": f"Bearer {KEY[:-1]}"},
    "basic with the key": {"Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()},
    "key as scheme": {"Authorization": KEY},
    "bearer in another header": {"Proxy-Authorization": f"Bearer {KEY}"},
    "rewrite headers": {"X-Original-URL": "/healthz", "X-Rewrite-URL": "/healthz"},
    "method override": {"X-HTTP-Method-Override": "GET", "X-Method-Override": "GET"},
    "forwarded from loopback": {"X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1", "Forwarded": "for=127.0.0.1"},
    "empty api-key": {"api-key": "", "x-api-key": " "},
    "wrong api-key": {"api-key": "sk-wrong"},
    "empty x-goog-api-key": {"x-goog-api-key": ""},
    "wrong x-goog-api-key": {"x-goog-api-key": "sk-wrong"},
    "x-goog-api-key prefix": {"x-goog-api-key": KEY[:-1]},
}


def raw_status(port: int, method: str, target: str, body: dict | None, headers: dict) -> int:
    """Sends one request with this exact request line; the status gunicorn answered."""
    data = json.dumps(body).encode() if body is not None else b""
    if body is not None:
        headers = {**headers, "Content-Type": "application/json", "Content-Length": str(len(data))}
    raw = http_request(method, target, headers, data, host=f"127.0.0.1:{port}")
    return exchange(f"http://127.0.0.1:{port}", raw, timeout=30)[0]


@pytest.fixture(scope="module")
def locked(emulator_process):
    server = start_gunicorn(GEMINI_BASE_URL=emulator_process, UPSTREAM_RETRIES="0", MODELS_CACHE_SECONDS="0",
                            GATEWAY_API_KEYS=f"{KEY} table")
    yield server
    server.stop()


def upstream_calls(emulator_process) -> int:
    return requests.get(f"{emulator_process}/emulator/stats", timeout=5).json()["requests"]


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("method, path, body", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_answers_with_the_key(locked, method, path, body):
    assert raw_status(port_of(locked), method, path, body, {"Authorization": f"Bearer {KEY}"}) == 200


@pytest.mark.parametrize("trick", TARGETS)
def test_no_request_target_trick_gets_past_the_key_check(locked, emulator_process, trick):
    before = upstream_calls(emulator_process)
    statuses = {path: raw_status(port_of(locked), method, TARGETS[trick](path), body, {})
                for method, path, body in ROUTES}
    assert not [path for path, status in statuses.items() if status < 300 or status >= 500], statuses
    assert upstream_calls(emulator_process) == before


@pytest.mark.parametrize("trick", HEADERS)
def test_no_header_trick_gets_past_the_key_check(locked, emulator_process, trick):
    before = upstream_calls(emulator_process)
    statuses = {path: raw_status(port_of(locked), method, path, body, HEADERS[trick]) for method, path, body in ROUTES}
    # /v1/models answers a Gemini client (x-goog-api-key) in Gemini's words: 403 no key, 400 a wrong one.
    gemini = "x-goog-api-key" in HEADERS[trick]
    assert [status in ({400, 403} if gemini and path.startswith("/v1/models") else {401})
            for path, status in statuses.items()] == [True] * len(statuses), statuses
    assert upstream_calls(emulator_process) == before


@pytest.mark.parametrize("method, path, body", GEMINI_ROUTES, ids=[f"{m} {p}" for m, p, _ in GEMINI_ROUTES])
@pytest.mark.parametrize("form", ["bearer", "x-goog-api-key", "query"])
def test_every_gemini_route_answers_with_the_key_in_each_form(locked, method, path, body, form):
    headers = {"Authorization": f"Bearer {KEY}"} if form == "bearer" else (
        {"x-goog-api-key": KEY} if form == "x-goog-api-key" else {})
    target = path + ("&" if "?" in path else "?") + f"key={KEY}" if form == "query" else path
    assert raw_status(port_of(locked), method, target, body, headers) == 200


@pytest.mark.parametrize("trick", [trick for trick in TARGETS if trick != "key in query"])  # Google's own form
def test_no_request_target_trick_gets_past_the_key_check_of_gemini_s_routes(locked, emulator_process, trick):
    before = upstream_calls(emulator_process)
    statuses = {path: raw_status(port_of(locked), method, TARGETS[trick](path), body, {})
                for method, path, body in GEMINI_ROUTES}
    assert not [path for path, status in statuses.items() if status < 300 or status >= 500], statuses
    assert upstream_calls(emulator_process) == before


@pytest.mark.parametrize("trick", HEADERS)
def test_no_header_trick_gets_past_the_key_check_of_gemini_s_routes(locked, emulator_process, trick):
    before = upstream_calls(emulator_process)
    statuses = {path: raw_status(port_of(locked), method, path, body, HEADERS[trick])
                for method, path, body in GEMINI_ROUTES}
    assert set(statuses.values()) <= {400, 403}, statuses
    assert upstream_calls(emulator_process) == before
