"""The emulator over real HTTP, driven by the real google-genai SDK (and raw HTTP where the SDK
cannot express the case)."""
from __future__ import annotations

import http.client
import json
import math
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
import requests
from google.genai import errors, types

from gemini_emulator import EmulatorConfig, EmulatorServer, count_tokens
from gemini_emulator.catalog import MODELS
from tests.support import collect
from tests.support.emulator import sdk_client, stats

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FLASH = "gemini-2.5-flash"


def last_requests(server, n: int = 1, method: str = "") -> list[dict]:
    params = {"last": n, **({"method": method} if method else {})}
    return requests.get(f"{server.url}/emulator/requests", params=params, timeout=5).json()


def stream(client, prompt: str, **config) -> list[types.GenerateContentResponse]:
    return list(client.models.generate_content_stream(
        model=FLASH, contents=prompt, config=types.GenerateContentConfig(**config) if config else None))


def answer(client, prompt: str, streamed: bool):
    return stream(client, prompt) if streamed else client.models.generate_content(model=FLASH, contents=prompt)


# --- answers -------------------------------------------------------------------------------


def test_generate_content_answers_deterministically_with_consistent_usage(client):
    first = client.models.generate_content(model=FLASH, contents="Say hello")
    again = client.models.generate_content(model=FLASH, contents="Say hello")
    assert first.text
    assert first.text == again.text
    assert first.response_id != again.response_id
    assert len(first.response_id) == 22
    assert first.model_version == FLASH
    usage = first.usage_metadata
    assert usage.prompt_token_count == 2
    assert usage.candidates_token_count == count_tokens(first.text)
    assert usage.total_token_count == (usage.prompt_token_count + usage.candidates_token_count
                                       + usage.thoughts_token_count)
    assert first.candidates[0].finish_reason == types.FinishReason.STOP


def test_stream_has_chunks_running_usage_one_id_and_finish_on_the_last(client):
    chunks = stream(client, "Tell a story [emulator tokens=30]")
    assert len(chunks) == 8
    assert [c.candidates[0].finish_reason for c in chunks] == [None] * 7 + [types.FinishReason.STOP]
    running = [c.usage_metadata.candidates_token_count for c in chunks]
    assert running == [4, 8, 12, 16, 20, 24, 28, 30]
    assert len({c.response_id for c in chunks}) == 1
    assert count_tokens("".join(c.text for c in chunks)) == 30


def test_candidate_count_in_both_modes(client):
    response = client.models.generate_content(
        model=FLASH, contents="Hi", config=types.GenerateContentConfig(candidate_count=3))
    assert [c.index for c in response.candidates] == [0, 1, 2]
    assert len({c.content.parts[0].text for c in response.candidates}) == 3
    chunks = stream(client, "Hi [emulator tokens=8]", candidate_count=2)
    assert [c.candidates[0].index for c in chunks] == [0, 1, 0, 1]
    assert [c.candidates[0].finish_reason is not None for c in chunks] == [False, False, True, True]


def test_max_output_tokens_and_stop_sequences(client):
    cut = client.models.generate_content(
        model=FLASH, contents="[emulator tokens=50 thoughts=2]",
        config=types.GenerateContentConfig(max_output_tokens=7))
    assert cut.candidates[0].finish_reason == types.FinishReason.MAX_TOKENS
    assert cut.usage_metadata.candidates_token_count == count_tokens(cut.text) == 5
    assert cut.usage_metadata.thoughts_token_count == 2
    stopped = stream(client, '[emulator say="one two three four"]', stop_sequences=["three"])
    assert "".join(c.text for c in stopped) == "one two "
    assert stopped[-1].candidates[0].finish_reason == types.FinishReason.STOP


def test_the_request_log_shows_what_was_sent_key_normalised(client, server):
    client.models.generate_content(model=FLASH, contents="Log me", config=types.GenerateContentConfig(
        system_instruction="Be terse.", temperature=0.5,
        thinking_config=types.ThinkingConfig(thinking_budget=0)))
    (entry,) = last_requests(server)
    assert (entry["model"], entry["method"], entry["version"]) == (FLASH, "generateContent", "v1beta")
    body = entry["body"]
    assert body["systemInstruction"]["parts"] == [{"text": "Be terse."}]
    assert body["contents"] == [{"parts": [{"text": "Log me"}], "role": "user"}]
    assert body["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 0}
    assert "x-goog-api-key" not in entry["headers"]


def test_inline_data_function_history_and_tools_are_accepted(client, server):
    weather = types.FunctionDeclaration(name="get_weather", parameters_json_schema={
        "type": "object", "properties": {"city_name": {"type": "string"}}})
    response = client.models.generate_content(model=FLASH, config=types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])]), contents=[
        types.Content(role="user", parts=[types.Part(text="Weather?")]),
        types.Content(role="model", parts=[types.Part(function_call=types.FunctionCall(
            name="get_weather", args={"city": "Oslo"}))]),
        types.Content(role="user", parts=[types.Part(function_response=types.FunctionResponse(
            name="get_weather", response={"temp_c": 3}))]),
        types.Content(role="user", parts=[
            types.Part(text="And this?"),
            types.Part.from_bytes(data=b"\xff\xfe\xfd img", mime_type="image/png")]),
    ])
    details = {d.modality.value: d.token_count for d in response.usage_metadata.prompt_tokens_details}
    assert details["IMAGE"] == 258
    assert response.text
    body = last_requests(server)[0]["body"]
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["parametersJsonSchema"]["properties"] == {"city_name": {"type": "string"}}
    assert body["contents"][3]["parts"][1]["inlineData"]["mimeType"] == "image/png"


# --- models, tokens, embeddings ------------------------------------------------------------


def test_models_list_pages_and_get(client, server):
    before = stats(server)["requests"]
    names = [m.name for m in client.models.list(config={"page_size": 3})]
    assert names == [f"models/{m.id}" for m in MODELS]
    assert stats(server)["requests"] - before == math.ceil(len(MODELS) / 3)
    model = client.models.get(model="gemini-2.5-pro")
    assert (model.name, model.input_token_limit, model.thinking) == ("models/gemini-2.5-pro", 1048576, True)
    assert "generateContent" in model.supported_actions


def test_unknown_model_and_wrong_method_are_404(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-1.0-nope", contents="hi")
    assert (caught.value.code, caught.value.status) == (404, "NOT_FOUND")
    assert "models/gemini-1.0-nope is not found for API version v1beta" in caught.value.message
    with pytest.raises(errors.ClientError) as caught:
        client.models.get(model="gemini-1.0-nope")
    assert caught.value.code == 404
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="text-embedding-004", contents="hi")
    assert caught.value.code == 404
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model=FLASH, contents="hi")
    assert caught.value.code == 404


def test_count_tokens_matches_the_prompt_count_of_generate(client):
    text = "How many tokens, exactly, are in this sentence?"
    counted = client.models.count_tokens(model=FLASH, contents=text)
    generated = client.models.generate_content(model=FLASH, contents=text)
    assert counted.total_tokens == count_tokens(text) == generated.usage_metadata.prompt_token_count


def test_embed_content_batches_with_dimensions(client, server):
    texts = ["the cat sat on the mat", "a cat on a mat", "quarterly tax filing deadline"]
    result = client.models.embed_content(
        model="gemini-embedding-001", contents=texts,
        config=types.EmbedContentConfig(output_dimensionality=16))
    vectors = [e.values for e in result.embeddings]
    assert [len(v) for v in vectors] == [16, 16, 16]
    assert all(math.isclose(sum(x * x for x in v), 1.0, abs_tol=1e-6) for v in vectors)
    full = client.models.embed_content(model="gemini-embedding-001", contents="hello")
    assert len(full.embeddings[0].values) == 3072
    assert len(client.models.embed_content(model="text-embedding-004", contents="hello")
               .embeddings[0].values) == 768
    (entry,) = last_requests(server, method="batchEmbedContents")
    assert len(entry["body"]["requests"]) == 1


def test_too_big_an_embedding_batch_is_400(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.embed_content(model="gemini-embedding-001", contents=["x"] * 101)
    assert caught.value.code == 400
    assert "at most 100 requests can be in one batch" in caught.value.message


def test_out_of_range_temperature_is_400(client):
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=FLASH, contents="hi",
                                       config=types.GenerateContentConfig(temperature=2.5))
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")


# --- faults --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fault", "code", "status", "error_class"), [
    ("400", 400, "INVALID_ARGUMENT", errors.ClientError),
    ("badkey", 400, "INVALID_ARGUMENT", errors.ClientError),
    ("403", 403, "PERMISSION_DENIED", errors.ClientError),
    ("404", 404, "NOT_FOUND", errors.ClientError),
    ("429", 429, "RESOURCE_EXHAUSTED", errors.ClientError),
    ("500", 500, "INTERNAL", errors.ServerError),
    ("503", 503, "UNAVAILABLE", errors.ServerError),
    ("504", 504, "DEADLINE_EXCEEDED", errors.ServerError),
])
@pytest.mark.parametrize("streamed", [False, True])
def test_http_faults(client, fault, code, status, error_class, streamed):
    prompt = f"hi [emulator fault={fault} retry=3]"
    with pytest.raises(error_class) as caught:
        answer(client, prompt, streamed)
    assert (caught.value.code, caught.value.status) == (code, status)
    details = caught.value.details["error"]["details"]
    if fault == "429":
        assert {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "3s"} in details
    if fault == "badkey":
        assert details[0]["reason"] == "API_KEY_INVALID"


def test_midstream_fault_raises_after_the_first_chunks(client):
    chunks = client.models.generate_content_stream(model=FLASH, contents="[emulator fault=midstream code=503 after=2]")
    received = []
    with pytest.raises(errors.ServerError) as caught:
        collect(chunks, received)
    assert len(received) == 2
    assert all(chunk.text for chunk in received)
    assert (caught.value.code, caught.value.status) == (503, "UNAVAILABLE")
    with pytest.raises(errors.ServerError) as caught:
        client.models.generate_content(model=FLASH, contents="[emulator fault=midstream]")
    assert caught.value.code == 500


def test_drop_fault_breaks_the_connection(client, server):
    before = stats(server)
    chunks = client.models.generate_content_stream(model=FLASH, contents="[emulator fault=drop after=2]")
    received = []
    with pytest.raises(httpx2.RemoteProtocolError, match="incomplete chunked read"):
        collect(chunks, received)
    assert len(received) == 2
    with pytest.raises(httpx2.RemoteProtocolError):
        client.models.generate_content(model=FLASH, contents="[emulator fault=drop]")
    after = stats(server)
    assert after["streams_faulted"] - before["streams_faulted"] == 1
    assert after["streams_aborted"] == before["streams_aborted"]
    assert client.models.generate_content(model=FLASH, contents="still fine?").text


def test_block_fault_gives_prompt_feedback(client):
    response = client.models.generate_content(model=FLASH, contents="[emulator fault=block]")
    assert response.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    assert response.candidates is None
    assert response.text is None
    (chunk,) = stream(client, "[emulator fault=block]")
    assert chunk.prompt_feedback.block_reason == types.BlockedReason.SAFETY


def test_finish_safety_keeps_the_text_so_far(client):
    chunks = stream(client, "[emulator finish=SAFETY after=2 tokens=40]")
    assert len(chunks) == 2
    final = chunks[-1].candidates[0]
    assert final.finish_reason == types.FinishReason.SAFETY
    assert any(rating.blocked for rating in final.safety_ratings)
    response = client.models.generate_content(model=FLASH, contents="[emulator finish=SAFETY after=1]")
    assert response.usage_metadata.candidates_token_count == 4


def test_delay_directive_trips_the_client_timeout(client, server):
    impatient = sdk_client(server.url, timeout=200)
    with pytest.raises(httpx2.ReadTimeout):
        impatient.models.generate_content(model=FLASH, contents="[emulator delay=0.6]")


# --- auth ----------------------------------------------------------------------------------


def test_a_key_must_be_one_of_the_configured_ones_and_each_keys_calls_are_counted():
    with EmulatorServer(EmulatorConfig(api_keys=("key-one", "key-two"))) as locked:
        wrong = sdk_client(locked.url, key="wrong")
        with pytest.raises(errors.ClientError) as caught:
            wrong.models.generate_content(model=FLASH, contents="hi")
        assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
        assert caught.value.message == "API key not valid. Please pass a valid API key."
        assert caught.value.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
        clients = {key: sdk_client(locked.url, key=key) for key in ("key-one", "key-two")}
        for key in ("key-one", "key-two", "key-two"):
            assert clients[key].models.generate_content(model=FLASH, contents="hi").text
        counted = requests.get(f"{locked.url}/emulator/stats", timeout=5).json()["requests_by_key"]
        assert counted == {"key-one": 1, "key-two": 2}


def test_a_fault_can_hit_one_key_or_one_model_only():
    """A pool's view of Gemini: one key rate-limited, one model overloaded, the rest answering."""
    with EmulatorServer(EmulatorConfig(api_keys=("key-one", "key-two"))) as server:
        one, two = sdk_client(server.url, key="key-one"), sdk_client(server.url, key="key-two")
        limited = "hi [emulator fault=429 retry=30 apikey=key-one]"
        with pytest.raises(errors.ClientError) as caught:
            one.models.generate_content(model=FLASH, contents=limited)
        assert caught.value.code == 429
        retry = [d for d in caught.value.details["error"]["details"] if d["@type"].endswith("RetryInfo")]
        assert retry[0]["retryDelay"] == "30s"
        assert two.models.generate_content(model=FLASH, contents=limited).text
        overloaded = "hi [emulator fault=503 model=gemini-2.5-pro]"
        with pytest.raises(errors.ServerError) as down:
            one.models.generate_content(model="gemini-2.5-pro", contents=overloaded)
        assert down.value.code == 503
        assert one.models.generate_content(model=FLASH, contents=overloaded).text


def test_missing_key_is_403_and_query_key_or_any_version_prefix_works(server):
    body = {"contents": [{"parts": [{"text": "hi"}]}]}
    missing = requests.post(f"{server.url}/v1beta/models/{FLASH}:generateContent", json=body, timeout=5)
    assert missing.status_code == 403
    assert missing.json()["error"]["status"] == "PERMISSION_DENIED"
    for version in ("v1", "v1beta", "v1alpha"):
        ok = requests.post(f"{server.url}/{version}/models/{FLASH}:generateContent",
                           params={"key": "k"}, json=body, timeout=5)
        assert ok.status_code == 200, version
    bad_json = requests.post(f"{server.url}/v1beta/models/{FLASH}:generateContent",
                             params={"key": "k"}, data=b"{oops", timeout=5)
    assert bad_json.status_code == 400
    assert bad_json.json()["error"]["code"] == 400


# --- pace, disconnects, connections --------------------------------------------------------


def test_stream_chunks_arrive_as_they_are_produced(client):
    start = time.monotonic()
    arrivals = [time.monotonic() - start for _ in client.models.generate_content_stream(
        model=FLASH, contents="[emulator ttft=0.3 tps=40 tokens=16]")]
    assert len(arrivals) == 4
    assert 0.28 <= arrivals[0] < 0.5
    assert arrivals[-1] - arrivals[0] >= 0.25  # three gaps of 4 tokens at 40 tokens/s


def test_non_streamed_answers_honour_the_pace(client):
    start = time.monotonic()
    client.models.generate_content(model=FLASH, contents="[emulator ttft=0.1 tps=100 tokens=20]")
    assert time.monotonic() - start >= 0.29


def test_a_client_disconnect_stops_generation():
    with EmulatorServer(EmulatorConfig(tokens_per_second=40, chunk_tokens=4)) as slow:
        body = {"contents": [{"parts": [{"text": "[emulator tokens=400]"}]}]}
        response = requests.post(f"{slow.url}/v1beta/models/{FLASH}:streamGenerateContent",
                                 params={"alt": "sse"}, headers={"x-goog-api-key": "k"},
                                 json=body, stream=True, timeout=10)
        first = next(response.iter_lines())
        assert first.startswith(b"data: ")
        response.close()
        time.sleep(0.5)
        counters = stats(slow)
        assert counters["streams_started"] == 1
        assert counters["streams_aborted"] == 1
        assert counters["streams_completed"] == 0
        time.sleep(0.3)
        assert stats(slow)["tokens_generated"] == counters["tokens_generated"] < 40


def test_connections_are_kept_alive_across_requests(server):
    connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=5)
    body = json.dumps({"contents": [{"parts": [{"text": "[emulator tokens=9]"}]}]})
    sockets = []
    for method in ("generateContent", "streamGenerateContent?alt=sse", "countTokens"):
        connection.request("POST", f"/v1beta/models/{FLASH}:{method}", body=body,
                           headers={"x-goog-api-key": "k", "Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        assert not response.will_close
        response.read()
        sockets.append(connection.sock)
    assert sockets[0] is not None
    assert sockets.count(sockets[0]) == 3
    connection.close()


def test_concurrent_streams_from_one_client(client, server):
    before = stats(server)["streams_completed"]
    with ThreadPoolExecutor(8) as pool:
        texts = list(pool.map(lambda i: "".join(c.text for c in stream(
            client, f"[emulator tokens=12 tps=200] {i}")), range(8)))
    assert all(count_tokens(t) == 12 for t in texts)
    assert len(set(texts)) == 8
    assert stats(server)["streams_completed"] - before == 8


def test_cli_serves_and_exits_cleanly_on_sigterm():
    process = subprocess.Popen([sys.executable, "-m", "gemini_emulator", "--port", "0",
                                "--ttft", "0.1"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        match = re.search(r"Gemini emulator listening on (http://127\.0\.0\.1:\d+) \(", line)
        assert match, line
        assert requests.get(f"{match.group(1)}/emulator/stats", timeout=5).json()["requests"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
