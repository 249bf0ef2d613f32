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
    assert set(statuses.values()) == {401}, statuses
    assert upstream_calls(emulator_process) == before
