"""End to end on Vertex AI: `python -m gemini_emulator --service-account-key FILE` as Vertex, gunicorn with
GEMINI_BACKEND=vertex and that key file, the official openai SDK as client. google-auth's real flow runs in
the gateway's workers: a signed JWT to the emulator's /token, then bearer tokens on the project paths."""
from __future__ import annotations

import openai
import pytest
import requests

from gemini_emulator.process import start_process, stop_process
from tests.support.processes import free_port, start_gunicorn
from tests.support.vertex import LOCATION, PROJECT, service_account_info, write_service_account


@pytest.fixture(scope="module")
def vertex_emulator(tmp_path_factory):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    key_file = write_service_account(tmp_path_factory.mktemp("vertex-e2e") / "sa.json", service_account_info(url))
    process = start_process(port, extra_args=("--service-account-key", str(key_file)))
    yield url, key_file
    stop_process(process)


@pytest.fixture(scope="module")
def sdk(vertex_emulator):
    url, key_file = vertex_emulator
    server = start_gunicorn(GEMINI_BACKEND="vertex", VERTEX_PROJECT=PROJECT, VERTEX_LOCATION=LOCATION,
                            VERTEX_CREDENTIALS_FILE=str(key_file), VERTEX_BASE_URL=url, UPSTREAM_RETRIES="0",
                            VERTEX_MODELS="gemini-2.5-flash,gemini-embedding-001")
    try:
        with openai.OpenAI(base_url=f"{server.url}/v1", api_key="any-key", max_retries=0, timeout=30) as client:
            yield client
    finally:
        assert server.stop() == 0


def test_chat_stream_embeddings_and_models_through_gunicorn(sdk, vertex_emulator):
    url, _ = vertex_emulator
    answer = sdk.chat.completions.create(model="gemini-2.5-flash", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content
    with sdk.chat.completions.create(model="gemini-2.5-flash", stream=True,
                                     messages=[{"role": "user", "content": "stream"}]) as stream:
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text
    embedded = sdk.embeddings.create(model="gemini-embedding-001", input=["a", "b"], dimensions=4)
    assert [len(item.embedding) for item in embedded.data] == [4, 4]
    assert [m.id for m in sdk.models.list()][:2] == ["gemini-2.5-flash", "gemini-embedding-001"]
    calls = requests.get(f"{url}/emulator/requests", params={"last": 10, "method": "all"}, timeout=5).json()
    assert {(c["project"], c["location"], c["version"]) for c in calls} == {(PROJECT, LOCATION, "v1beta1")}
    oauth = requests.get(f"{url}/emulator/oauth", timeout=5).json()
    assert 1 <= oauth["tokens_issued"] <= 2  # one token per worker that served a call, reused after
