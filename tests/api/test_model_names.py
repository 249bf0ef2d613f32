"""A client's model name never steers the upstream URL: only Gemini model ids and configured
aliases reach a URL; anything else is refused before any request leaves the gateway."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gemini_proxy.app import create_app
from gemini_proxy.config import Settings, SettingsError
from gemini_proxy.errors import invalid_model
from gemini_proxy.translate.models import gemini_model_id
from tests.support import assert_openai

# Names an attacker with a valid gateway key might send, each once a working path trick.
HOSTILE = [
    "../cachedContents?x=",
    "../../../upload/v1beta/files?",
    "gemini-2.5-flash?alt=sse&key=EVIL&",
    "a#frag",
    "..",
    "models/../files",
    "gemini-2.5-flash/../../files",
    "gemini%2F..",
    "tunedModels/",
    "-leading-dash",
    "gemini-2.5-flash\n",
    "gemini\x00flash",
    "g" * 65536,
    "gémini",
    " gemini-2.5-flash",
    "X0H0..",  # found by fuzzing: it passed this gateway's rule, and google-genai refused it (a 502)
]


class Recorder(BaseHTTPRequestHandler):
    """Stands where Gemini would: records every request line it receives, answers 404."""

    def do_ANY(self):
        self.server.seen.append(f"{self.command} {self.path}")
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}}).encode()
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_ANY

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def gateway(recorder):
    settings = Settings(gemini_base_url=f"http://127.0.0.1:{recorder.server_port}", upstream_retries=0,
                        signature_db="", models_cache_seconds=0)
    return create_app(settings).test_client()


def refused_by_name(response, status=400, code="invalid_model"):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert_openai("ErrorResponse", body)
    assert (body["error"]["param"], body["error"]["code"]) == ("model", code)
    return body["error"]["message"]


@pytest.mark.parametrize("model", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize("route, body", [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "stream": True}),
    ("/v1/completions", {"prompt": "hi"}),
    ("/v1/embeddings", {"input": "hi"}),
], ids=["chat", "chat-stream", "completions", "embeddings"])
def test_hostile_model_is_400_and_nothing_goes_upstream(gateway, recorder, route, body, model):
    recorder.seen.clear()
    # json.dumps escapes what is not UTF-8 (a lone surrogate) as a client's JSON would.
    message = refused_by_name(gateway.post(route, data=json.dumps({**body, "model": model}),
                                           content_type="application/json"))
    assert message == invalid_model().message  # the name is never echoed back
    assert recorder.seen == []


@pytest.mark.parametrize("route", ["/v1/chat/completions", "/v1/completions", "/v1/embeddings"])
def test_a_lone_surrogate_in_the_model_is_refused_by_the_json_parser_naming_model(gateway, recorder, route):
    # Refused for any field before the body is validated (tests/api/test_input_hardening.py).
    recorder.seen.clear()
    response = gateway.post(route, data='{"model": "gemini-\\ud800", "prompt": "hi", "input": "hi"}',
                            content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "model"
    assert "gemini-" not in response.get_json()["error"]["message"]
    assert recorder.seen == []


@pytest.mark.parametrize("path", ["..%2Ffiles", "..%2F..%2Fupload%2Fv1beta%2Ffiles", "a%23frag", "x%3Fkey%3DEVIL",
                                  "models/..%2F..%2Ffiles", "..", "%00", "tunedModels/"])
def test_hostile_model_id_on_the_models_route_is_404(gateway, recorder, path):
    recorder.seen.clear()
    refused_by_name(gateway.get(f"/v1/models/{path}"), 404, "model_not_found")
    # The list may be asked for (it is not built from the name); no other path is.
    assert [line for line in recorder.seen if line != "GET /v1beta/models?pageSize=1000"] == []


@pytest.mark.parametrize("model, path", [
    ("gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
    ("models/gemini-2.5-pro", "/v1beta/models/gemini-2.5-pro:generateContent"),
    ("tunedModels/my-model_1.2", "/v1beta/tunedModels/my-model_1.2:generateContent"),
    ("gpt-4o-mini", "/v1beta/models/gemini-2.5-flash:generateContent"),
])
def test_model_ids_and_aliases_reach_their_own_path(gateway, recorder, model, path):
    recorder.seen.clear()
    gateway.post("/v1/chat/completions", json={"model": model, "messages": [{"role": "user", "content": "hi"}]})
    assert recorder.seen == [f"POST {path}"]


def test_an_alias_may_be_any_name_its_target_may_not(recorder):
    settings = Settings(gemini_base_url=f"http://127.0.0.1:{recorder.server_port}", upstream_retries=0,
                        signature_db="", model_aliases={"team/fast model": "gemini-2.5-flash"})
    recorder.seen.clear()
    create_app(settings).test_client().post(
        "/v1/chat/completions", json={"model": "team/fast model", "messages": [{"role": "user", "content": "hi"}]})
    assert recorder.seen == ["POST /v1beta/models/gemini-2.5-flash:generateContent"]
    with pytest.raises(SettingsError, match="MODEL_ALIASES"):
        Settings(model_aliases={"x": "../files"})
    with pytest.raises(SettingsError, match="DEFAULT_MODEL"):
        Settings(default_model="a#b")


@pytest.mark.parametrize("name, expected", [
    ("gemini-2.5-flash", "gemini-2.5-flash"), ("models/gemini-2.5-flash", "gemini-2.5-flash"),
    ("tunedModels/abc", "tunedModels/abc"), ("gemini-embedding-001", "gemini-embedding-001"),
    ("a" * 128, "a" * 128), ("a" * 129, None), ("models/models/x", None), ("", None),
    ("x:generateContent", None), ("x/y", None), ("x\u0660", None), ("a..b", None), ("X0H0..", None),
    ("gemini-2.5-flash.", "gemini-2.5-flash."),
])
def test_gemini_model_id(name, expected):
    assert gemini_model_id(name) == expected
