"""Vertex AI's billing labels: VERTEX_LABELS on every generation the gateway sends to Vertex (OpenAI-shaped
and Gemini-shaped routes), a Gemini-API client's own labels passing through and winning, and the Gemini
API (AI Studio), which has no labels, refusing them as it does (the emulator plays both)."""
from __future__ import annotations

import pytest
import requests

from gemini_emulator import EmulatorConfig, EmulatorServer
from gemini_proxy.app import create_app
from gemini_proxy.config import Settings
from gemini_proxy.config_parsing import SettingsError
from tests.support.vertex import (
    LOCATION,
    PROJECT,
    registered_service_account,
)

LABELS = {"team": "search", "env": "prod"}
FLASH = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def emulator():
    with EmulatorServer(EmulatorConfig(), port=0) as server:
        yield server


@pytest.fixture(scope="module")
def client(emulator, tmp_path_factory):
    credentials = registered_service_account(emulator.url, tmp_path_factory.mktemp("labels") / "sa.json")
    app = create_app(Settings(gemini_backend="vertex", vertex_project=PROJECT, vertex_location=LOCATION,
                              vertex_credentials_file=str(credentials), vertex_base_url=emulator.url,
                              vertex_labels=LABELS, upstream_retries=0, signature_db="",
                              responses_db=""))
    yield app.test_client()
    app.extensions["gemini_proxy"].upstream.close()


def last_call(emulator) -> dict:
    return requests.get(f"{emulator.url}/emulator/requests", params={"last": 1, "method": "all"}, timeout=5).json()[0]


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/chat/completions", {"model": FLASH, "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/chat/completions", {"model": FLASH, "stream": True, "messages": [{"role": "user", "content": "hi"}]}),
    ("/v1/completions", {"model": FLASH, "prompt": "Once upon a time"}),
    ("/v1/responses", {"model": FLASH, "input": "hi", "store": False}),
], ids=["chat", "chat-stream", "completions", "responses"])
def test_openai_routes_carry_the_gateway_s_labels(client, emulator, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    call = last_call(emulator)
    assert call["method"] in ("generateContent", "streamGenerateContent")
    assert call["body"]["labels"] == LABELS


@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent"])
def test_a_gemini_client_s_own_labels_pass_through_and_win(client, emulator, method):
    response = client.post(f"/v1beta/models/{FLASH}:{method}" + ("?alt=sse" if method.startswith("stream") else ""),
                           json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                                 "labels": {"team": "ads", "cost-center": "cc-42"}})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert last_call(emulator)["body"]["labels"] == {"team": "ads", "env": "prod", "cost-center": "cc-42"}


def test_token_counts_and_embeddings_carry_no_labels(client, emulator):
    assert client.post("/v1/responses/input_tokens", json={"model": FLASH, "input": "hi"}).status_code == 200
    assert "labels" not in last_call(emulator)["body"]
    assert client.post("/v1/embeddings", json={"model": "gemini-embedding-001", "input": "hi"}).status_code == 200
    assert "labels" not in last_call(emulator)["body"]


def test_the_gemini_api_refuses_labels_and_a_gemini_client_gets_its_400(emulator):
    app = create_app(Settings(gemini_base_url=emulator.url, gemini_api_key="k", upstream_retries=0,
                              signature_db="", responses_db=""))
    try:
        response = app.test_client().post(f"/v1beta/models/{FLASH}:generateContent", json={
            "contents": [{"role": "user", "parts": [{"text": "hi"}]}], "labels": {"team": "ads"}})
    finally:
        app.extensions["gemini_proxy"].upstream.close()
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == (
        'Invalid JSON payload received. Unknown name "labels": Cannot find field.')


@pytest.mark.parametrize(("env", "message"), [
    ({"VERTEX_LABELS": "Team=search"}, "VERTEX_LABELS entry 'Team=search': a label is key=value"),
    ({"VERTEX_LABELS": "team"}, "VERTEX_LABELS entry 'team': a label is key=value"),
    ({"VERTEX_LABELS": "team=Search Ads"}, "VERTEX_LABELS entry 'team=Search Ads'"),
    ({"VERTEX_LABELS": ",".join(f"k{n}=v" for n in range(65))}, "VERTEX_LABELS holds 65 labels"),
    ({"GEMINI_BACKEND": "ai-studio", "VERTEX_PROJECT": "", "VERTEX_LABELS": "team=search"},
     "VERTEX_LABELS is set but GEMINI_BACKEND is ai-studio"),
])
def test_labels_are_checked_at_start(env, message):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p", **env})
    assert message in str(refused.value)


def test_labels_parse_to_pairs():
    settings = Settings.from_env({"GEMINI_BACKEND": "vertex", "VERTEX_PROJECT": "p",
                                  "VERTEX_LABELS": " team=search , env=prod,empty= "})
    assert list(settings.vertex_labels.items()) == [("team", "search"), ("env", "prod"), ("empty", "")]
