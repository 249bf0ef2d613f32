"""Every failure is OpenAI's error envelope with the right status, streaming or not."""
import json

import pytest

from gemini_proxy.app import create_app
from tests.support import assert_openai, gateway_settings, sse_events


def ask(text="hi", **fields):
    return {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": text}], **fields}


def error_of(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert_openai("ErrorResponse", body)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


# Each emulator fault, streamed and not: tests/api/test_fault_matrix.py, from docs/faults.md.


def test_unknown_model_is_model_not_found(client):
    for stream in (False, True):
        error = error_of(client.post("/v1/chat/completions", json=ask(model="no-such-model", stream=stream)), 404)
        assert (error["code"], error["param"]) == ("model_not_found", "model")


def test_gemini_key_is_never_echoed(emulator):
    secret = "AIza-very-secret-key"
    app = create_app(gateway_settings(emulator, gemini_api_key=secret))
    response = app.test_client().post("/v1/chat/completions", json=ask("[emulator fault=badkey]"))
    assert response.status_code == 401
    assert secret not in response.get_data(as_text=True)


# The error event's type and code, as docs/faults.md's streamed rows give them.
@pytest.mark.parametrize("fault, error_type, code", [
    ("midstream", "server_error", "internal_error"),
    ("midstream code=503", "service_unavailable_error", "overloaded"),
    ("drop", "api_connection_error", "upstream_unreachable"),
])
def test_failure_after_the_stream_began_is_an_error_event_then_done(client, fault, error_type, code):
    response = client.post("/v1/chat/completions", json=ask(f"[emulator fault={fault} after=2 tokens=40]", stream=True))
    assert response.status_code == 200
    events = sse_events(response.get_data())
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])
    assert_openai("ErrorResponse", error)
    assert error["error"]["type"] == error_type
    assert error["error"]["code"] == code
    chunks = [json.loads(e) for e in events[:-2]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert any(c["choices"][0]["delta"].get("content") for c in chunks)


def test_unreachable_upstream_is_502():
    from gemini_proxy.config import Settings
    app = create_app(Settings(gemini_base_url="http://127.0.0.1:9", upstream_retries=0))
    error = error_of(app.test_client().post("/v1/chat/completions", json=ask()), 502)
    assert error["type"] == "api_connection_error"


def test_invalid_json_is_400(client):
    error = error_of(client.post("/v1/chat/completions", data="{not json", content_type="application/json"), 400)
    assert "JSON" in error["message"]


def test_validation_error_names_param(client):
    body = ask()
    body["messages"].append({"role": "user", "content": 42})
    error = error_of(client.post("/v1/chat/completions", json=body), 400)
    assert error["param"] == "messages[1].content"


def test_unsupported_feature_is_refused_by_name(client):
    error = error_of(client.post("/v1/chat/completions", json=ask(logit_bias={"50256": -100})), 400)
    assert error["param"] == "logit_bias"


def test_unknown_route_and_wrong_method(client):
    assert error_of(client.post("/v1/nothing-here", json={}), 404)["message"] == "Invalid URL (POST /v1/nothing-here)."
    error_of(client.get("/v1/chat/completions"), 405)


def test_body_too_large_is_413(emulator):
    app = create_app(gateway_settings(emulator, max_body_bytes=1000))
    error = error_of(app.test_client().post("/v1/chat/completions", json=ask("x" * 2000)), 413)
    assert "1000" in error["message"]


def test_unexpected_exception_is_500_without_internals(emulator):
    app = create_app(gateway_settings(emulator))

    def explode():
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", view_func=explode)
    response = app.test_client().get("/explode")
    error = error_of(response, 500)
    assert error["type"] == "server_error"
    assert "secret" not in response.get_data(as_text=True)
