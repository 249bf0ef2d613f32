"""The emulator as Vertex AI, through the real google-genai SDK (vertexai=True) and google-auth's real
service-account flow against the emulator's /token."""
from __future__ import annotations

import pytest
import requests
from google import genai
from google.auth.exceptions import RefreshError
from google.genai import errors as genai_errors

from gemini_emulator import EmulatorConfig, EmulatorServer
from tests.support.vertex import LOCATION, PROJECT, service_account_info, vertex_client


@pytest.fixture(scope="module")
def server():
    with EmulatorServer(EmulatorConfig(chunk_tokens=4), port=0) as running:
        yield running


@pytest.fixture(scope="module")
def account(server):
    info = service_account_info(server.url)
    answer = requests.post(f"{server.url}/emulator/service-accounts", json=info, timeout=5)
    assert answer.status_code == 200
    return info


@pytest.fixture(scope="module")
def client(server, account):
    return vertex_client(server.url, account)


def last(server, n=1, method="all"):
    return requests.get(f"{server.url}/emulator/requests", params={"last": n, "method": method}, timeout=5).json()


def oauth(server):
    return requests.get(f"{server.url}/emulator/oauth", timeout=5).json()


def test_generate_and_stream_on_the_project_path(server, client, account):
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="hello vertex")
    assert answer.text
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="hello again"))
    assert "".join(c.text or "" for c in chunks)
    recorded = last(server, 2)
    assert [(r["method"], r["version"], r["project"], r["location"]) for r in recorded] == [
        ("generateContent", "v1beta1", PROJECT, LOCATION), ("streamGenerateContent", "v1beta1", PROJECT, LOCATION)]
    stats = requests.get(f"{server.url}/emulator/stats", timeout=5).json()
    assert stats["requests_by_key"][account["client_email"]] >= 2  # calls counted for the token's account


def test_count_tokens_takes_a_system_instruction(client):
    total = client.models.count_tokens(model="gemini-2.5-flash", contents="one two three").total_tokens
    assert total > 0


@pytest.mark.parametrize(("model", "method"), [("gemini-embedding-001", "batchEmbedContents"),
                                               ("text-embedding-004", "predict")])
def test_embeddings_by_model_kind(server, client, model, method):
    answer = client.models.embed_content(model=model, contents=["a cat", "a dog"],
                                         config={"output_dimensionality": 8})
    assert [len(e.values) for e in answer.embeddings] == [8, 8]
    assert last(server)[0]["method"] == method
    if method == "predict":
        assert answer.embeddings[0].statistics.token_count == 2  # snake case, as the SDK reads it


def test_embed_content_one_text(server, client):
    answer = client.models.embed_content(model="gemini-embedding-001", contents=[{"parts": [{"text": "a cat"}]}])
    assert len(answer.embeddings[0].values) == 3072
    assert answer.embeddings[0].statistics.token_count == 2  # from usageMetadata
    assert last(server)[0]["method"] == "embedContent"


def test_publisher_models_list_and_get(client):
    names = [m.name for m in client.models.list(config={"page_size": 3})]
    assert "publishers/google/models/gemini-2.5-flash" in names
    assert len(names) > 3
    assert client.models.get(model="gemini-2.5-pro").name == "publishers/google/models/gemini-2.5-pro"


def test_unknown_model_speaks_of_publisher_models(client):
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-0-nope", contents="hi")
    assert caught.value.code == 404
    assert f"Publisher Model `projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/gemini-0-nope`" \
        in caught.value.message


def test_project_paths_refuse_api_keys_and_missing_tokens(server):
    url = f"{server.url}/v1beta1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    keyed = requests.post(url, json=body, headers={"x-goog-api-key": "k"}, timeout=5)
    assert keyed.status_code == 401
    assert "API keys are not supported" in keyed.json()["error"]["message"]
    bare = requests.post(url, json=body, timeout=5)
    assert bare.status_code == 401
    assert bare.json()["error"]["status"] == "UNAUTHENTICATED"
    forged = requests.post(url, json=body, headers={"authorization": "Bearer ya29.made-up"}, timeout=5)
    assert forged.status_code == 401


def test_express_mode_with_an_api_key(server):
    client = genai.Client(vertexai=True, api_key="express-key", http_options={"base_url": server.url})
    assert client.models.generate_content(model="gemini-2.5-flash", contents="hi").text
    recorded = last(server)[0]
    assert (recorded["version"], recorded["project"], recorded["headers"].get("authorization")) == (
        "v1beta1", None, None)
    url = f"{server.url}/v1beta1/publishers/google/models/gemini-2.5-flash:countTokens"
    by_query = requests.post(url, params={"key": "k"}, json={"contents": [{"parts": [{"text": "a b"}]}]}, timeout=5)
    assert by_query.status_code == 200
    assert by_query.json()["totalTokens"] == 2


def test_short_lived_tokens_are_refreshed(server):
    info = service_account_info(server.url)
    requests.post(f"{server.url}/emulator/service-accounts", json=info, timeout=5).raise_for_status()
    client = vertex_client(server.url, info)
    requests.post(f"{server.url}/emulator/oauth", json={"token_lifetime": 3600}, timeout=5).raise_for_status()
    before = oauth(server)["tokens_issued"]
    client.models.generate_content(model="gemini-2.5-flash", contents="one")
    client.models.generate_content(model="gemini-2.5-flash", contents="two")
    assert oauth(server)["tokens_issued"] == before + 1  # an hour-long token is reused
    # Under google-auth's refresh margin (3 min 45 s), each call finds its token about to expire.
    requests.post(f"{server.url}/emulator/oauth", json={"token_lifetime": 60}, timeout=5).raise_for_status()
    try:
        short = vertex_client(server.url, info)
        short.models.generate_content(model="gemini-2.5-flash", contents="three")
        short.models.generate_content(model="gemini-2.5-flash", contents="four")
        assert oauth(server)["tokens_issued"] == before + 3
    finally:
        requests.post(f"{server.url}/emulator/oauth", json={"token_lifetime": 3600}, timeout=5).raise_for_status()


def test_an_unregistered_key_gets_no_token(server):
    client = vertex_client(server.url, service_account_info(server.url))  # never registered
    with pytest.raises(RefreshError, match="invalid_grant"):
        client.models.generate_content(model="gemini-2.5-flash", contents="hi")


def test_service_account_key_from_the_command_line(tmp_path):
    from gemini_emulator.__main__ import _service_account
    from tests.support.vertex import write_service_account

    info = service_account_info("http://127.0.0.1:1")
    assert _service_account(str(write_service_account(tmp_path / "sa.json", info)))["client_email"] == \
        info["client_email"]


def test_fault_directives_answer_in_vertex_s_words(client):
    with pytest.raises(genai_errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash", contents="[emulator fault=429] hi")
    assert caught.value.code == 429
    assert caught.value.message.startswith("Resource exhausted. Please try again later.")
    assert not caught.value.details["error"]["details"]  # no RetryInfo on Vertex
