"""The emulator's answers have the shape of recorded real Gemini traffic.

Shapes are compared structurally (key sets and value types at every level), through the WSGI
app and werkzeug's test client: no socket.
"""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from gemini_emulator import EmulatorConfig, count_tokens, create_emulator_app

RECORDINGS = Path(__file__).resolve().parents[1] / "data" / "recordings" / "gemini"
KEY = {"x-goog-api-key": "test-key"}
EVENT = re.compile(rb"data: (\{[^\r\n]*\})\r\n\r\n")


def shape(value: Any) -> Any:
    """Keys and types, recursively; lists are described by their first item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def load_chunks(path: Path) -> list[dict]:
    """Recorded chunks, whether stored as `data: ` SSE lines or as a JSON array."""
    text = path.read_text()
    if text.lstrip().startswith("["):
        return json.loads(text)
    return [json.loads(line[len("data: "):]) for line in text.splitlines()
            if line.startswith("data: ")]


@pytest.fixture
def client():
    return Client(create_emulator_app(EmulatorConfig(chunk_tokens=4)))


def generate(client: Client, prompt: str, stream: bool = False) -> Any:
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    response = client.post(f"/v1beta/models/gemini-2.5-flash:{method}", headers=KEY,
                           json={"contents": [{"parts": [{"text": prompt}], "role": "user"}]})
    assert response.status_code == 200
    if not stream:
        assert response.mimetype == "application/json"
        return response.get_json()
    assert response.mimetype == "text/event-stream"
    raw = response.get_data()
    # Nothing but `data: <json>` events: the SDK's parser rejects anything else.
    assert EVENT.sub(b"", raw) == b""
    return [json.loads(match) for match in EVENT.findall(raw)]


def test_non_streamed_answer_has_the_recorded_shape(client):
    recorded = json.loads((RECORDINGS / "text" / "response.json").read_text())
    ours = generate(client, "Say hello")
    assert shape(ours) == shape(recorded)
    assert ours["modelVersion"] == "gemini-2.5-flash"
    assert len(ours["responseId"]) == len(recorded["responseId"]) == 22


def test_single_chunk_stream_has_the_recorded_shape(client):
    (recorded,) = load_chunks(RECORDINGS / "streaming" / "response.txt")
    (ours,) = generate(client, "Count from 1 to 3 [emulator tokens=3]", stream=True)
    assert shape(ours) == shape(recorded)
    assert ours["candidates"][0]["finishReason"] == recorded["candidates"][0]["finishReason"]


def test_recorded_json_array_stream_matches_too(client):
    (recorded,) = load_chunks(RECORDINGS / "streaming" / "response-long.txt")
    (ours,) = generate(client, "Count [emulator tokens=4]", stream=True)
    assert shape(ours) == shape(recorded)


def test_long_stream_has_the_recorded_chunk_shapes_and_invariants(client):
    recorded = load_chunks(RECORDINGS / "streaming_long" / "response.json")
    ours = generate(client, "Write tetris [emulator tokens=40]", stream=True)
    assert len(recorded) > 2
    assert len(ours) == 10
    for chunks in (recorded, ours):
        assert shape(chunks[0]) == shape(recorded[0])  # a middle chunk: no finishReason
        assert shape(chunks[-1]) == shape(recorded[-1])  # the last: finishReason added
        assert ["finishReason" in c["candidates"][0] for c in chunks] == [False] * (
            len(chunks) - 1) + [True]
        assert len({c["responseId"] for c in chunks}) == 1
        assert len({c["modelVersion"] for c in chunks}) == 1
        usage = [c["usageMetadata"] for c in chunks]
        running = [u["candidatesTokenCount"] for u in usage]
        assert running == sorted(running)
        assert len(set(running)) == len(running)
        assert len({u["promptTokenCount"] for u in usage}) == 1
        assert len({u["thoughtsTokenCount"] for u in usage}) == 1
        assert all(u["totalTokenCount"] == u["promptTokenCount"] + u["candidatesTokenCount"]
                   + u["thoughtsTokenCount"] for u in usage)
    deltas = [c["candidates"][0]["content"]["parts"][0]["text"] for c in ours]
    assert [count_tokens(d) for d in deltas] == [4] * 10
    assert ours[-1]["usageMetadata"]["candidatesTokenCount"] == 40


def test_stamp_directive_puts_the_send_time_before_each_chunk_text(client):
    before = time.time()
    ours = generate(client, "Write tetris [emulator tokens=12 stamp=1]", stream=True)
    plain = generate(client, "Write tetris [emulator tokens=12]", stream=True)
    stamp = re.compile(r"^<<sent (\d+\.\d{6})>>")
    sent = []
    for stamped, unstamped in zip(ours, plain, strict=True):
        text = stamped["candidates"][0]["content"]["parts"][0]["text"]
        match = stamp.match(text)
        assert match, text
        assert text[match.end():] == unstamped["candidates"][0]["content"]["parts"][0]["text"]
        sent.append(float(match.group(1)))
    assert before <= sent[0]
    assert sent == sorted(sent)
    assert sent[-1] <= time.time()


def test_error_shape_is_googles(client):
    response = client.post("/v1beta/models/gemini-2.5-flash:generateContent", headers=KEY,
                           json={"contents": [{"parts": [{"text": "[emulator fault=503]"}]}]})
    assert response.status_code == 503
    assert shape(response.get_json()) == {"error": {"code": "int", "message": "str",
                                                    "status": "str", "details": []}}
    assert response.get_json()["error"]["status"] == "UNAVAILABLE"


def test_midstream_error_event_has_a_code_first_key_error(client):
    events = generate(client, "[emulator fault=midstream after=2 tokens=40]", stream=True)
    assert len(events) == 3
    assert list(events[-1]) == ["error"]
    assert events[-1]["error"]["code"] == 500
    assert events[-1]["error"]["status"] == "INTERNAL"
    assert all("finishReason" not in e["candidates"][0] for e in events[:2])


def test_model_list_items_have_the_real_fields(client):
    response = client.get("/v1beta/models", headers=KEY)
    models = response.get_json()["models"]
    flash = models[0]
    assert set(flash) == {"name", "version", "displayName", "description", "inputTokenLimit",
                          "outputTokenLimit", "supportedGenerationMethods", "temperature",
                          "topP", "topK", "maxTemperature", "thinking"}
    assert flash["supportedGenerationMethods"] == [
        "generateContent", "countTokens", "createCachedContent", "batchGenerateContent"]
    embedding = next(m for m in models if m["name"] == "models/gemini-embedding-001")
    assert "embedContent" in embedding["supportedGenerationMethods"]
    assert "nextPageToken" not in response.get_json()


def test_embed_content_and_count_tokens_shapes(client):
    content = {"parts": [{"text": "hello world"}]}
    single = client.post("/v1beta/models/text-embedding-004:embedContent", headers=KEY,
                         json={"content": content, "output_dimensionality": 5})
    assert single.status_code == 200
    assert shape(single.get_json()) == {"embedding": {"values": ["float"]}}
    assert len(single.get_json()["embedding"]["values"]) == 5
    counted = client.post("/v1beta/models/gemini-2.5-flash:countTokens", headers=KEY,
                          json={"contents": [content]})
    assert counted.get_json() == {"totalTokens": 2,
                                  "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 2}]}


# --- recorded tool and media traffic -------------------------------------------------------


def post_recorded(client: Client, name: str, model: str, stream: bool = False, **extra: Any):
    body = {**json.loads((RECORDINGS / name).read_text()), **extra}
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    return client.post(f"/v1beta/models/{model}:{method}", headers=KEY, json=body)


def without_args(value: Any) -> Any:
    """The shape of a body whose functionCall args (user data) are set aside."""
    if isinstance(value, dict):
        return {k: "args" if k == "args" else without_args(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_args(item) for item in value]
    return value


def test_function_call_stream_chunk_has_the_recorded_shape(client):
    (recorded,) = load_chunks(RECORDINGS / "streaming_function_calling" / "response_0.json")
    response = post_recorded(client, "streaming_function_calling/request_0.json", "gemini-2.5-flash",
                             stream=True, toolConfig={"functionCallingConfig": {"mode": "ANY"}})
    (ours,) = [json.loads(m) for m in EVENT.findall(response.get_data())]
    assert shape(without_args(ours)) == shape(without_args(recorded))
    args = ours["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]
    assert args["unit"] in ("celsius", "fahrenheit")
    assert isinstance(args["location"], str)


def test_the_recorded_follow_up_with_a_tool_role_is_accepted_and_quotes_the_result(client):
    response = post_recorded(client, "streaming_function_calling/request_1.json",
                             "gemini-2.5-flash", stream=True)
    assert response.status_code == 200
    chunks = [json.loads(m) for m in EVENT.findall(response.get_data())]
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text.startswith('getWeather returned {"location": "Tokyo", "unit": "celsius", '
                           '"temperature": 22, "condition": "Cloudy"}. ')
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    # The same history on a model that needs thought signatures is refused.
    refused = post_recorded(client, "streaming_function_calling/request_1.json",
                            "gemini-3-pro-preview", stream=True)
    assert refused.status_code == 400
    assert "function call `default_api:getWeather` , position 2" in (
        refused.get_json()["error"]["message"])


def test_the_recorded_function_calling_request_calls_search_by_name(client):
    body = post_recorded(client, "function_calling/request.json", "gemini-2.5-flash").get_json()
    recorded = json.loads((RECORDINGS / "function_calling" / "response.json").read_text())
    (part,) = body["candidates"][0]["content"]["parts"]
    assert part["functionCall"]["name"] == recorded["candidates"][0]["content"]["parts"][0][
        "functionCall"]["name"] == "search"
    assert isinstance(part["functionCall"]["args"]["query"], str)


@pytest.mark.parametrize(("name", "mime"), [("vision", "image/jpeg"), ("audio", "audio/wav")])
def test_recorded_media_requests_are_described(client, name, mime):
    request = json.loads((RECORDINGS / name / "request.json").read_text())
    size = len(base64.b64decode(request["contents"][0]["parts"][1]["inlineData"]["data"]))
    body = post_recorded(client, f"{name}/request.json", "gemini-2.5-flash").get_json()
    text = body["candidates"][0]["content"]["parts"][0]["text"]
    assert text.startswith(f"I received an {mime} of {size} bytes. ")
    modality = {"vision": "IMAGE", "audio": "AUDIO"}[name]
    assert {d["modality"] for d in body["usageMetadata"]["promptTokensDetails"]} == {"TEXT", modality}


def test_signature_counters_in_stats(client):
    tools = [{"functionDeclarations": [{"name": "lookup"}]}]
    first = client.post("/v1beta/models/gemini-3-pro-preview:generateContent", headers=KEY,
                        json={"contents": [{"parts": [{"text": "lookup"}]}], "tools": tools})
    call = first.get_json()["candidates"][0]["content"]
    reply = {"role": "user", "parts": [{"functionResponse": {"name": "lookup", "response": {}}}]}
    dummy = {"role": "model", "parts": [{"functionCall": {"name": "lookup", "args": {}},
                                         "thoughtSignature": "skip_thought_signature_validator"}]}
    for model_turn in (call, dummy, dummy):
        again = client.post("/v1beta/models/gemini-3-pro-preview:generateContent", headers=KEY,
                            json={"contents": [{"parts": [{"text": "lookup"}]}, model_turn, reply],
                                  "tools": tools})
        assert again.status_code == 200
    stats = client.get("/emulator/stats").get_json()
    assert (stats["signatures_issued"], stats["signatures_verified"], stats["signatures_dummy"]) == (
        1, 1, 2)
