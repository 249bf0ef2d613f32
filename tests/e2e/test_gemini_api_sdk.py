"""Gemini's own API through gunicorn, with the google-genai Python SDK as the client
(http_options.base_url = the gateway, api_key = a gateway client key) and the emulator as
Gemini, the gateway on AI Studio and on Vertex AI (service-account flow) in turn: generate,
stream (relayed as it arrives), count tokens, embed, models, a tool-call round trip whose
thought signature passes through untouched, client keys in Google's forms, Gemini's error
bodies, and no key in logs or answers."""
from __future__ import annotations

import time

import pytest
import requests
from google import genai
from google.genai import errors, types

from tests.support.processes import start_gunicorn
from tests.support.vertex import LOCATION, PROJECT

pytestmark = pytest.mark.e2e

CLIENT_KEY = "gw-client-key-2f8a61d0c9"
LIMITED_KEY = "gw-limited-key-7b3e90a4d1"
UPSTREAM_KEY = "gw-upstream-key-5c1d28e7f3"
SECRETS = (CLIENT_KEY, LIMITED_KEY, UPSTREAM_KEY)
WEATHER = types.FunctionDeclaration(name="get_weather", description="Weather in a city.", parameters_json_schema={
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


@pytest.fixture(scope="module")
def gateway_log(tmp_path_factory):
    return tmp_path_factory.mktemp("native") / "gunicorn.log"


@pytest.fixture(scope="module", params=["ai-studio", "vertex"])
def native_gateway(request, emulator_process, service_account_file, gateway_log):
    """The gateway on either backend: the same client calls, relayed to AI Studio or to Vertex AI."""
    backend = ({"GEMINI_BASE_URL": emulator_process, "GEMINI_API_KEY": UPSTREAM_KEY} if request.param == "ai-studio"
               else {"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": PROJECT, "VERTEX_LOCATION": LOCATION,
                     "VERTEX_CREDENTIALS_FILE": str(service_account_file), "VERTEX_BASE_URL": emulator_process})
    with gateway_log.open("w") as sink:
        server = start_gunicorn(stderr=sink, UPSTREAM_RETRIES="0", ACCESS_LOG="-",
                                GATEWAY_API_KEYS=f"{CLIENT_KEY} team,{LIMITED_KEY} limited rpm=1", **backend)
        yield server
        assert server.stop() == 0


def gemini_client(gateway, version: str, key: str = CLIENT_KEY) -> genai.Client:
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url, api_version=version,
                                                                     timeout=30_000))


@pytest.fixture(params=["v1beta", "v1"])
def client(native_gateway, request):
    gemini = gemini_client(native_gateway, request.param)
    yield gemini
    gemini.close()


def test_generate_content(client):
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="Say something.")
    assert answer.text
    assert answer.model_version == "gemini-2.5-flash"
    assert answer.usage_metadata.total_token_count > 0


def test_calls_reach_the_configured_backend(native_gateway, emulator_process, request):
    gemini = gemini_client(native_gateway, "v1beta")
    assert gemini.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    last = requests.get(f"{emulator_process}/emulator/requests", params={"last": 1}, timeout=5).json()[0]
    on_vertex = request.node.callspec.params["native_gateway"] == "vertex"
    assert last.get("project") == (PROJECT if on_vertex else None), last


def test_generate_content_stream_arrives_as_the_emulator_sends_it(client):
    started = time.monotonic()
    arrivals, texts = [], []
    for chunk in client.models.generate_content_stream(
            model="gemini-2.5-flash", contents="[emulator ttft=0.1 tps=20 tokens=40] Tell a story."):
        arrivals.append(time.monotonic() - started)
        texts.append(chunk.text or "")
    assert len(arrivals) > 3
    assert arrivals[-1] > 1.5  # 40 tokens at 20 a second
    assert arrivals[0] < arrivals[-1] - 1.0  # the first chunk came well before the end: not buffered
    assert "".join(texts).strip()


def test_count_tokens_and_embed_content(client):
    assert client.models.count_tokens(model="gemini-2.5-flash", contents="one two three").total_tokens > 0
    embedded = client.models.embed_content(model="gemini-embedding-001", contents=["a", "b"],
                                           config=types.EmbedContentConfig(output_dimensionality=16))
    assert [len(e.values) for e in embedded.embeddings] == [16, 16]


def test_models_list_and_get(client):
    names = [model.name for model in client.models.list(config={"page_size": 3})]
    assert "models/gemini-2.5-flash" in names
    assert len(names) > 3  # pages followed through the gateway
    assert client.models.get(model="gemini-2.5-flash").name == "models/gemini-2.5-flash"


def test_a_tool_call_round_trip_keeps_the_thought_signature(native_gateway, emulator_process):
    gemini = gemini_client(native_gateway, "v1beta")
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])],
                                         automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    before = requests.get(f"{emulator_process}/emulator/stats", timeout=5).json()["signatures_verified"]
    asked = types.Content(role="user", parts=[types.Part.from_text(text="Use get_weather for Paris.")])
    first = gemini.models.generate_content(model="gemini-3-pro-preview", contents=[asked], config=config)
    (call,) = first.function_calls
    assert call.name == "get_weather"
    called = first.candidates[0].content
    assert any(part.thought_signature for part in called.parts)
    result = types.Content(role="user", parts=[types.Part.from_function_response(
        name="get_weather", response={"temperature_c": 21})])
    final = gemini.models.generate_content(model="gemini-3-pro-preview", contents=[asked, called, result],
                                           config=config)
    assert "21" in final.text
    after = requests.get(f"{emulator_process}/emulator/stats", timeout=5).json()["signatures_verified"]
    assert after == before + 1
    gemini.close()


@pytest.mark.parametrize("how", ["x-goog-api-key", "query", "bearer"])
def test_client_keys_in_google_s_forms(native_gateway, how):
    headers = {"x-goog-api-key": CLIENT_KEY} if how == "x-goog-api-key" else (
        {"Authorization": f"Bearer {CLIENT_KEY}"} if how == "bearer" else {})
    query = {"key": CLIENT_KEY} if how == "query" else {}
    response = requests.post(f"{native_gateway.url}/v1beta/models/gemini-2.5-flash:generateContent", params=query,
                             headers=headers, json={"contents": [{"parts": [{"text": "hi"}]}]}, timeout=30)
    assert response.status_code == 200
    assert response.json()["candidates"]


def test_missing_and_wrong_keys_get_gemini_s_bodies(native_gateway):
    url = f"{native_gateway.url}/v1beta/models/gemini-2.5-flash:generateContent"
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    missing = requests.post(url, json=body, headers={"x-goog-api-key": ""}, timeout=30)
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    wrong = requests.post(url, json=body, params={"key": "not-a-gateway-key"}, timeout=30)
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    gemini = gemini_client(native_gateway, "v1beta", key="not-a-gateway-key")
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert (raised.value.code, raised.value.status) == (400, "INVALID_ARGUMENT")
    gemini.close()


def test_a_rate_limited_client_gets_gemini_s_429(native_gateway):
    gemini = gemini_client(native_gateway, "v1beta", key=LIMITED_KEY)
    gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    with pytest.raises(errors.ClientError) as raised:
        gemini.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert (raised.value.code, raised.value.status) == (429, "RESOURCE_EXHAUSTED")
    gemini.close()


def generate(client: genai.Client, contents: str, stream: bool):
    if stream:
        return list(client.models.generate_content_stream(model="gemini-2.5-flash", contents=contents))
    return client.models.generate_content(model="gemini-2.5-flash", contents=contents)


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_an_upstream_fault_is_relayed_in_gemini_s_format(client, stream):
    with pytest.raises(errors.ServerError) as raised:
        generate(client, "[emulator fault=503] hi", stream)
    assert (raised.value.code, raised.value.status) == (503, "UNAVAILABLE")
    assert raised.value.message == "The model is overloaded. Please try again later."


def test_no_key_in_answers_or_logs(native_gateway, gateway_log):
    url = f"{native_gateway.url}/v1beta/models/gemini-2.5-flash:generateContent"
    answers = [requests.post(url, params={"key": key}, json={"contents": [{"parts": [{"text": text}]}]}, timeout=30)
               for key in (CLIENT_KEY, "not-a-gateway-key") for text in ("hi", "[emulator fault=500] hi")]
    answers.append(requests.get(f"{native_gateway.url}/v1beta/models", headers={"x-goog-api-key": CLIENT_KEY},
                                timeout=30))
    time.sleep(0.5)  # the request log line is written when the response closes
    log = gateway_log.read_text()
    assert "gunicorn.access" in log
    assert "key=[REDACTED]" in log
    for secret in (*SECRETS, "not-a-gateway-key"):
        assert secret not in log
        assert not [a.text[:200] for a in answers if secret in a.text or secret in str(a.headers)]
