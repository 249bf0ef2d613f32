"""Gemini's own API through the gateway (api/gemini.py), through the Flask test client against
the real emulator: bodies relayed as they came, streams relayed event by event, client keys in
Google's forms, rate limits and the request log, and every error in Gemini's envelope."""
from __future__ import annotations

import json
import logging

import pytest
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from gemini_proxy.upstream.errors import upstream_api_error
from tests.support import gateway_settings

CLIENT_KEY = "client-key-0123456789"
UPSTREAM_KEY = "upstream-key-9876543210"
HI = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
GOOG = {"x-goog-api-key": CLIENT_KEY}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"


@pytest.fixture
def keyed(client_with):
    return client_with(gateway_api_keys=f"{CLIENT_KEY} team")


@pytest.fixture(scope="module")
def strict_emulator():
    """An emulator that takes only UPSTREAM_KEY, or only CLIENT_KEY: which key reached Gemini shows."""
    with EmulatorServer(EmulatorConfig(api_keys=(UPSTREAM_KEY, "passed-" + CLIENT_KEY)), host="127.0.0.1",
                        port=0) as server:
        yield server


def gemini_error(response, code: int, status: str) -> dict:
    assert response.status_code == code, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert (error["code"], error["status"]) == (code, status)
    assert isinstance(error["message"], str)
    assert error["message"]
    assert set(error) <= {"code", "message", "status", "details"}
    return error


def sse_data(response) -> list[dict]:
    """Gemini's SSE framing: only `data: <json>` events and blank lines (the SDKs refuse anything else)."""
    text = response.get_data(as_text=True)
    assert text.endswith("\n\n")
    blocks = text[:-2].split("\n\n")
    assert all(block.startswith("data: ") and "\n" not in block for block in blocks), blocks
    return [json.loads(block[len("data: "):]) for block in blocks]


@pytest.mark.parametrize("version", ["v1", "v1beta", "v1alpha"])
def test_generate_content_relays_the_body_as_it_came_and_gemini_s_answer_as_it_was_sent(client, emulator_requests,
                                                                                       version):
    body = {**HI, "generationConfig": {"thinkingConfig": {"include_thoughts": False}, "maxOutputTokens": 200}}
    response = client.post(f"/{version}/models/gemini-2.5-flash:generateContent", json=body)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"]
    assert answer["modelVersion"] == "gemini-2.5-flash"  # as Gemini sent it
    assert answer["usageMetadata"]["totalTokenCount"] > 0
    (seen,) = emulator_requests()
    assert (seen["model"], seen["version"], seen["method"]) == ("gemini-2.5-flash", version, "generateContent")
    assert seen["body"]["generationConfig"]["maxOutputTokens"] == 200
    assert seen["body"]["contents"] == body["contents"]


def test_stream_relays_gemini_s_events_in_gemini_s_framing(client, emulator_requests):
    response = client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                           json={"contents": [{"role": "user", "parts": [{"text": "[emulator tokens=30] go"}]}]})
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = sse_data(response)
    assert len(events) > 2
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert "".join(p["text"] for e in events for p in e["candidates"][0]["content"].get("parts", []))
    assert emulator_requests()[0]["method"] == "streamGenerateContent"


def test_a_stream_that_fails_to_start_is_a_real_http_error_in_gemini_s_envelope(client):
    response = client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                           json={"contents": [{"role": "user", "parts": [{"text": "[emulator fault=503] go"}]}]})
    error = gemini_error(response, 503, "UNAVAILABLE")
    assert error["message"] == "The model is overloaded. Please try again later."


def test_upstream_errors_are_relayed_as_gemini_sent_them(client):
    error = gemini_error(client.post(GENERATE, json={"contents": []}), 400, "INVALID_ARGUMENT")
    assert error["details"][0]["@type"].endswith("BadRequest")


def test_count_tokens_embed_content_and_batch_embed_contents(client, emulator_requests):
    counted = client.post("/v1beta/models/gemini-2.5-flash:countTokens",
                          json={"contents": [{"parts": [{"text": "a b"}]}]})
    assert counted.status_code == 200
    assert counted.get_json()["totalTokens"] > 0
    embedded = client.post("/v1beta/models/gemini-embedding-001:embedContent",
                           json={"content": {"parts": [{"text": "a"}]}, "outputDimensionality": 8})
    assert embedded.status_code == 200
    assert len(embedded.get_json()["embedding"]["values"]) == 8
    batch = {"requests": [{"model": "models/gemini-embedding-001", "content": {"parts": [{"text": t}]}}
                          for t in ("a", "b")]}
    batched = client.post("/v1/models/gemini-embedding-001:batchEmbedContents", json=batch)
    assert batched.status_code == 200
    assert len(batched.get_json()["embeddings"]) == 2


def test_model_list_and_get_in_gemini_s_shape(client):
    listed = client.get("/v1beta/models?pageSize=2")
    assert listed.status_code == 200
    page = listed.get_json()
    assert len(page["models"]) == 2
    assert page["nextPageToken"]
    second = client.get(f"/v1beta/models?pageSize=2&pageToken={page['nextPageToken']}").get_json()
    assert second["models"][0]["name"] != page["models"][0]["name"]
    got = client.get("/v1alpha/models/gemini-2.5-flash")
    assert got.status_code == 200
    assert got.get_json()["name"] == "models/gemini-2.5-flash"


def test_v1_models_answers_gemini_clients_in_gemini_s_shape_and_openai_clients_in_openai_s(client):
    assert "models" in client.get("/v1/models", headers={"x-goog-api-client": "google-genai-sdk/3"}).get_json()
    assert client.get("/v1/models", headers={"x-goog-api-key": "k"}).get_json()["models"]
    assert client.get("/v1/models").get_json()["object"] == "list"
    assert client.get("/v1/models/gemini-2.5-flash?key=k").get_json()["name"] == "models/gemini-2.5-flash"
    assert client.get("/v1/models/gemini-2.5-flash").get_json()["object"] == "model"


def test_aliases_are_resolved_and_unknown_valid_ids_pass_through(client_with, emulator, emulator_requests):
    client = client_with(model_aliases={"fast": "gemini-2.5-flash"},
                         embedding_model_aliases={"embed": "gemini-embedding-001"})
    assert client.post("/v1beta/models/fast:generateContent", json=HI).status_code == 200
    assert emulator_requests()[0]["model"] == "gemini-2.5-flash"
    batch = {"requests": [{"model": "models/embed", "content": {"parts": [{"text": "a"}]}}]}
    assert client.post("/v1beta/models/embed:batchEmbedContents", json=batch).status_code == 200
    (seen,) = requests.get(f"{emulator.url}/emulator/requests", params={"last": 1, "method": "batchEmbedContents"},
                           timeout=5).json()
    assert seen["model"] == "gemini-embedding-001"
    assert seen["body"]["requests"][0]["model"] == "models/gemini-embedding-001"  # the inner name too
    unknown = client.post("/v1beta/models/gemini-9001-super-duper:generateContent", json=HI)
    assert "gemini-9001-super-duper" in gemini_error(unknown, 404, "NOT_FOUND")["message"]  # Gemini's word, not ours


@pytest.mark.parametrize("path", ["/v1beta/models/..%2Ffiles:generateContent", "/v1beta/models/a%3Fb:countTokens"])
def test_a_model_that_is_no_gemini_id_is_refused_before_gemini(client, path):
    response = client.post(path, json=HI)
    assert response.status_code in (400, 404)
    gemini_error(response, response.status_code, "INVALID_ARGUMENT" if response.status_code == 400 else "NOT_FOUND")


@pytest.mark.parametrize("data", ["[1]", '"text"', "{not json", "null"])
def test_a_body_that_is_not_a_json_object_is_gemini_s_400(client, data):
    response = client.post(GENERATE, data=data, content_type="application/json")
    gemini_error(response, 400, "INVALID_ARGUMENT")


def test_the_gateway_s_own_errors_are_in_gemini_s_envelope(client_with):
    client = client_with(max_body_bytes=1000)
    gemini_error(client.post(GENERATE, json={"contents": [{"parts": [{"text": "x" * 2000}]}]}), 413,
                 "INVALID_ARGUMENT")
    gemini_error(client.get("/v1beta/files/abc"), 404, "NOT_FOUND")
    gemini_error(client.get("/v1beta/models/gemini-2.5-flash:generateContent"), 405, "UNIMPLEMENTED")
    # OpenAI's routes keep OpenAI's envelope.
    assert client.get("/v1/nothing").get_json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_a_method_path_of_gemini_s_is_gemini_s_alone_on_v1_as_on_v1beta(client, version):
    """/v1/models/{id} is OpenAI's too, and its ids may hold colons: a path naming a method of
    Gemini's is still Gemini's route only, in Gemini's envelope."""
    method = f"/{version}/models/gemini-2.5-flash:generateContent"
    refused = client.get(method)
    gemini_error(refused, 405, "UNIMPLEMENTED")
    assert refused.headers["Allow"] == "OPTIONS, POST"
    assert set(client.options(method).headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    # A model id with a colon in it is no route of Gemini's: its 404, not a 405 of OpenAI's GET.
    gemini_error(client.post(f"/{version}/models/a:b:streamGenerateContent", json=HI), 404, "NOT_FOUND")


def test_openai_model_ids_with_colons_still_reach_openai_s_retrieve(client):
    missing = client.get("/v1/models/ft:gemini-2.5-flash:org:custom")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "model_not_found"


@pytest.mark.parametrize("headers, query", [
    (GOOG, ""), ({}, f"?key={CLIENT_KEY}"), ({"Authorization": f"Bearer {CLIENT_KEY}"}, ""),
    ({"Authorization": f"Bearer {CLIENT_KEY}", "x-goog-api-key": CLIENT_KEY}, ""),  # gemini-cli's bearer mode
], ids=["x-goog-api-key", "query", "bearer", "both"])
def test_client_keys_in_google_s_forms(keyed, headers, query):
    assert keyed.post(GENERATE + query, json=HI, headers=headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"x-goog-api-key": ""}, {"x-goog-api-key": "  "}],
                         ids=["none", "empty", "blank"])
def test_a_missing_key_is_gemini_s_403(keyed, headers):
    error = gemini_error(keyed.post(GENERATE, json=HI, headers=headers), 403, "PERMISSION_DENIED")
    assert error["message"].startswith("Method doesn't allow unregistered callers")


@pytest.mark.parametrize("path, headers", [
    (GENERATE, {"x-goog-api-key": "wrong-key"}), (f"{GENERATE}?key=wrong-key", {}),
    ("/v1/models", {"x-goog-api-key": "wrong-key"})])
def test_a_wrong_key_is_gemini_s_400_api_key_invalid(keyed, path, headers):
    response = keyed.post(path, json=HI, headers=headers) if "models/" in path else keyed.get(path, headers=headers)
    error = gemini_error(response, 400, "INVALID_ARGUMENT")
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    assert "wrong-key" not in response.get_data(as_text=True)


def test_the_shared_v1_models_takes_no_key_in_the_query(keyed):
    gemini_error(keyed.get(f"/v1/models?key={CLIENT_KEY}"), 403, "PERMISSION_DENIED")
    assert keyed.get("/v1/models", headers=GOOG).get_json()["models"]


def test_openai_routes_do_not_take_a_key_in_the_query(keyed):
    chat = {"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}
    response = keyed.post(f"/v1/chat/completions?key={CLIENT_KEY}", json=chat)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_api_key"


def test_the_gateway_s_key_goes_upstream_never_the_client_s(strict_emulator):
    app = create_app(gateway_settings(strict_emulator, gateway_api_keys=CLIENT_KEY, gemini_api_key=UPSTREAM_KEY))
    try:
        client = app.test_client()
        assert client.post(GENERATE, json=HI, headers=GOOG).status_code == 200  # the emulator takes UPSTREAM_KEY only
        response = client.get("/v1beta/models/gemini-2.5-flash", headers=GOOG)
        assert response.status_code == 200
        assert UPSTREAM_KEY not in response.get_data(as_text=True)
    finally:
        app.extensions["gemini_proxy"].upstream.close()


def test_pass_through_mode_sends_the_client_s_key(strict_emulator):
    app = create_app(gateway_settings(strict_emulator, pass_through_keys=True, gemini_api_key=UPSTREAM_KEY))
    try:
        client = app.test_client()
        passed = {"x-goog-api-key": "passed-" + CLIENT_KEY}
        assert client.post(GENERATE, json=HI, headers=passed).status_code == 200
        refused = client.post(GENERATE, json=HI, headers={"x-goog-api-key": "not-a-key-of-gemini"})
        assert gemini_error(refused, 400, "INVALID_ARGUMENT")["details"][0]["reason"] == "API_KEY_INVALID"
        assert "not-a-key-of-gemini" not in refused.get_data(as_text=True)
        openai = client.post("/v1/chat/completions", headers={"Authorization": "Bearer not-a-key-of-gemini"},
                             json={"model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]})
        assert openai.status_code == 401
        assert openai.get_json()["error"]["message"] == "Incorrect API key provided."
    finally:
        app.extensions["gemini_proxy"].upstream.close()


def test_requests_per_minute_give_gemini_s_429(client_with):
    client = client_with(gateway_api_keys=f"{CLIENT_KEY} team rpm=1")
    assert client.post(GENERATE, json=HI, headers=GOOG).status_code == 200
    response = client.post(GENERATE, json=HI, headers=GOOG)
    gemini_error(response, 429, "RESOURCE_EXHAUSTED")
    assert int(response.headers["Retry-After"]) >= 1


@pytest.mark.parametrize("path", [GENERATE, "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"])
def test_tokens_per_minute_count_gemini_s_usage_metadata(client_with, path):
    client = client_with(gateway_api_keys=f"{CLIENT_KEY} team tpm=20")
    first = client.post(path, json=HI, headers=GOOG)
    assert first.status_code == 200
    first.get_data()
    first.close()  # a stream's tokens are charged when it ends
    gemini_error(client.post(GENERATE, json=HI, headers=GOOG), 429, "RESOURCE_EXHAUSTED")


def test_request_log_and_metrics_like_the_openai_routes(client_with, caplog):
    client = client_with(gateway_api_keys=f"{CLIENT_KEY} team")
    logging.getLogger("gemini_proxy").addHandler(caplog.handler)
    try:
        client.post(f"{GENERATE}?key={CLIENT_KEY}", json=HI, headers={"X-Request-ID": "native-1"}).close()
        client.post(GENERATE, json=HI, headers={"x-goog-api-key": "wrong-client-key"}).close()
    finally:
        logging.getLogger("gemini_proxy").removeHandler(caplog.handler)
    (line,) = [r.fields for r in caplog.records if getattr(r, "fields", {}).get("request_id") == "native-1"]
    assert (line["status"], line["model"], line["key"]) == (200, "gemini-2.5-flash", "team")
    assert line["prompt_tokens"] > 0
    assert line["completion_tokens"] > 0
    logged = caplog.text + json.dumps([getattr(r, "fields", {}) for r in caplog.records])
    assert CLIENT_KEY not in logged
    assert "wrong-client-key" not in logged
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'route="/v1beta/models/<model:model>:generateContent"' in metrics


def test_an_upstream_error_s_secrets_are_redacted_in_gemini_s_envelope():
    leaked = "AIzaSyA1234567890abcdefghijklmnopqrstu"
    error = upstream_api_error(403, "PERMISSION_DENIED", f"Key {leaked} was reported as leaked.", [
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "X", "metadata": {"key": leaked}}])
    assert error.gemini["code"] == 403
    assert error.gemini["status"] == "PERMISSION_DENIED"
    assert leaked not in json.dumps(error.gemini)
    assert error.gemini["details"][0]["reason"] == "X"


def test_the_routes_are_open_without_client_keys(client):
    assert client.post(GENERATE, json=HI).status_code == 200
    assert client.post(GENERATE, json=HI, headers={"x-goog-api-key": "anything"}).status_code == 200


def test_a_failure_after_the_start_is_gemini_s_last_event(client):
    response = client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json={
        "contents": [{"role": "user", "parts": [{"text": "[emulator tokens=40 fault=midstream after=2] go"}]}]})
    assert response.status_code == 200
    events = sse_data(response)
    assert [("error" in event) for event in events] == [False, False, True]
    assert isinstance(events[-1]["error"]["code"], int)  # Google's SDKs need it


def test_an_error_event_before_any_answer_is_a_real_http_error(client):
    response = client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json={
        "contents": [{"role": "user", "parts": [{"text": "[emulator tokens=40 fault=midstream after=0] go"}]}]})
    gemini_error(response, 500, "INTERNAL")  # the emulator's mid-stream error, before the 200


def test_an_upstream_error_quoting_the_gateway_s_key_is_relayed_redacted(client_with):
    client = client_with(gemini_api_key=UPSTREAM_KEY)
    response = client.post(GENERATE, json={"contents": [{"parts": [{"text": "[emulator fault=echokey] hi"}]}]})
    error = gemini_error(response, 400, "INVALID_ARGUMENT")
    assert "[redacted]" in error["message"]
    assert UPSTREAM_KEY not in response.get_data(as_text=True)
