"""The gateway on Vertex AI (GEMINI_BACKEND=vertex): the Flask app in front of the emulator playing Vertex,
with google-auth's real service-account flow (a key made at test time, a signed JWT to the emulator's /token,
bearer tokens on the project paths); express mode; and what differs from AI Studio (gs:// media, the model
list, a token that cannot be had)."""
from __future__ import annotations

import json

import pytest
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from tests.support import sse_events
from tests.support.vertex import (
    LOCATION,
    PROJECT,
    registered_service_account,
    service_account_info,
    write_service_account,
)

WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
MODELS = "gemini-2.5-flash,gemini-3-pro-preview,gemini-embedding-001,text-embedding-004"


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(EmulatorConfig(), port=0) as server:
        yield server


@pytest.fixture(scope="module")
def credentials_file(emulator, tmp_path_factory):
    return registered_service_account(emulator.url, tmp_path_factory.mktemp("vertex") / "sa.json")


def vertex_settings(emulator, **overrides) -> Settings:
    return Settings(**{"gemini_backend": "vertex", "vertex_project": PROJECT, "vertex_location": LOCATION,
                       "vertex_base_url": emulator.url, "vertex_models": MODELS, "upstream_retries": 0,
                       "signature_db": "", "responses_db": "", **overrides})


@pytest.fixture(scope="module")
def app(emulator, credentials_file):
    app = create_app(vertex_settings(emulator, vertex_credentials_file=credentials_file))
    yield app
    app.extensions["gemini_proxy"].upstream.close()


@pytest.fixture
def client(app):
    return app.test_client()


def recorded(emulator, n=1, method="all"):
    return requests.get(f"{emulator.url}/emulator/requests", params={"last": n, "method": method}, timeout=5).json()


def stats(emulator):
    return requests.get(f"{emulator.url}/emulator/stats", timeout=5).json()


def chat(client, text="hi", model="gemini-2.5-flash", **fields):
    response = client.post("/v1/chat/completions",
                           json={"model": model, "messages": [{"role": "user", "content": text}], **fields})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_chat_goes_to_the_project_path_with_a_bearer_token(client, emulator):
    answer = chat(client, "hello Vertex").get_json()
    assert answer["choices"][0]["message"]["content"]
    assert answer["usage"]["total_tokens"] > 0
    last = recorded(emulator)[0]
    assert (last["method"], last["version"], last["project"], last["location"]) == (
        "generateContent", "v1beta1", PROJECT, LOCATION)
    assert "x-goog-api-key" not in last["headers"]  # the key pool's stand-in is never sent


def test_chat_stream(client, emulator):
    events = sse_events(chat(client, "stream from Vertex", stream=True).get_data())
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content") or "" for e in events[:-1]
                   if json.loads(e)["choices"])
    assert text
    assert recorded(emulator)[0]["method"] == "streamGenerateContent"


def test_tool_call_round_trip_with_thought_signatures(client, emulator):
    ask = {"model": "gemini-3-pro-preview", "tools": [WEATHER],
           "messages": [{"role": "user", "content": "get_weather in Lima"}]}
    first = client.post("/v1/chat/completions", json=ask)
    assert first.status_code == 200, first.get_data(as_text=True)
    call = first.get_json()["choices"][0]["message"]["tool_calls"][0]
    before = stats(emulator)["signatures_verified"]
    messages = [*ask["messages"], {"role": "assistant", "content": None, "tool_calls": [call]},
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps({"temperature_c": 18})}]
    answer = client.post("/v1/chat/completions", json={**ask, "messages": messages})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert "18" in answer.get_json()["choices"][0]["message"]["content"]
    assert stats(emulator)["signatures_verified"] == before + 1  # gemini-3 refuses a turn without it


@pytest.mark.parametrize(("model", "method"), [("gemini-embedding-001", "batchEmbedContents"),
                                               ("text-embedding-004", "predict")])
def test_embeddings_use_vertex_s_call_for_the_model(client, emulator, model, method):
    response = client.post("/v1/embeddings", json={"model": model, "input": ["a cat", "a dog"], "dimensions": 8})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert [len(item["embedding"]) for item in body["data"]] == [8, 8]
    assert body["usage"]["prompt_tokens"] > 0
    methods = [r["method"] for r in recorded(emulator, 2)]
    assert method in methods
    assert all(r["project"] == PROJECT for r in recorded(emulator, 2))


def test_responses_api_create(client, emulator):
    response = client.post("/v1/responses", json={"model": "gemini-2.5-flash", "input": "hello Responses"})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "completed"
    assert any(part.get("text") for item in body["output"] for part in item.get("content") or ())
    assert recorded(emulator)[0]["project"] == PROJECT


def test_models_come_from_the_configured_list(client):
    listed = [m["id"] for m in client.get("/v1/models").get_json()["data"]]
    assert listed[:4] == MODELS.split(",")
    # A model not listed is still asked of Vertex (GET publishers/google/models/{id}).
    found = client.get("/v1/models/gemini-2.5-pro")
    assert found.status_code == 200
    assert found.get_json()["id"] == "gemini-2.5-pro"
    assert client.get("/v1/models/gemini-0-nope").status_code == 404


def test_a_gs_url_becomes_file_data_on_vertex(client, emulator):
    content = [{"type": "text", "text": "describe"},
               {"type": "image_url", "image_url": {"url": "gs://my-bucket/photos/cat.png"}},
               {"type": "file", "file": {"file_data": "gs://my-bucket/docs/report.pdf"}}]
    chat(client, content)
    parts = recorded(emulator)[0]["body"]["contents"][0]["parts"]
    assert parts[1:] == [{"fileData": {"mimeType": "image/png", "fileUri": "gs://my-bucket/photos/cat.png"}},
                         {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://my-bucket/docs/report.pdf"}}]


def test_a_gs_url_is_a_clear_400_on_ai_studio(emulator):
    app = create_app(Settings(gemini_base_url=emulator.url, upstream_retries=0, signature_db="", responses_db=""))
    try:
        chat_answer = app.test_client().post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "gs://b/cat.png"}}]}]})
        responses_answer = app.test_client().post("/v1/responses", json={"model": "gemini-2.5-flash", "input": [
            {"role": "user", "content": [{"type": "input_file", "file_url": "gs://b/report.pdf"}]}]})
    finally:
        app.extensions["gemini_proxy"].upstream.close()
    for response, param in ((chat_answer, "messages[0].content[0].image_url.url"),
                            (responses_answer, "input[0].content[0].file_url")):
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["param"] == param
        assert "Vertex AI" in error["message"]


def test_a_gs_object_without_a_known_type_is_a_400(client):
    response = client.post("/v1/chat/completions", json={"model": "gemini-2.5-flash", "messages": [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "gs://bucket/no-extension"}}]}]})
    assert response.status_code == 400
    assert response.get_json()["error"]["param"] == "messages[0].content[0].image_url.url"


def test_credentials_vertex_refuses_are_a_502_naming_no_secret(emulator, tmp_path):
    info = service_account_info(emulator.url)  # never registered: /token answers invalid_grant
    app = create_app(vertex_settings(emulator, vertex_credentials_file=str(
        write_service_account(tmp_path / "unknown.json", info))))
    try:
        response = app.test_client().post("/v1/chat/completions", json={
            "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]})
    finally:
        app.extensions["gemini_proxy"].upstream.close()
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "upstream_credentials_refused"
    assert info["client_email"] not in error["message"]
    assert "PRIVATE" not in error["message"]


def test_express_mode_sends_the_key_on_publisher_paths(emulator):
    app = create_app(vertex_settings(emulator, gemini_backend="vertex-express", vertex_project=None,
                                     gemini_api_key="express-key"))
    try:
        client = app.test_client()
        chat(client, "hello express")
        embedded = client.post("/v1/embeddings", json={"model": "gemini-embedding-001", "input": "a cat"})
        assert embedded.status_code == 200, embedded.get_data(as_text=True)
    finally:
        app.extensions["gemini_proxy"].upstream.close()
    calls = recorded(emulator, 2)
    assert [(r["method"], r["project"], r["version"]) for r in calls] == [
        ("generateContent", None, "v1beta1"), ("embedContent", None, "v1beta1")]
    assert all("authorization" not in r["headers"] for r in calls)
    assert stats(emulator)["requests_by_key"]["express-key"] == 2


def test_input_tokens_use_vertex_s_count_tokens_body(client, emulator):
    response = client.post("/v1/responses/input_tokens", json={
        "model": "gemini-2.5-flash", "instructions": "Answer briefly.", "input": "how many tokens is this",
        "tools": [{"type": "function", "name": "get_weather", "parameters": WEATHER["function"]["parameters"]}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["input_tokens"] > 0
    body = recorded(emulator, 1, "countTokens")[0]["body"]
    assert "generateContentRequest" not in body  # Vertex takes the request's fields at the top level
    assert set(body) == {"contents", "systemInstruction", "tools"}


def test_readiness_asks_vertex(client, emulator):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["upstream"] == emulator.url.removeprefix("http://")


def test_vertex_s_429_without_retry_info(client):
    response = client.post("/v1/chat/completions", json={
        "model": "gemini-2.5-flash", "messages": [{"role": "user", "content": "[emulator fault=429] hi"}]})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limit_exceeded"
    assert "Resource exhausted" in response.get_json()["error"]["message"]


def test_a_gs_url_in_a_responses_input_becomes_file_data(client, emulator):
    response = client.post("/v1/responses", json={"model": "gemini-2.5-flash", "input": [{"role": "user", "content": [
        {"type": "input_text", "text": "describe"},
        {"type": "input_image", "image_url": "gs://my-bucket/cat.jpg"},
        {"type": "input_file", "file_url": "gs://my-bucket/report.pdf"}]}]})
    assert response.status_code == 200, response.get_data(as_text=True)
    parts = recorded(emulator)[0]["body"]["contents"][0]["parts"]
    assert parts[1:] == [{"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://my-bucket/cat.jpg"}},
                         {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://my-bucket/report.pdf"}}]


def test_short_lived_tokens_are_fetched_again(emulator, credentials_file):
    """google-auth refreshes a token within 3 min 45 s of its expiry: with 60-second tokens, every call."""
    def issued():
        return requests.get(f"{emulator.url}/emulator/oauth", timeout=5).json()["tokens_issued"]
    requests.post(f"{emulator.url}/emulator/oauth", json={"token_lifetime": 60}, timeout=5).raise_for_status()
    app = create_app(vertex_settings(emulator, vertex_credentials_file=credentials_file))
    try:
        before = issued()
        for text in ("one", "two", "three"):
            chat(app.test_client(), text)
        assert issued() == before + 3
    finally:
        requests.post(f"{emulator.url}/emulator/oauth", json={"token_lifetime": 3600}, timeout=5).raise_for_status()
        app.extensions["gemini_proxy"].upstream.close()


def test_express_mode_key_pool_fails_over(tmp_path):
    with EmulatorServer(EmulatorConfig(api_keys=("good-key",)), port=0) as emulator:
        app = create_app(vertex_settings(emulator, gemini_backend="vertex-express", vertex_project=None,
                                         gemini_api_keys="bad-key first, good-key second",
                                         key_pool_strategy="round-robin"))
        try:
            for text in ("one", "two", "three"):
                chat(app.test_client(), text)
        finally:
            app.extensions["gemini_proxy"].upstream.close()
        assert stats(emulator)["requests_by_key"] == {"good-key": 3}  # the refused key was put aside


HI = {"contents": [{"role": "user", "parts": [{"text": "hello Gemini on Vertex"}]}]}


def on_project_path(call, method):
    """The emulator saw `method` on Vertex's project path (which it answers for a bearer token from its /token
    only), in Vertex's version whatever the client's."""
    assert (call["method"], call["version"], call["project"], call["location"]) == (
        method, "v1beta1", PROJECT, LOCATION)


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_gemini_s_generate_content_relays_to_vertex(client, emulator, version):
    body = {**HI, "generationConfig": {"maxOutputTokens": 100}}
    response = client.post(f"/{version}/models/gemini-2.5-flash:generateContent", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"]
    assert answer["usageMetadata"]["totalTokenCount"] > 0
    call = recorded(emulator)[0]
    on_project_path(call, "generateContent")
    assert call["body"] == body  # the same body on Vertex, passed as it came


def test_gemini_s_stream_relays_to_vertex(client, emulator):
    response = client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json=HI)
    assert response.status_code == 200, response.get_data(as_text=True)
    events = [json.loads(data) for data in sse_events(response.get_data())]
    assert "".join(part.get("text", "") for event in events for part in event["candidates"][0]["content"]["parts"])
    on_project_path(recorded(emulator)[0], "streamGenerateContent")


def test_gemini_s_count_tokens_flattens_for_vertex(client, emulator):
    contents = HI["contents"]
    plain = client.post("/v1beta/models/gemini-2.5-flash:countTokens", json={"contents": contents})
    assert plain.status_code == 200, plain.get_data(as_text=True)
    assert recorded(emulator, 1, "countTokens")[0]["body"] == {"contents": contents}
    inner = {"model": "models/gemini-2.5-flash", "contents": contents,
             "systemInstruction": {"parts": [{"text": "Answer in one long paragraph."}]},
             "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}
    whole = client.post("/v1beta/models/gemini-2.5-flash:countTokens", json={"generateContentRequest": inner})
    assert whole.status_code == 200, whole.get_data(as_text=True)
    assert whole.get_json()["totalTokens"] > plain.get_json()["totalTokens"] > 0  # the system instruction counts
    call = recorded(emulator, 1, "countTokens")[0]
    on_project_path(call, "countTokens")
    assert set(call["body"]) == {"contents", "systemInstruction"}  # Vertex's fields, at the top level


@pytest.mark.parametrize(("model", "method"), [("gemini-embedding-001", "embedContent"),
                                               ("text-embedding-004", "predict")])
def test_gemini_s_embed_content_on_vertex(client, emulator, model, method):
    response = client.post(f"/v1beta/models/{model}:embedContent", json={
        "content": {"parts": [{"text": "a cat"}]}, "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8})
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert list(answer) == ["embedding"]
    assert len(answer["embedding"]["values"]) == 8
    call = recorded(emulator, 1, method)[0]
    on_project_path(call, method)
    assert call["body"] == ({"content": {"parts": [{"text": "a cat"}]}, "embedContentConfig": {
        "taskType": "RETRIEVAL_QUERY", "outputDimensionality": 8}} if method == "embedContent" else {
        "instances": [{"content": "a cat", "taskType": "RETRIEVAL_QUERY"}],  # the log's names are camelCase
        "parameters": {"outputDimensionality": 8}})


@pytest.mark.parametrize(("model", "method"), [("gemini-embedding-001", "batchEmbedContents"),
                                               ("text-embedding-004", "predict")])
def test_gemini_s_batch_embed_contents_on_vertex(client, emulator, model, method):
    batch = {"requests": [{"model": f"models/{model}", "content": {"parts": [{"text": text}]},
                           "outputDimensionality": 4} for text in ("a cat", "a dog", "a fish")]}
    response = client.post(f"/v1beta/models/{model}:batchEmbedContents", json=batch)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert [len(item["values"]) for item in response.get_json()["embeddings"]] == [4, 4, 4]
    call = recorded(emulator, 1, method)[0]
    on_project_path(call, method)
    if method == "batchEmbedContents":
        assert all("model" not in request for request in call["body"]["requests"])  # Vertex has none


def test_gemini_s_model_list_is_the_configured_catalog(client):
    listed = client.get("/v1beta/models")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    models = listed.get_json()["models"]
    assert [m["name"] for m in models] == [f"models/{m}" for m in MODELS.split(",")]
    assert "generateContent" in models[0]["supportedGenerationMethods"]
    assert models[2]["supportedGenerationMethods"] == ["embedContent", "batchEmbedContents"]
    assert client.get("/v1beta/models/gemini-2.5-flash").get_json() == models[0]
    # One not in the catalog is asked of Vertex (GET publishers/google/models/{m}), named as AI Studio names it.
    found = client.get("/v1beta/models/gemini-2.5-pro")
    assert found.status_code == 200, found.get_data(as_text=True)
    assert found.get_json()["name"] == "models/gemini-2.5-pro"
    missing = client.get("/v1beta/models/gemini-0-nope")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["status"] == "NOT_FOUND"


def test_gemini_s_errors_from_vertex_are_gemini_s_envelope(client):
    response = client.post("/v1beta/models/gemini-2.5-flash:generateContent", json={
        "contents": [{"parts": [{"text": "[emulator fault=429] hi"}]}]})
    assert response.status_code == 429
    assert response.get_json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_gemini_s_routes_in_express_mode_use_publisher_paths(emulator):
    app = create_app(vertex_settings(emulator, gemini_backend="vertex-express", vertex_project=None,
                                     gemini_api_key="express-key"))
    before = stats(emulator)["requests_by_key"].get("express-key", 0)
    try:
        client = app.test_client()
        generated = client.post("/v1beta/models/gemini-2.5-flash:generateContent", json=HI)
        assert generated.status_code == 200, generated.get_data(as_text=True)
        embedded = client.post("/v1beta/models/gemini-embedding-001:embedContent",
                               json={"content": {"parts": [{"text": "a cat"}]}})
        assert embedded.status_code == 200, embedded.get_data(as_text=True)
    finally:
        app.extensions["gemini_proxy"].upstream.close()
    calls = recorded(emulator, 2)
    assert [(r["method"], r["project"], r["version"]) for r in calls] == [
        ("generateContent", None, "v1beta1"), ("embedContent", None, "v1beta1")]
    assert stats(emulator)["requests_by_key"]["express-key"] == before + 2
